"""The event board ranks participants by the mean of their normalized ranks across the exercises."""

from __future__ import annotations

import pytest
from django.urls import reverse

from grading.boards.ranking import Audience, Part, combined_board
from grading.boards.selectors import event_boards
from tests.builders.events import make_event, open_exercise
from tests.builders.people import person
from tests.builders.submissions import scored

pytestmark = [pytest.mark.django_db, pytest.mark.production_profile]


def test_the_mean_of_normalized_ranks_decides_and_a_missing_exercise_counts_as_last(django_assert_max_num_queries):
    event = make_event()
    first, second = open_exercise(event), open_exercise(event)
    ada, bob, cy = person(event, "Ada L"), person(event, "Bob M"), person(event, "Cy N")
    # First exercise: Ada 1st, Bob 2nd, Cy 3rd -> 0, 0.5, 1. Second: Bob 1st, Ada 2nd -> 0, 1; Cy absent -> 1.
    scored(first, ada, 0.9)
    scored(first, bob, 0.8)
    scored(first, cy, 0.7)
    scored(second, bob, 0.9)
    scored(second, ada, 0.6)
    with django_assert_max_num_queries(3):
        boards = event_boards(event, audience=Audience.PARTICIPANT)
    combined = combined_board(event, boards)
    assert [(r.name, r.mean_normalized_rank, r.ranks) for r in combined.rows] == [
        ("Bob M", 0.25, (2, 1)),
        ("Ada L", 0.5, (1, 2)),
        ("Cy N", 1.0, (3, None)),
    ]


def test_equal_means_go_to_whoever_had_their_counted_submissions_in_earlier():
    event = make_event()
    first, second = open_exercise(event), open_exercise(event)
    ada, bob = person(event, "Ada L"), person(event, "Bob M")
    scored(first, ada, 0.9)
    scored(second, bob, 0.9)
    scored(second, ada, 0.8)
    scored(first, bob, 0.8)
    combined = combined_board(event, event_boards(event, audience=Audience.PARTICIPANT))
    assert [r.name for r in combined.rows] == ["Ada L", "Bob M"]


def test_hidden_private_boards_are_left_out_of_the_combined_private_ranking_and_named(client):
    event = make_event()
    exercise_of_event = open_exercise(event)
    ada = person(event, "Ada L")
    scored(exercise_of_event, ada, 0.9)
    combined = combined_board(event, event_boards(event, audience=Audience.PARTICIPANT, part=Part.PRIVATE))
    assert combined.rows == () and combined.hidden_exercises == (exercise_of_event.exercise.title,)
    client.force_login(ada)
    page = client.get(reverse("grading:event_board", args=[event.slug])).content.decode()
    assert "Combined ranking" in page and "Ada L (you)" in page
