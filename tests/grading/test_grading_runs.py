"""A queued submission runs in the sandbox and ends scored, failed or invalid with the right reason, once."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from unittest import mock

import pytest
from django.utils import timezone

import sandbox
from grading import services
from grading.models import Submission
from tests.builders.events import open_event_exercise
from tests.builders.exercises import breast_cancer_exercise
from tests.builders.notebooks import CONSTANT_SCORES, FEATURE_SCORES, notebook_bytes
from tests.builders.people import participant_of

pytestmark = [pytest.mark.django_db, pytest.mark.production_profile]


def submitted(*cells: str, exercise=None, kind=Submission.Kind.GRADED) -> Submission:
    event_exercise = open_event_exercise(exercise)
    with mock.patch("grading.services.enqueue"):
        return services.submit_notebook(
            participant=participant_of(event_exercise),
            event_exercise=event_exercise,
            raw=notebook_bytes(*cells),
            kind=kind,
        )


def graded(submission: Submission) -> Submission:
    with mock.patch("grading.services.enqueue") as enqueue:
        services.grade_submission(submission.pk)
    submission.refresh_from_db()
    submission.enqueue_mock = enqueue  # type: ignore[attr-defined]
    return submission


def test_a_constant_score_is_scored_as_chance_on_both_parts_with_a_roc_picture(bwrap):
    submission = graded(submitted(CONSTANT_SCORES))
    assert submission.status == Submission.Status.SCORED, submission.message
    assert submission.score == 0.5 and submission.private_score == 0.5
    assert submission.reason == ""
    assert submission.attempts == 1 and submission.backend == "bwrap"
    assert "ROC AUC (area under the ROC curve) 0.5 on the public part" in submission.message
    images = submission.figures["images"]
    assert [image["file"] for image in images] == ["roc.png"]
    assert (services.results_dir(submission) / "roc.png").read_bytes().startswith(b"\x89PNG")
    assert submission.executed_notebook["cells"][0]["cell_type"] == "code"


def test_a_useful_feature_scores_well_above_chance(bwrap):
    submission = graded(submitted(FEATURE_SCORES))
    assert submission.status == Submission.Status.SCORED, submission.message
    assert submission.score > 0.85 and submission.private_score > 0.85


def test_an_exception_fails_the_submission_naming_the_failing_cell(bwrap):
    submission = graded(submitted("x = 1", "raise ValueError('the model diverged')", CONSTANT_SCORES))
    assert submission.status == Submission.Status.FAILED
    assert submission.reason == Submission.Reason.EXCEPTION
    assert submission.failed_cell == 1
    assert "the model diverged" in submission.traceback
    assert submission.message


def test_a_notebook_that_runs_too_long_fails_with_timeout(bwrap):
    exercise = breast_cancer_exercise(wall_seconds=6)
    submission = graded(submitted("while True:\n    pass", exercise=exercise))
    assert (submission.status, submission.reason) == (Submission.Status.FAILED, Submission.Reason.TIMEOUT)


def test_a_notebook_that_takes_too_much_memory_fails_with_memory(bwrap):
    exercise = breast_cancer_exercise(memory_mb=300)
    submission = graded(submitted("blocks = [bytearray(50 * 2**20) for _ in range(40)]", exercise=exercise))
    assert (submission.status, submission.reason) == (Submission.Status.FAILED, Submission.Reason.MEMORY)


def test_predictions_with_nan_are_invalid_with_a_clear_message(bwrap):
    bad = CONSTANT_SCORES.replace("0.5", "nan")
    submission = graded(submitted(bad))
    assert (submission.status, submission.reason) == (Submission.Status.INVALID, Submission.Reason.PREDICTIONS)
    assert "predictions.csv" in submission.message
    assert submission.score is None


def test_a_notebook_that_writes_nothing_is_invalid(bwrap):
    submission = graded(submitted("print('forgot to save')"))
    assert (submission.status, submission.reason) == (Submission.Status.INVALID, Submission.Reason.PREDICTIONS)


def test_a_check_run_scores_the_public_sample(bwrap):
    submission = graded(submitted(CONSTANT_SCORES, kind=Submission.Kind.CHECK))
    assert submission.status == Submission.Status.SCORED, submission.message
    assert submission.score == 0.5


def test_a_message_delivered_twice_runs_the_submission_once(bwrap):
    submission = submitted(CONSTANT_SCORES)
    graded(submission)
    finished_at = Submission.objects.get(pk=submission.pk).finished_at
    with mock.patch("grading.services.run_and_score") as run:
        services.grade_submission(submission.pk)
    assert not run.called
    again = Submission.objects.get(pk=submission.pk)
    assert (again.attempts, again.finished_at, again.status) == (1, finished_at, Submission.Status.SCORED)


def infrastructure_failure(*args, **kwargs) -> sandbox.Result:
    return sandbox.Result(outcome=sandbox.Outcome.INFRASTRUCTURE, duration_s=0.0, message="dockerd went away")


def test_a_platform_failure_is_retried_and_does_not_use_quota(settings, caplog):
    settings.GRADING_MAX_ATTEMPTS = 2
    submission = submitted(CONSTANT_SCORES)
    with mock.patch("sandbox.run_job", side_effect=infrastructure_failure):
        first = graded(submission)
        assert (first.status, first.attempts) == (Submission.Status.QUEUED, 1)
        first.enqueue_mock.assert_called_once()
        assert first.enqueue_mock.call_args.kwargs["countdown"] > 0
        second = graded(submission)
    assert (second.status, second.reason, second.attempts) == ("failed", "infrastructure", 2)
    assert "not your fault" in second.message and "dockerd" not in second.message
    assert "dockerd went away" in caplog.text  # the operators' log keeps what the sandbox said
    left = services.remaining_today(participant=second.participant, event_exercise=second.event_exercise)
    assert left == services.submissions_per_day(second.event_exercise)


def test_a_run_whose_worker_stopped_beating_is_taken_over_and_the_old_result_dropped(settings):
    submission = submitted(CONSTANT_SCORES)
    stale = timezone.now() - dt.timedelta(seconds=settings.GRADING_STALE_SECONDS + 5)
    Submission.objects.filter(pk=submission.pk).update(status="running", attempts=1, heartbeat_at=stale)
    taken = services.claim(submission.pk)
    assert taken is not None and taken.attempts == 2
    services._finish(taken, 1, services.Grading(status="scored", message="from the dead worker"))
    assert Submission.objects.get(pk=submission.pk).status == Submission.Status.RUNNING
    services._finish(taken, 2, services.Grading(status="failed", reason="exception", message="from the new worker"))
    final = Submission.objects.get(pk=submission.pk)
    assert (final.status, final.message) == ("failed", "from the new worker")


def test_a_live_run_is_not_taken_over():
    submission = submitted(CONSTANT_SCORES)
    Submission.objects.filter(pk=submission.pk).update(status="running", attempts=1, heartbeat_at=timezone.now())
    assert services.claim(submission.pk) is None


def test_the_reaper_requeues_dead_runs_and_lost_messages_but_not_live_ones(settings):
    dead, lost, live, fresh = (submitted(CONSTANT_SCORES) for _ in range(4))
    now = timezone.now()
    Submission.objects.filter(pk=dead.pk).update(status="running", heartbeat_at=now - dt.timedelta(hours=1))
    Submission.objects.filter(pk=lost.pk).update(queued_at=now - dt.timedelta(hours=1))
    Submission.objects.filter(pk=live.pk).update(status="running", heartbeat_at=now)
    with mock.patch("grading.services.enqueue") as enqueue:
        requeued = services.requeue_stuck_submissions(now)
    assert sorted(requeued) == sorted([dead.pk, lost.pk])
    assert {call.args[0].pk for call in enqueue.call_args_list} == {dead.pk, lost.pk}
    assert Submission.objects.get(pk=dead.pk).status == Submission.Status.QUEUED
    assert Submission.objects.get(pk=live.pk).status == Submission.Status.RUNNING
    assert Submission.objects.get(pk=fresh.pk).queued_at == fresh.queued_at


def test_results_never_land_in_the_private_data_folder(bwrap, settings):
    submission = graded(submitted(CONSTANT_SCORES))
    private = Path(settings.PRIVATE_DATA_ROOT)
    assert not any(private in p.parents for p in services.results_dir(submission).rglob("*"))
