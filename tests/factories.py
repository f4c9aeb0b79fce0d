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
