"""Attacks on the features of issues 19 and 20: values no form offers, sent to announcements and extensions."""

from __future__ import annotations

import datetime as dt
import io
from typing import Any
from unittest import mock

import pytest
from django.test import Client
from django.utils import timezone

from grading import extensions
from grading.models import Certificate, ReleasedNotebook, Submission
from hackathon.models import EventExercise, Extension, Group
from tests.api.conftest import client_of
from tests.builders.events import make_event, open_event_exercise
from tests.builders.exercises import make_exercise
from tests.builders.notebooks import CONSTANT_SCORES, notebook_bytes
from tests.builders.people import make_organizer, make_participant, make_tutor

pytestmark = pytest.mark.django_db


def signed_in(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.mark.parametrize("error", ["not-a-uuid", "x" * 5000, "00000000-0000-0000-0000-00000000000Z", "a\x00b"])
def test_an_error_id_that_is_no_submission_id_finds_no_audience_rather_than_failing(error):
    event = make_event()
    organizer = make_organizer(event)

    client = signed_in(organizer)
    page = client.get(f"/events/{event.slug}/announcements/new/", {"error": error})
    sent = client.post(
        f"/events/{event.slug}/announcements/new/",
        {"title": "Hi", "body": "Read this.", "audience": "error", "error": error},
    )

    assert page.status_code in (400, 404) and sent.status_code in (400, 404)  # NUL is refused before the view
    assert not event.announcements.exists()


@pytest.mark.parametrize("until", ["0001-01-01T00:30", "9999-12-31T23:59", "2026-03-29T02:30", "2026-13-45T25:61"])
def test_an_extension_to_a_moment_out_of_range_or_that_does_not_exist_is_refused_with_a_sentence(until):
    event = make_event()
    now = timezone.now()
    event_exercise = EventExercise.objects.create(
        event=event, exercise=make_exercise(), opens_at=now - dt.timedelta(days=1), closes_at=now
    )
    participant = make_participant(event)
    organizer = make_organizer(event)
    registration = event.registrations.get(user=participant)

    response = signed_in(organizer).post(
        f"/events/{event.slug}/extensions/",
        {"exercise": event_exercise.pk, "participant": registration.pk, "until": until, "reason": "A lost train."},
    )

    assert response.status_code == 400
    assert not Extension.objects.exists()


def test_a_tutor_cannot_announce_to_a_group_of_another_tutor_by_posting_its_id():
    event = make_event()
    now = timezone.now()
    event_exercise = EventExercise.objects.create(
        event=event, exercise=make_exercise(), opens_at=now - dt.timedelta(days=1), closes_at=now
    )
    mine = Group.objects.create(event=event, event_exercise=event_exercise, number=1)
    theirs = Group.objects.create(event=event, event_exercise=event_exercise, number=2)
    tutor = make_tutor(event)
    mine.tutors.add(tutor)
    other = make_participant(event)
    event.registrations.filter(user=other).update(group=theirs)

    for audience, extra in (
        ("groups", {"groups": theirs.pk}),
        ("event", {}),
        ("exercise", {"exercise": event_exercise.pk}),
    ):
        response = signed_in(tutor).post(
            f"/events/{event.slug}/announcements/new/",
            {"title": "Hi", "body": "Stop now.", "audience": audience, **extra},
        )
        assert response.status_code == 400, audience
    assert not event.announcements.exists()


def test_a_notebook_sent_without_an_event_never_lands_in_the_other_edition_while_an_extension_runs():
    """Found case: with the exercise open in edition B and closed in A, where the person had an extension, the API
    picked B by the exercises' own windows, and the notebook meant for A under the extension was recorded in B."""
    now = timezone.now()
    first = open_event_exercise(opens_at=now - dt.timedelta(days=2), closes_at=now - dt.timedelta(hours=1))
    second = open_event_exercise(first.exercise)
    person = make_participant(first.event)
    make_participant(second.event, person)
    extensions.grant_extension(
        actor=make_organizer(first.event),
        event_exercise=first,
        until=now + dt.timedelta(hours=2),
        reason="A lost train.",
        participant=person,
    )
    notebook = io.BytesIO(notebook_bytes(CONSTANT_SCORES))
    notebook.name = "solution.ipynb"

    with mock.patch("grading.services.enqueue"):
        response = client_of(person).post(
            "/api/v1/submissions/", {"exercise": first.exercise.slug, "notebook": notebook}, format="multipart"
        )

    assert response.status_code == 400 and "name the event" in str(response.json())
    assert not Submission.objects.exists()


def test_an_organizer_of_another_event_reaches_nothing_of_this_one_through_their_own_pages():
    """Ids of event Y posted to the pages of event X, whose organizer is the attacker: each is not found or refused."""
    now = timezone.now()
    mine = open_event_exercise(opens_at=now - dt.timedelta(days=2), closes_at=now - dt.timedelta(hours=1))
    theirs = open_event_exercise(
        mine.exercise, opens_at=now - dt.timedelta(days=2), closes_at=now - dt.timedelta(hours=1)
    )
    EventExercise.objects.filter(pk=theirs.pk).update(reference_gate=EventExercise.Gate.MISSED)
    attacker = signed_in(make_organizer(mine.event))
    victim = make_participant(theirs.event)
    registration = theirs.event.registrations.get(user=victim)
    group = Group.objects.create(event=theirs.event, event_exercise=theirs, number=1)
    certificate = Certificate.objects.create(event=theirs.event, participant=victim, name="V", statement="V")
    x, y = mine.event.slug, theirs.event.slug

    granted = attacker.post(
        f"/events/{x}/extensions/",
        {"exercise": theirs.pk, "participant": registration.pk, "group": group.pk, "until": "2099-01-01T10:00"},
    )
    revoked = attacker.post(f"/events/{x}/certificates/{certificate.pk}/revoke/", {"reason": "Mine now."})
    read = attacker.get(f"/events/{x}/certificates/{certificate.pk}/")
    opened = attacker.post(f"/events/{y}/exercises/{theirs.exercise.slug}/open-despite-gate/", {"reason": "Go."})
    released = attacker.post(f"/events/{y}/exercises/{theirs.exercise.slug}/debrief/release/", {"what": "reference"})

    assert granted.status_code == 400 and revoked.status_code == 404 and read.status_code == 404
    assert opened.status_code in (403, 404) and released.status_code in (403, 404)
    assert not Extension.objects.exists() and not ReleasedNotebook.objects.exists()
    certificate.refresh_from_db()
    theirs.refresh_from_db()
    assert certificate.revoked_at is None and theirs.held_by_gate and not theirs.gate_override
