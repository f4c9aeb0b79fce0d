"""When the identity provider cannot be reached or sends the person back with an error, they read what to do next."""

from __future__ import annotations

import socket

import pytest
from django.urls import reverse

from tests.builders.people import make_user

pytestmark = [pytest.mark.django_db, pytest.mark.production_profile]


def _closed_port() -> int:
    """Return a local port nothing listens on: connecting to it is refused at once, as by an issuer that is down."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture
def issuer_down(settings) -> None:  # type: ignore[no-untyped-def]
    settings.OIDC_ISSUER = f"http://127.0.0.1:{_closed_port()}"
    settings.OIDC_PROVIDER_NAME = "INFN AAI"
    settings.SOCIALACCOUNT_PROVIDERS = {
        "openid_connect": {
            "APPS": [
                {
                    "provider_id": "infn-aai",
                    "name": "INFN AAI",
                    "client_id": "hackathon",
                    "secret": "s3cret",
                    "settings": {"server_url": settings.OIDC_ISSUER},
                }
            ]
        }
    }


@pytest.mark.parametrize("process", ["login", "connect"])
def test_an_issuer_that_cannot_be_reached_gets_a_sentence_not_a_500(client, issuer_down, process) -> None:  # type: ignore[no-untyped-def]
    client.raise_request_exception = False
    if process == "connect":
        client.force_login(make_user())
    page = client.post(reverse("openid_connect_login", args=["infn-aai"]) + f"?process={process}")
    assert page.status_code == 502
    text = page.content.decode()
    assert "INFN AAI cannot be reached" in text
    assert "Try again in a few minutes" in text
    assert reverse("account_login") in text


def test_an_error_from_the_issuer_says_what_to_do_next(client, issuer_down) -> None:  # type: ignore[no-untyped-def]
    page = client.get(reverse("openid_connect_callback", args=["infn-aai"]) + "?error=server_error&state=unknown")
    assert page.status_code == 401
    text = page.content.decode()
    assert "you are not signed in" in text
    assert "Try again" in text
