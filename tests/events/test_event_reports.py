"""Organizers read a report with charts and CSV; participants leave feedback; editions are compared."""

from __future__ import annotations

import csv
import datetime as dt
import io

import pytest
from django.urls import reverse
from django.utils import timezone

from hackathon import services
from hackathon.models import Feedback
from hackathon.services import RegistrationDetails
from tests.builders.events import make_event
from tests.builders.people import make_organizer, make_participant, make_user

pytestmark = [pytest.mark.django_db, pytest.mark.production_profile]


def running_event():  # type: ignore[no-untyped-def]
    today = timezone.localdate()
    now = timezone.now()
    return make_event(
        starts_on=today - dt.timedelta(days=1),
        ends_on=today + dt.timedelta(days=1),
        registration_opens_at=now - dt.timedelta(days=20),
        registration_closes_at=now + dt.timedelta(hours=1),
    )


def register(event, affiliation: str, stage: str):  # type: ignore[no-untyped-def]
    details = RegistrationDetails(affiliation=affiliation, career_stage=stage, ml_experience="basic")
    return services.register(event=event, user=make_user(), details=details)


def test_a_participant_leaves_feedback_once_the_event_has_begun(client):
    event = running_event()
    person = make_participant(event)
    client.force_login(person)
    response = client.post(
        reverse("hackathon:feedback", args=[event.slug]),
        {"rating": "4", "went_well": "The tutors", "suggestions": "More GPU time"},
        follow=True,
    )
    assert "your feedback is saved" in response.content.decode()
    assert Feedback.objects.get(event=event, user=person).rating == 4


def test_feedback_is_closed_before_the_event_and_to_non_participants(client):
    upcoming = make_event()
    client.force_login(make_participant(upcoming))
    assert client.get(reverse("hackathon:feedback", args=[upcoming.slug])).status_code == 403
    event = running_event()
    client.force_login(make_user())
    assert client.post(reverse("hackathon:feedback", args=[event.slug]), {"rating": "5"}).status_code == 403
    assert not Feedback.objects.exists()


def test_the_report_charts_structures_career_stages_and_summarizes_feedback(client):
    event = running_event()
    register(event, "pisa", "phd")
    register(event, "pisa", "student")
    first = register(event, "bari", "phd")
    services.give_feedback(event=event, user=first.user, rating=5, went_well="Hands-on sessions", suggestions="")
    client.force_login(make_organizer(event))
    page = client.get(reverse("hackathon:report", args=[event.slug])).content.decode()
    assert "<svg" in page and 'aria-label="Participants by structure"' in page
    assert "Sezione di Pisa</th><td>2" in page
    assert "PhD student</th><td>2" in page
    assert "1 answer, average rating 5.0 out of 5" in page
    assert "Hands-on sessions" in page


def test_the_report_csv_holds_every_chart_count(client):
    event = running_event()
    register(event, "lnf", "postdoc")
    client.force_login(make_organizer(event))
    response = client.get(reverse("hackathon:report_csv", args=[event.slug]))
    rows = list(csv.reader(io.StringIO(response.content.decode())))
    assert rows[0] == ["chart", "category", "count"]
    assert ["Participants by structure", "Laboratori Nazionali di Frascati", "1"] in rows
    assert ["Participants by career stage", "Postdoc", "1"] in rows


def test_the_report_is_for_organizers_only(client):
    event = running_event()
    client.force_login(make_participant(event))
    assert client.get(reverse("hackathon:report", args=[event.slug])).status_code == 403
    assert client.get(reverse("hackathon:report_csv", args=[event.slug])).status_code == 403


def test_the_report_loads_the_grading_section_by_url_name(client):
    event = make_event()
    client.force_login(make_organizer(event))
    page = client.get(reverse("hackathon:report", args=[event.slug])).content.decode()
    assert f'hx-get="{reverse("grading:event_report_grading", args=[event.slug])}"' in page


def test_the_cross_edition_view_counts_participants_per_edition(client):
    today = timezone.localdate()
    first = make_event(
        title="First base", starts_on=today - dt.timedelta(days=700), ends_on=today - dt.timedelta(days=698)
    )
    second = make_event(
        title="Second base", starts_on=today - dt.timedelta(days=300), ends_on=today - dt.timedelta(days=298)
    )
    for _ in range(3):
        make_participant(first)
    make_participant(second)
    make_participant(second, status="cancelled")
    client.force_login(make_organizer(second))
    page = client.get(reverse("hackathon:editions")).content.decode()
    assert page.index("First base") < page.index("Second base")
    assert "First base (" in page
    assert "<td>3</td>" in page and "<td>1</td>" in page


def test_the_cross_edition_view_is_closed_to_participants(client):
    event = make_event()
    client.force_login(make_participant(event))
    assert client.get(reverse("hackathon:editions")).status_code == 403
