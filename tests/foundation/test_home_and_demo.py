"""The demo data load once with printed passwords, and the home page lists the events after login."""

from __future__ import annotations

import re
from io import StringIO

import pytest
from django.core.management import call_command
from django.urls import reverse

from hackathon import demo
from hackathon.models import Event
from tests.builders.events import make_event

pytestmark = [pytest.mark.django_db, pytest.mark.production_profile]


def load_demo_output() -> str:
    out = StringIO()
    call_command("load_demo", stdout=out)
    return out.getvalue()


def test_the_demo_prints_each_account_and_its_password_once():
    first = load_demo_output()
    assert demo.ORGANIZER in first
    assert all(email in first for email in demo.TUTORS + demo.PARTICIPANTS)
    second = load_demo_output()
    assert "already loaded" in second
    assert demo.ORGANIZER not in second


def test_the_demo_holds_a_base_online_event_of_60_and_an_advanced_in_person_event_of_30():
    load_demo_output()
    base = Event.objects.get(slug="base-online")
    advanced = Event.objects.get(slug="advanced-pisa")
    assert (base.level, base.mode, base.capacity, base.participants_per_tutor) == ("base", "online", 60, 5)
    assert (advanced.level, advanced.mode, advanced.capacity, advanced.participants_per_tutor) == (
        "advanced",
        "in_person",
        30,
        1,
    )


def test_a_demo_participant_signs_in_with_the_printed_password_and_sees_the_demo_events(client):
    output = load_demo_output()
    email = demo.PARTICIPANTS[0]
    password = re.search(re.escape(email) + r"\s+(\S+)", output).group(1)
    response = client.post(reverse("account_login"), {"login": email, "password": password}, follow=True)
    assert response.status_code == 200
    page = response.content.decode()
    assert "ML_INFN base hackathon (online)" in page
    assert "ML_INFN advanced hackathon (Pisa)" in page
    assert "participant" in page


def test_the_home_page_hides_unpublished_events_from_visitors(client):
    make_event(title="Open edition")
    make_event(title="Draft edition", published=False)
    page = client.get(reverse("hackathon:home")).content.decode()
    assert "Open edition" in page
    assert "Draft edition" not in page


def test_an_event_page_shows_its_details_and_a_missing_one_is_404(client):
    event = make_event(title="Autumn school", venue="Firenze")
    assert "Autumn school" in client.get(event.get_absolute_url()).content.decode()
    assert client.get(reverse("hackathon:event_detail", kwargs={"slug": "no-such-event"})).status_code == 404
