"""The next run a worker takes is the fairest queued submission of its queue, not simply the oldest message."""

from __future__ import annotations

import random
from unittest import mock

import pytest
from django.utils import timezone

from exercises.models import Exercise
from grading import dispatch, selectors, services
from grading.models import Submission
from hackathon.models import Group, Registration
from tests.builders.events import open_event_exercise
from tests.builders.exercises import make_exercise
from tests.builders.notebooks import CONSTANT_SCORES, notebook_bytes
from tests.builders.people import make_participant

pytestmark = [pytest.mark.django_db, pytest.mark.production_profile]


def submit(event_exercise, participant, kind=Submission.Kind.GRADED) -> Submission:
    with mock.patch("grading.services.enqueue"):
        return services.submit_notebook(
            participant=participant, event_exercise=event_exercise, raw=notebook_bytes(CONSTANT_SCORES), kind=kind
        )


def claims(tokens: list[Submission]) -> list[int]:
    """Hand each message to a worker in turn; return the submissions they took, in order."""
    taken = []
    for token in tokens:
        submission = services.claim_next(token.pk)
        if submission is not None:
            taken.append(submission.pk)
    return taken


def finish(pk: int) -> None:
    Submission.objects.filter(pk=pk).update(status=Submission.Status.SCORED, finished_at=timezone.now())


def test_one_participant_with_ten_queued_does_not_hold_up_five_others_with_one_each(settings):
    settings.SUBMISSIONS_PER_DAY = 20
    event_exercise = open_event_exercise()
    heavy = make_participant(event_exercise.event)
    mine = [submit(event_exercise, heavy) for _ in range(10)]
    others = [submit(event_exercise, make_participant(event_exercise.event)) for _ in range(5)]
    order = claims(mine + others)
    # The heavy participant's first was alone and oldest; then everyone else with nothing in flight goes first.
    assert order[:6] == [mine[0].pk] + [s.pk for s in others]
    assert sorted(order) == sorted(s.pk for s in mine + others)  # every message ran exactly one submission
    assert services.claim_next(mine[0].pk) is None  # a message delivered again finds nothing left


def test_runs_that_just_finished_count_as_the_participant_s_share_too(settings):
    settings.SUBMISSIONS_PER_DAY = 20
    event_exercise = open_event_exercise()
    heavy, light = make_participant(event_exercise.event), make_participant(event_exercise.event)
    first = submit(event_exercise, heavy)
    assert claims([first]) == [first.pk]
    finish(first.pk)
    second = submit(event_exercise, heavy)
    other = submit(event_exercise, light)
    assert claims([second, other]) == [other.pk, second.pk]


def test_among_participants_with_equal_runs_the_group_with_fewer_runs_goes_first(settings):
    event_exercise = open_event_exercise()
    event = event_exercise.event
    team = Group.objects.create(event=event, event_exercise=event_exercise, number=1)
    busy_mate, in_busy_team, alone = (make_participant(event) for _ in range(3))
    Registration.objects.filter(event=event, user__in=[busy_mate, in_busy_team]).update(group=team)
    running = submit(event_exercise, busy_mate)
    assert claims([running]) == [running.pk]
    older = submit(event_exercise, in_busy_team)
    younger = submit(event_exercise, alone)
    assert claims([older, younger]) == [younger.pk, older.pk]


def test_free_check_runs_cannot_starve_graded_runs():
    event_exercise = open_event_exercise()
    event = event_exercise.event
    checks = [submit(event_exercise, make_participant(event), Submission.Kind.CHECK) for _ in range(6)]
    graded = [submit(event_exercise, make_participant(event)) for _ in range(3)]
    order = claims(checks + graded)
    kinds = ["graded" if pk in {s.pk for s in graded} else "check" for pk in order]
    # Older check runs from as many participants wait their turn: graded runs get every other slot.
    assert kinds == ["graded", "check", "graded", "check", "graded", "check", "check", "check", "check"]


def test_a_message_runs_only_submissions_whose_exercise_has_its_time_limit():
    short = open_event_exercise(make_exercise())
    long = open_event_exercise(make_exercise(), event=short.event)
    Exercise.objects.filter(pk=long.exercise_id).update(wall_seconds=short.exercise.wall_seconds * 3)
    long.refresh_from_db()
    waiting = submit(short, make_participant(short.event))
    token = submit(long, make_participant(short.event))
    assert services.claim_next(token.pk).pk == token.pk
    assert services.claim_next(token.pk) is None  # the task's time limit, set for the long one, is not the other's
    assert Submission.objects.get(pk=waiting.pk).status == Submission.Status.QUEUED


def test_the_rule_prefers_graded_runs_once_check_runs_have_their_share():
    queued = [dispatch.Queued(1, 10, None, "check"), dispatch.Queued(2, 11, None, "graded")]
    assert dispatch.fairest(queued, [dispatch.Recent(12, None, "graded")]).id == 1
    assert dispatch.fairest(queued, [dispatch.Recent(12, None, "check")]).id == 2
    only_checks = [dispatch.Queued(1, 10, None, "check")]
    assert dispatch.fairest(only_checks, [dispatch.Recent(12, None, "check")]).id == 1  # nothing to starve
    assert dispatch.fairest([], []) is None


def test_the_queue_position_people_see_is_the_order_the_workers_take(settings):
    settings.SUBMISSIONS_PER_DAY = 20
    event_exercise = open_event_exercise()
    heavy = make_participant(event_exercise.event)
    mine = [submit(event_exercise, heavy) for _ in range(4)]
    others = [submit(event_exercise, make_participant(event_exercise.event)) for _ in range(3)]
    shown = {s.pk: selectors.queue_position(Submission.objects.get(pk=s.pk)) for s in mine + others}
    assert shown[others[0].pk] == 2  # behind the heavy participant's first only, not behind all four
    order = claims(mine + others)
    assert [shown[pk] for pk in order] == list(range(1, 8))
    assert selectors.queue_position(Submission.objects.get(pk=order[0])) is None  # running: no longer waiting


def test_the_queue_position_follows_the_check_runs_share_too():
    event_exercise = open_event_exercise()
    event = event_exercise.event
    checks = [submit(event_exercise, make_participant(event), Submission.Kind.CHECK) for _ in range(3)]
    graded = [submit(event_exercise, make_participant(event)) for _ in range(2)]
    shown = {s.pk: selectors.queue_position(Submission.objects.get(pk=s.pk)) for s in checks + graded}
    order = claims(checks + graded)
    assert [shown[pk] for pk in order] == list(range(1, 6))


def test_the_fair_order_is_the_rule_applied_again_and_again():
    rng = random.Random(22)
    for _ in range(200):
        queued = [
            dispatch.Queued(pk, rng.randrange(6), rng.choice([None, 100, 101]), rng.choice(["check", "graded"]))
            for pk in range(1, rng.randrange(1, 25))
        ]
        kinds = ["check", "graded"]
        recent = [
            dispatch.Recent(rng.randrange(6), rng.choice([None, 100]), rng.choice(kinds), rng.random() < 0.9)
            for _ in range(rng.randrange(6))
        ]
        expected, waiting, seen = [], list(queued), list(recent)
        while waiting:
            chosen = dispatch.fairest(waiting, seen)
            expected.append(chosen)
            waiting.remove(chosen)
            seen.append(dispatch.Recent(chosen.participant_id, chosen.group_id, chosen.kind))
        assert dispatch.fair_order(queued, recent) == expected
        if expected:
            middle = expected[len(expected) // 2]
            assert dispatch.fair_order(queued, recent, until=middle.id) == expected[: len(expected) // 2 + 1]
