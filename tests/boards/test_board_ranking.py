"""Each exercise's board ranks participants' best scores, rounded, earlier first on ties, with groups and targets."""

from __future__ import annotations

import pytest

from exercises.models import Exercise
from grading.boards.ranking import Audience, Part, Ranking, RowKind
from grading.boards.selectors import exercise_board
from grading.models import Disqualification, Submission
from hackathon.models import Group
from tests.builders.events import make_event, open_exercise
from tests.builders.exercises import make_exercise
from tests.builders.people import person
from tests.builders.submissions import scored

pytestmark = [pytest.mark.django_db, pytest.mark.production_profile]


@pytest.fixture
def exercise_of_event():  # type: ignore[no-untyped-def]
    return open_exercise(make_event())


def names(board) -> list[str]:  # type: ignore[no-untyped-def]
    return [row.name for row in board.ranked]


def test_the_public_board_ranks_each_participants_best_score_once(exercise_of_event):
    event = exercise_of_event.event
    ada, bob, cy = person(event, "Ada L"), person(event, "Bob M"), person(event, "Cy N")
    scored(exercise_of_event, ada, 0.70)
    scored(exercise_of_event, ada, 0.91)
    scored(exercise_of_event, bob, 0.85)
    scored(exercise_of_event, cy, 0.60)
    scored(exercise_of_event, ada, 0.80)
    board = exercise_board(exercise_of_event, audience=Audience.PARTICIPANT)
    assert names(board) == ["Ada L", "Bob M", "Cy N"]
    assert [(row.rank, row.score, row.submissions) for row in board.ranked] == [(1, 0.91, 3), (2, 0.85, 1), (3, 0.6, 1)]


def test_scores_are_shown_rounded_and_equal_shown_scores_go_to_the_earlier_submission(exercise_of_event, settings):
    settings.BOARD_DECIMALS = 2
    event = exercise_of_event.event
    early, late = person(event, "Early Bird"), person(event, "Late Comer")
    scored(exercise_of_event, early, 0.8812)
    scored(exercise_of_event, late, 0.8849)  # better unrounded, equal as shown: the earlier one wins
    board = exercise_board(exercise_of_event, audience=Audience.PARTICIPANT)
    assert names(board) == ["Early Bird", "Late Comer"]
    assert [row.score for row in board.ranked] == [0.88, 0.88]


def test_a_lower_is_better_metric_ranks_the_smallest_loss_first():
    exercise = make_exercise()
    Exercise.objects.filter(pk=exercise.pk).update(
        metric="reconstruction_loss", direction="lower", target_baseline=0.5, target_reference=0.1
    )
    exercise.refresh_from_db()
    event_exercise = open_exercise(make_event(), exercise)
    a, b = person(event_exercise.event, "Ann A"), person(event_exercise.event, "Ben B")
    scored(event_exercise, a, 0.30)
    scored(event_exercise, b, 0.12)
    scored(event_exercise, a, 0.35)
    board = exercise_board(event_exercise, audience=Audience.PARTICIPANT)
    assert [(row.name, row.score) for row in board.ranked] == [("Ben B", 0.12), ("Ann A", 0.3)]
    kinds = [row.kind for row in board.rows]
    assert kinds == [RowKind.REFERENCE, RowKind.PARTICIPANT, RowKind.PARTICIPANT, RowKind.BASELINE]


def test_check_runs_unscored_and_disqualified_submissions_stay_off_the_board(exercise_of_event):
    event = exercise_of_event.event
    ada, bob = person(event, "Ada L"), person(event, "Bob M")
    scored(exercise_of_event, ada, 0.99, kind=Submission.Kind.CHECK)
    scored(exercise_of_event, ada, None, status=Submission.Status.FAILED, reason=Submission.Reason.TIMEOUT)
    scored(exercise_of_event, ada, 0.70)
    cheat = scored(exercise_of_event, bob, 0.98)
    scored(exercise_of_event, bob, 0.65)
    Disqualification.objects.create(submission=cheat, reason="Hard-coded the labels.")
    board = exercise_board(exercise_of_event, audience=Audience.PARTICIPANT)
    assert [(row.name, row.score) for row in board.ranked] == [("Ada L", 0.7), ("Bob M", 0.65)]


def test_the_group_board_ranks_each_group_by_its_best_member(exercise_of_event):
    event = exercise_of_event.event
    one = Group.objects.create(event=event, event_exercise=exercise_of_event, number=1)
    two = Group.objects.create(event=event, event_exercise=exercise_of_event, number=2)
    scored(exercise_of_event, person(event, "A One", group=one), 0.70)
    scored(exercise_of_event, person(event, "B One", group=one), 0.80)
    scored(exercise_of_event, person(event, "C Two", group=two), 0.90)
    scored(exercise_of_event, person(event, "No Group"), 0.95)
    board = exercise_board(exercise_of_event, audience=Audience.PARTICIPANT, ranking=Ranking.GROUPS)
    assert [(row.rank, row.group_number, row.score) for row in board.ranked] == [(1, 2, 0.9), (2, 1, 0.8)]
    assert board.ranked[1].name == "Group 1 (2 on the board, best: B One)"


def test_baseline_and_reference_rows_show_the_targets_unranked_where_they_fall(exercise_of_event):
    event = exercise_of_event.event  # the factory's targets: baseline 0.5, reference 0.9
    scored(exercise_of_event, person(event, "Top T"), 0.95)
    scored(exercise_of_event, person(event, "Mid M"), 0.70)
    board = exercise_board(exercise_of_event, audience=Audience.PARTICIPANT)
    assert [(row.rank, row.kind, row.score) for row in board.rows] == [
        (1, RowKind.PARTICIPANT, 0.95),
        (None, RowKind.REFERENCE, 0.9),
        (2, RowKind.PARTICIPANT, 0.7),
        (None, RowKind.BASELINE, 0.5),
    ]
    assert board.rows[1].name == "Reference solution (the exercise's target)"
    assert board.rows[3].name == "Baseline (the score to beat)", "the target is named on its own row only"


@pytest.mark.parametrize("per_person", [2, 8])
def test_the_board_takes_the_same_few_queries_whatever_its_size(
    exercise_of_event, django_assert_max_num_queries, per_person
):
    event = exercise_of_event.event
    group = Group.objects.create(event=event, event_exercise=exercise_of_event, number=1)
    for i in range(12):
        someone = person(event, f"P {i}", group=group if i % 2 else None)
        for j in range(per_person):
            scored(exercise_of_event, someone, 0.5 + 0.01 * i + 0.001 * j)
    for part in Part:
        for ranking in Ranking:
            with django_assert_max_num_queries(3):
                board = exercise_board(exercise_of_event, audience=Audience.ORGANIZER, part=part, ranking=ranking)
            assert board.ranked
    with django_assert_max_num_queries(3):
        board = exercise_board(exercise_of_event, audience=Audience.ORGANIZER)
    assert len(board.ranked) == 12 and board.ranked[0].submissions == per_person
