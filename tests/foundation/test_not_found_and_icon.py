"""People meet the site's own 404 page, even in the development demo, and every page names the site's icon."""

from __future__ import annotations

import pytest
from django.urls import reverse

from tests.builders.events import make_event
from tests.builders.people import make_user

pytestmark = pytest.mark.django_db

FRIENDLY = "hackathon.middleware.FriendlyNotFoundMiddleware"


@pytest.fixture
def demo_debug(settings):  # type: ignore[no-untyped-def]
    """Run as `make run` does: DEBUG on, with the friendly 404 middleware the settings add then."""
    settings.DEBUG = True
    if FRIENDLY not in settings.MIDDLEWARE:
        settings.MIDDLEWARE = [*settings.MIDDLEWARE, FRIENDLY]
    return settings


def test_a_mistyped_address_in_the_demo_shows_the_site_page_not_the_debug_page(client, demo_debug):
    response = client.get("/no/such/page/")
    page = response.content.decode()
    assert response.status_code == 404
    assert "This page is not here" in page and "Using the URLconf" not in page
    assert 'href="/"' in page


def test_an_object_outside_ones_reach_says_why_in_the_demo(client, demo_debug):
    client.force_login(make_user())
    response = client.get(reverse("hackathon:event_detail", args=["no-such-event"]))
    assert response.status_code == 404
    assert "This page is not here" in response.content.decode()


def test_the_api_keeps_answering_its_404s_in_json(client, demo_debug):
    response = client.get("/api/v1/no/such/endpoint/")
    assert response.status_code == 404 and response["Content-Type"].startswith("application/json")


def test_a_forbidden_page_says_why_in_the_site_layout(client):
    event = make_event()
    client.force_login(make_user())
    page = client.get(reverse("hackathon:registrations", args=[event.slug])).content.decode()
    assert "You may not open this page" in page and "Only the event&#x27;s organizers can open this page." in page


def test_every_page_names_the_icon_and_favicon_ico_leads_to_it(client):
    assert 'rel="icon"' in client.get("/").content.decode()
    response = client.get("/favicon.ico")
    assert response.status_code == 301 and response["Location"].endswith("favicon.svg")
