"""Small builder functions for test data: each test says what it needs."""

from __future__ import annotations

import datetime as dt
import itertools

from allauth.account.models import EmailAddress
from django.contrib.auth import get_user_model
from django.utils import timezone

from hackathon.models import Event, EventRole, Registration

_numbers = itertools.count(1)
PASSWORD = "correct-horse-battery-staple"


def make_user(email: str | None = None, *, staff: bool = False, verified: bool = True, password: str = PASSWORD):
    """Create a person who can sign in with email and password."""
    n = next(_numbers)
    email = email or f"person{n}@example.org"
    user = get_user_model().objects.create_user(
        username=f"{email.split('@')[0]}-{n}", email=email, password=password, is_staff=staff
    )
    EmailAddress.objects.create(user=user, email=email, verified=verified, primary=True)
    return user


def make_event(**fields) -> Event:
    """Create an open base event unless told otherwise."""
    n = next(_numbers)
    now = timezone.now()
    today = timezone.localdate()
    defaults = {
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


def make_organizer(event: Event, user=None):
    user = user or make_user()
    EventRole.objects.create(event=event, user=user, role=EventRole.Role.ORGANIZER)
    return user


def make_tutor(event: Event, user=None):
    user = user or make_user()
    EventRole.objects.create(event=event, user=user, role=EventRole.Role.TUTOR)
    return user


def make_participant(event: Event, user=None, *, status: str = Registration.Status.CONFIRMED):
    user = user or make_user()
    Registration.objects.create(event=event, user=user, status=status)
    return user


def make_exercise(slug: str | None = None, *, labels: dict[str, list[str]] | None = None):
    """Create a catalog exercise row (no bundle on disk) carrying the given labels per dimension."""
    from exercises.models import Exercise, Label

    n = next(_numbers)
    slug = slug or f"exercise-{n}"
    exercise = Exercise.objects.create(
        slug=slug,
        title=slug.replace("-", " ").title(),
        summary="An exercise for tests.",
        description="An exercise for tests.",
        levels=["base", "advanced"],
        metric="roc_auc",
        direction="higher",
        output_kind="predictions_csv",
        device="cpu",
        wall_seconds=60,
        memory_mb=512,
        processes=8,
        cpus=1.0,
        target_reference=0.9,
        target_baseline=0.5,
        bundle_path=f"/nonexistent/{slug}",
    )
    for dimension, names in (labels or {}).items():
        for name in names:
            exercise.labels.add(Label.objects.get_or_create(dimension=dimension, name=name)[0])
    return exercise


def open_exercise(event: Event, exercise=None, **labels: list[str]):
    """Open an exercise (a use case) in the event for its whole duration."""
    from hackathon.models import EventExercise

    exercise = exercise or make_exercise(labels=labels or None)
    now = timezone.now()
    return EventExercise.objects.create(
        event=event, exercise=exercise, opens_at=now - dt.timedelta(days=1), closes_at=now + dt.timedelta(days=30)
    )
