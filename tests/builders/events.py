"""Builders of events and the exercises they open."""

from __future__ import annotations

import datetime as dt
import itertools
from typing import Any

from django.utils import timezone

from exercises.models import Exercise
from hackathon.models import Event, EventExercise, Group
from tests.builders.exercises import breast_cancer_exercise, make_exercise

_numbers = itertools.count(1)


def make_event(**fields: Any) -> Event:
    """Create an open base event (registration open, starting in a week) unless told otherwise."""
    n = next(_numbers)
    now = timezone.now()
    today = timezone.localdate()
    defaults: dict[str, Any] = {
        "title": f"Hackathon {n}",
        "slug": f"hackathon-{n}",
        "level": Event.Level.BASE,
        "mode": Event.Mode.ONLINE,
        "starts_on": today + dt.timedelta(days=7),
        "ends_on": today + dt.timedelta(days=9),
        "registration_opens_at": now - dt.timedelta(days=1),
        "registration_closes_at": now + dt.timedelta(days=5),
        "capacity": 60,
        "participants_per_tutor": 5,
        "compute": Event.Compute.CPU,
    }
    defaults.update(fields)
    return Event.objects.create(**defaults)


def open_exercise(
    event: Event | None = None,
    exercise: Exercise | None = None,
    *,
    labels: dict[str, list[str]] | None = None,
    opened: dt.timedelta = dt.timedelta(days=1),
    closes_in: dt.timedelta = dt.timedelta(days=30),
    **fields: Any,
) -> EventExercise:
    """Open an exercise in the event (a new one by default), opened `opened` ago and closing in `closes_in`.

    The exercise defaults to a catalog row with the given labels per dimension; `fields` set other EventExercise
    fields, `opens_at` and `closes_at` included.
    """
    now = timezone.now()
    values: dict[str, Any] = {"opens_at": now - opened, "closes_at": now + closes_in, **fields}
    return EventExercise.objects.create(
        event=event or make_event(), exercise=exercise or make_exercise(labels=labels), **values
    )


def open_event_exercise(exercise: Exercise | None = None, **fields: Any) -> EventExercise:
    """Open the breast-cancer exercise (or `exercise`) in a new event since an hour ago, for a day: for real runs."""
    return open_exercise(
        fields.pop("event", None),
        exercise or breast_cancer_exercise(),
        opened=dt.timedelta(hours=1),
        closes_in=dt.timedelta(days=1),
        **fields,
    )


def make_groups(event_exercise: EventExercise, *tutors: Any) -> list[Group]:
    """Create groups 1, 2, ... on the exercise, the n-th led by the n-th tutor."""
    groups = []
    for number, tutor in enumerate(tutors, start=1):
        group = Group.objects.create(event=event_exercise.event, event_exercise=event_exercise, number=number)
        group.tutors.add(tutor)
        groups.append(group)
    return groups
