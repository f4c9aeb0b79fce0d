"""Builders of small, named events with their people: the API tests' cast and the tutoring tests' setting."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from hackathon.models import Event, EventExercise, Group, Registration
from tests.builders.events import make_event, make_groups, open_exercise
from tests.builders.people import join, make_organizer, make_participant, make_tutor, make_user


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
    """Create the API tests' cast; `event_fields` set the event's fields."""
    event = make_event(**event_fields)
    event_exercise = open_exercise(event)
    alice, bob = make_participant(event), make_participant(event)
    tutor, other_tutor = make_tutor(event), make_tutor(event)
    first, second = make_groups(event_exercise, tutor, other_tutor)
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


@dataclass
class Setting:
    """Group 1 (ada, bob; tutor tina) and group 2 (cy; tutor tom) on one open exercise; ungrouped dee."""

    event: Event
    event_exercise: EventExercise
    group: Group
    other_group: Group
    ada: Any
    bob: Any
    cy: Any
    dee: Any
    tutor: Any
    other_tutor: Any
    organizer: Any
    stranger: Any


def make_setting() -> Setting:
    """Create the tutoring tests' setting, every person named by address."""
    event = make_event()
    event_exercise = open_exercise(event)
    tutor, other_tutor = (
        make_tutor(event, make_user("tina@example.org")),
        make_tutor(event, make_user("tom@example.org")),
    )
    group, other_group = make_groups(event_exercise, tutor, other_tutor)
    return Setting(
        event=event,
        event_exercise=event_exercise,
        group=group,
        other_group=other_group,
        ada=join(event, group, "ada@example.org"),
        bob=join(event, group, "bob@example.org"),
        cy=join(event, other_group, "cy@example.org"),
        dee=join(event, None, "dee@example.org"),
        tutor=tutor,
        other_tutor=other_tutor,
        organizer=make_organizer(event, make_user("olga@example.org")),
        stranger=make_user("sam@example.org"),
    )
