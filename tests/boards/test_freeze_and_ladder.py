"""Near the end the public board freezes for participants, and Ladder mode shows only significant gains."""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone

from grading.boards.ranking import Audience, ladder_score
from grading.boards.selectors import exercise_board
from grading.models import BoardSettings
from hackathon.models import EventExercise
from tests.builders.events import make_event, open_exercise
from tests.builders.people import make_organizer, make_tutor, person
from tests.builders.submissions import scored

pytestmark = [pytest.mark.django_db, pytest.mark.production_profile]


@pytest.fixture
def frozen():  # type: ignore[no-untyped-def]
    """An exercise closing in 30 minutes whose board froze 60 minutes before the end; Bob overtook after it."""
    event_exercise = open_exercise(make_event())
    now = timezone.now()
    EventExercise.objects.filter(pk=event_exercise.pk).update(closes_at=now + dt.timedelta(minutes=30))
    event_exercise.refresh_from_db()
    BoardSettings.objects.create(event_exercise=event_exercise, freeze_minutes=60)
    event = event_exercise.event
    ada, bob = person(event, "Ada L"), person(event, "Bob M")
    scored(event_exercise, ada, 0.80, at=now - dt.timedelta(hours=3))
    scored(event_exercise, bob, 0.70, at=now - dt.timedelta(hours=2))
    scored(event_exercise, bob, 0.95, at=now - dt.timedelta(minutes=10))
    return event_exercise, ada, bob


def test_participants_see_the_board_as_it_was_at_the_freeze(frozen):
    event_exercise, *_ = frozen
    board = exercise_board(event_exercise, audience=Audience.PARTICIPANT)
    assert board.frozen
    assert [(row.name, row.score) for row in board.ranked] == [("Ada L", 0.8), ("Bob M", 0.7)]


def test_a_revealed_board_is_never_shown_as_frozen(client, frozen):
    event_exercise, ada, _ = frozen
    BoardSettings.objects.filter(event_exercise=event_exercise).update(revealed_at=timezone.now())
    board = exercise_board(event_exercise, audience=Audience.PARTICIPANT)
    assert not board.frozen
    assert [(row.name, row.score) for row in board.ranked] == [("Bob M", 0.95), ("Ada L", 0.8)]
    client.force_login(ada)
    page = client.get(reverse("grading:exercise_board", args=[event_exercise.event.slug, event_exercise.exercise.slug]))
    text = page.content.decode()
    assert "frozen since" not in text and "freezes for participants" not in text
    assert "frozen no more" in text
    client.force_login(make_organizer(event_exercise.event))
    organizer_page = client.get(reverse("grading:organizer_boards", args=[event_exercise.event.slug])).content.decode()
    assert "participants see it frozen" not in organizer_page


def test_organizers_still_see_the_live_board(frozen):
    event_exercise, *_ = frozen
    board = exercise_board(event_exercise, audience=Audience.ORGANIZER)
    assert not board.frozen
    assert [(row.name, row.score) for row in board.ranked] == [("Bob M", 0.95), ("Ada L", 0.8)]


@pytest.mark.parametrize("role", ["participant", "tutor", "organizer"])
def test_the_page_says_the_board_is_frozen_to_everyone_but_organizers(client, frozen, role):
    event_exercise, ada, _ = frozen
    viewer = {"participant": ada, "tutor": None, "organizer": None}[role]
    if role == "tutor":
        viewer = make_tutor(event_exercise.event)
    if role == "organizer":
        viewer = make_organizer(event_exercise.event)
    client.force_login(viewer)
    page = client.get(reverse("grading:exercise_board", args=[event_exercise.event.slug, event_exercise.exercise.slug]))
    text = page.content.decode()
    assert page.status_code == 200
    if role == "organizer":
        assert "You see the live board" in text and "0.9500" in text
    else:
        assert "The board is frozen since" in text and "0.9500" not in text


def test_the_ladder_shows_a_new_best_only_when_it_beats_the_shown_score_by_the_step():
    scores = [0.800, 0.805, 0.809, 0.812, 0.830, 0.834]
    # 0.805 and 0.809 gain less than 0.01 over 0.80; 0.812 gains 0.012 and shows as 0.81; 0.830 shows 0.83.
    assert ladder_score(scores, step=0.01, higher=True) == (0.83, 4)
    assert ladder_score([0.30, 0.295, 0.27], step=0.01, higher=False) == (0.27, 2)
    assert ladder_score([], step=0.01, higher=True) is None


def test_the_ladder_board_documents_its_rule_and_hides_small_gains_from_participants(client):
    event_exercise = open_exercise(make_event())
    BoardSettings.objects.create(event_exercise=event_exercise, ladder=True, ladder_step=0.02)
    ada = person(event_exercise.event, "Ada L")
    scored(event_exercise, ada, 0.800)
    scored(event_exercise, ada, 0.815)
    participants = exercise_board(event_exercise, audience=Audience.PARTICIPANT)
    organizers = exercise_board(event_exercise, audience=Audience.ORGANIZER)
    assert participants.ranked[0].score == 0.8
    assert organizers.ranked[0].score == 0.815
    client.force_login(ada)
    page = client.get(reverse("grading:exercise_board", args=[event_exercise.event.slug, event_exercise.exercise.slug]))
    assert "Ladder mode</strong> (Blum and Hardt, 2015)" in page.content.decode()
    assert "beats your shown score by more than 0.02" in page.content.decode()
