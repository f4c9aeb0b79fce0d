"""Builders of people: accounts that can sign in, and the roles they hold in an event."""

from __future__ import annotations

import itertools
from typing import Any

from allauth.account.models import EmailAddress
from django.contrib.auth import get_user_model

from hackathon.models import Event, EventExercise, EventRole, Group, Registration

_numbers = itertools.count(1)
PASSWORD = "correct-horse-battery-staple"


def make_user(email: str | None = None, *, staff: bool = False, verified: bool = True, password: str = PASSWORD):  # type: ignore[no-untyped-def]
    """Create a person who can sign in with email and password."""
    n = next(_numbers)
    email = email or f"person{n}@example.org"
    user = get_user_model().objects.create_user(
        username=f"{email.split('@')[0]}-{n}", email=email, password=password, is_staff=staff
    )
    EmailAddress.objects.create(user=user, email=email, verified=verified, primary=True)
    return user


def make_organizer(event: Event, user: Any = None) -> Any:
    """Make `user` (a new person by default) an organizer of the event."""
    user = user or make_user()
    EventRole.objects.create(event=event, user=user, role=EventRole.Role.ORGANIZER)
    return user


def make_tutor(event: Event, user: Any = None) -> Any:
    """Make `user` (a new person by default) a tutor of the event."""
    user = user or make_user()
    EventRole.objects.create(event=event, user=user, role=EventRole.Role.TUTOR)
    return user


def make_participant(event: Event, user: Any = None, *, status: str = Registration.Status.CONFIRMED) -> Any:
    """Register `user` (a new person by default) in the event, confirmed unless told otherwise."""
    user = user or make_user()
    Registration.objects.create(event=event, user=user, status=status)
    return user


def participant_of(event_exercise: EventExercise) -> Any:
    """Register a new confirmed participant in the event that opens the exercise."""
    return make_participant(event_exercise.event)


def join(event: Event, group: Group | None, email: str | None = None) -> Any:
    """Register a new confirmed participant (with that address, if given) and put them in the group (or none)."""
    user = make_participant(event, make_user(email))
    Registration.objects.filter(event=event, user=user).update(group=group)
    return user


def person(event: Event, name: str, *, group: Group | None = None) -> Any:
    """Register a confirmed participant the boards show by name ("First Last"), in the group if given."""
    first, _, last = name.partition(" ")
    user = make_user()
    user.first_name, user.last_name = first, last
    user.save(update_fields=["first_name", "last_name"])
    make_participant(event, user)
    if group is not None:
        Registration.objects.filter(event=event, user=user).update(group=group)
    return user
