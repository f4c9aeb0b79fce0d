"""Advanced events can ask for a base event attended or declared experience, with a clear refusal."""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone

from hackathon import services
from hackathon.errors import RegistrationRefused
from hackathon.models import Event
from hackathon.services import RegistrationDetails
from tests.builders.events import make_event
from tests.builders.people import make_participant, make_user

pytestmark = [pytest.mark.django_db, pytest.mark.production_profile]


def advanced_event():  # type: ignore[no-untyped-def]
    return make_event(level=Event.Level.ADVANCED, capacity=30, participants_per_tutor=1, requires_prerequisite=True)


def details(experience: str) -> RegistrationDetails:
    return RegistrationDetails(affiliation="lnf", career_stage="postdoc", ml_experience=experience)


def test_a_newcomer_without_experience_is_refused_with_the_reason_and_what_to_do(client):
    event = advanced_event()
    client.force_login(make_user())
    response = client.post(
        reverse("hackathon:register", args=[event.slug]),
        {
            "first_name": "Ada",
            "last_name": "L",
            "affiliation": "lnf",
            "career_stage": "postdoc",
            "ml_experience": "none",
        },
        follow=True,
    )
    page = response.content.decode()
    assert "attended a base hackathon" in page
    assert "next base event" in page
    assert not event.registrations.exists()


def test_declared_experience_meets_the_prerequisite():
    registration = services.register(event=advanced_event(), user=make_user(), details=details("basic"))
    assert registration.status == "confirmed"


def test_a_base_event_attended_before_meets_the_prerequisite():
    today = timezone.localdate()
    earlier = make_event(starts_on=today - dt.timedelta(days=200), ends_on=today - dt.timedelta(days=198))
    person = make_participant(earlier)
    registration = services.register(event=advanced_event(), user=person, details=details("none"))
    assert registration.status == "confirmed"


def test_a_base_event_only_registered_for_but_not_confirmed_does_not_count():
    today = timezone.localdate()
    earlier = make_event(starts_on=today - dt.timedelta(days=200), ends_on=today - dt.timedelta(days=198))
    person = make_participant(earlier, status="cancelled")
    with pytest.raises(RegistrationRefused):
        services.register(event=advanced_event(), user=person, details=details("none"))


def test_an_advanced_event_without_the_requirement_lets_anyone_in():
    event = make_event(level=Event.Level.ADVANCED, requires_prerequisite=False)
    assert services.register(event=event, user=make_user(), details=details("none")).status == "confirmed"
