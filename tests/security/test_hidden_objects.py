"""Every list starts from what the person may see: a hidden object of each kind appears in no page or API answer.

Seeded beside the world: organizer_a's unpublished event (with an exercise, a participant who is in no other event,
and participant_a's registration and submission there) and an unpublished catalog exercise. Every page, fragment,
JSON answer and CSV export the authorization table lets each person open is read, and the hidden names must not be
in it, except for those who may see them: the unpublished event's organizer and site staff.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from django.db import transaction
from django.test import Client
from django.utils import timezone

from exercises.models import Exercise
from grading.models import Submission
from hackathon.models import EventExercise, Registration
from tests.builders.events import make_event
from tests.builders.exercises import make_exercise
from tests.builders.people import make_organizer, make_participant, make_user
from tests.builders.world import World
from tests.security.test_authorization_matrix import ROLES, read, readable_outputs

pytestmark = [pytest.mark.django_db, pytest.mark.production_profile]

HIDDEN_EVENT = "Quokka Secret Edition"
HIDDEN_EXERCISE = "quokka-unlisted"
HIDDEN_PERSON = "quokka.person@example.org"
MAY_SEE_THE_EVENT = {"organizer_a", "staff"}


@dataclass(frozen=True)
class Hidden:
    event_slug: str


@pytest.fixture
def hidden(world: World) -> Iterator[Hidden]:
    """Seed one hidden object of each kind, for this test only."""
    with transaction.atomic():
        event = make_event(title=HIDDEN_EVENT, slug="quokka-secret", published=False)
        make_organizer(event, world.people["organizer_a"])
        now = timezone.now()
        event_exercise = EventExercise.objects.create(
            event=event,
            exercise=world.exercise_a.exercise,
            opens_at=now - timezone.timedelta(days=1),
            closes_at=now + timezone.timedelta(days=1),
        )
        make_participant(event, make_user(HIDDEN_PERSON))
        make_participant(event, world.people["participant_a"])
        Submission.objects.create(
            event_exercise=event_exercise,
            participant=world.people["participant_a"],
            status=Submission.Status.SCORED,
            score=0.5,
            notebook="submissions/quokka.ipynb",
        )
        exercise = make_exercise(HIDDEN_EXERCISE)
        Exercise.objects.filter(pk=exercise.pk).update(published=False)
        yield Hidden(event_slug=event.slug)
        transaction.set_rollback(True)


def _lists(world: World, role: str) -> list[str]:
    # The table's outputs name event A's objects; these lists span events, exercises, registrations, submissions.
    return [
        *readable_outputs(world, role),
        "/",
        "/editions/",
        "/exercises/",
        "/api/v1/events/",
        "/api/v1/exercises/",
        "/api/v1/registrations/",
        "/api/v1/submissions/",
    ]


@pytest.mark.parametrize("role", ROLES)
def test_a_hidden_event_exercise_and_person_appear_in_no_output_of_those_who_may_not_see_them(
    world: World, clients: dict[str, Client], hidden: Hidden, role: str
) -> None:
    hidden_names = [HIDDEN_EXERCISE, "Quokka Unlisted"]
    if role not in MAY_SEE_THE_EVENT:
        hidden_names += [HIDDEN_EVENT, hidden.event_slug, HIDDEN_PERSON]
    leaks = {}
    for path in _lists(world, role):
        text = read(clients[role], path)
        found = [name for name in hidden_names if name in text]
        if found:
            leaks[path] = found
    assert not leaks, f"Hidden objects reach {role}: {leaks}"


def test_the_cross_edition_report_counts_another_organizers_unpublished_event_for_nobody_else(
    clients: dict[str, Client], hidden: Hidden
) -> None:
    # The found case: organizer_b saw organizer_a's unpublished edition and its counts.
    assert HIDDEN_EVENT not in read(clients["organizer_b"], "/editions/")
    assert HIDDEN_EVENT in read(clients["organizer_a"], "/editions/")
    assert HIDDEN_EVENT in read(clients["staff"], "/editions/")


def test_a_participant_registered_in_an_unpublished_event_lists_neither_it_nor_their_work_there(
    clients: dict[str, Client], hidden: Hidden
) -> None:
    registrations = clients["participant_a"].get("/api/v1/registrations/").json()["results"]
    submissions = clients["participant_a"].get("/api/v1/submissions/").json()["results"]
    assert hidden.event_slug not in {row["event"] for row in registrations}
    assert hidden.event_slug not in {row["event"] for row in submissions}
    assert Registration.objects.filter(event__slug=hidden.event_slug).count() == 2  # they are there, just hidden
