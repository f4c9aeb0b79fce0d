"""Builders for API tests: an event with one exercise row and its people, and submissions made directly."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django.utils import timezone

from grading.models import Submission
from hackathon.models import Event, EventExercise, Group, Registration
from tests.factories import make_event, make_organizer, make_participant, make_tutor, make_user, open_exercise


@dataclass(frozen=True)
class Cast:
    """An event with one exercise, two participants in two groups, a tutor for the first group, an organizer."""

    event: Event
    event_exercise: EventExercise
    alice: Any
    bob: Any
    tutor: Any
    other_tutor: Any
    organizer: Any
    outsider: Any


def make_cast(**event_fields: Any) -> Cast:
    event = make_event(**event_fields)
    event_exercise = open_exercise(event)
    alice, bob = make_participant(event), make_participant(event)
    tutor, other_tutor = make_tutor(event), make_tutor(event)
    first = Group.objects.create(event=event, event_exercise=event_exercise, number=1)
    second = Group.objects.create(event=event, event_exercise=event_exercise, number=2)
    first.tutors.add(tutor)
    second.tutors.add(other_tutor)
    Registration.objects.filter(event=event, user=alice).update(group=first)
    Registration.objects.filter(event=event, user=bob).update(group=second)
    return Cast(
        event=event,
        event_exercise=event_exercise,
        alice=alice,
        bob=bob,
        tutor=tutor,
        other_tutor=other_tutor,
        organizer=make_organizer(event),
        outsider=make_user(),
    )


def scored_submission(event_exercise: EventExercise, participant: Any, **fields: Any) -> Submission:
    """Record a finished submission directly, as grading would have left it."""
    now = timezone.now()
    values: dict[str, Any] = {
        "event_exercise": event_exercise,
        "participant": participant,
        "status": Submission.Status.SCORED,
        "score": 0.8125,
        "private_score": 0.7,
        "message": "Scored.",
        "queued_at": now - dt.timedelta(minutes=2),
        "finished_at": now,
        "duration_s": 12.0,
    }
    values.update(fields)
    return Submission.objects.create(**values)
