"""Which existing account a first sign-in through the identity provider opens (hackathon/sign_on.py).

The browser journey (tests/e2e/test_single_sign_on_journey.py) proves it against a live issuer; these prove the rule
on each database, where comparing addresses regardless of case is the database's work.
"""

from __future__ import annotations

import pytest
from allauth.socialaccount.adapter import get_adapter
from allauth.socialaccount.models import SocialLogin
from django.test import RequestFactory

from tests.builders.people import make_user

pytestmark = [pytest.mark.django_db, pytest.mark.production_profile]


@pytest.fixture(autouse=True)
def _provider(settings) -> None:  # type: ignore[no-untyped-def]
    settings.SOCIALACCOUNT_PROVIDERS = {
        "openid_connect": {
            "APPS": [
                {
                    "provider_id": "infn-aai",
                    "name": "INFN AAI",
                    "client_id": "hackathon",
                    "secret": "s3cret",
                    "settings": {"server_url": "https://iam.example.org"},
                }
            ]
        }
    }


def first_sign_in(email: str, *, verified: bool) -> SocialLogin:
    """Build what the issuer's answer becomes, and look up the account it opens, as allauth does on the callback."""
    request = RequestFactory().get("/accounts/oidc/infn-aai/login/callback/")
    provider = get_adapter(request).get_provider(request, "infn-aai")
    login = provider.sociallogin_from_response(
        request, {"userinfo": {"sub": "issuer-42", "email": email, "email_verified": verified}}
    )
    login.lookup()
    return login


def test_an_address_confirmed_by_the_issuer_and_the_site_opens_the_account_that_holds_it() -> None:
    owner = make_user("anna.bianchi@infn.example.org", verified=True)
    assert first_sign_in("anna.bianchi@infn.example.org", verified=True).user == owner


def test_the_address_matches_whatever_its_case() -> None:
    owner = make_user("anna.bianchi@infn.example.org", verified=True)
    assert first_sign_in("Anna.Bianchi@INFN.example.org", verified=True).user == owner


def test_an_address_the_issuer_has_not_confirmed_opens_no_account() -> None:
    owner = make_user("anna.bianchi@infn.example.org", verified=True)
    login = first_sign_in("anna.bianchi@infn.example.org", verified=False)
    assert login.user != owner
    assert not login.is_existing


def test_an_address_the_site_has_not_confirmed_opens_no_account() -> None:
    holder = make_user("anna.bianchi@infn.example.org", verified=False)
    login = first_sign_in("anna.bianchi@infn.example.org", verified=True)
    assert login.user != holder
    assert not login.is_existing
    holder.refresh_from_db()
    assert holder.has_usable_password()  # nothing was done to the account either


def test_another_address_opens_no_account() -> None:
    make_user("anna.bianchi@infn.example.org", verified=True)
    assert not first_sign_in("maria.rossi@infn.example.org", verified=True).is_existing
