"""What a participant's notebook or files cause is theirs, never a platform failure; a clean stop is not an error."""

from __future__ import annotations

from unittest import mock

import pytest
from django.conf import settings
from django.db import DataError

import sandbox
from grading import services
from grading.models import Submission
from grading.services import remaining_today
from tests.builders.notebooks import CONSTANT_SCORES
from tests.grading.test_grading_runs import graded, submitted

pytestmark = [pytest.mark.django_db, pytest.mark.production_profile]


@pytest.mark.parametrize("stop", ["sys.exit(0)", "sys.exit()", "sys.exit(None)", "raise SystemExit"])
def test_a_notebook_that_stops_cleanly_is_scored_on_what_it_wrote(bwrap, stop):
    submission = graded(submitted(CONSTANT_SCORES, f"import sys\n{stop}", "raise RuntimeError('never reached')"))
    assert submission.status == Submission.Status.SCORED, submission.message
    assert submission.score == 0.5


@pytest.mark.parametrize(
    ("stop", "shown"), [("sys.exit(1)", "sys.exit(1)"), ("sys.exit('data missing')", "data missing")]
)
def test_a_notebook_that_exits_with_a_failure_fails_that_cell_saying_so(bwrap, stop, shown):
    submission = graded(submitted(CONSTANT_SCORES, f"import sys\n{stop}"))
    assert (submission.status, submission.reason, submission.failed_cell) == ("failed", "exception", 1)
    assert shown in submission.message


def test_an_unexpected_error_while_scoring_a_participant_s_files_is_theirs_and_runs_once(bwrap):
    submission = submitted(CONSTANT_SCORES)
    with mock.patch("grading.services.evaluate", side_effect=ValueError("odd file")):
        submission = graded(submission)
    assert (submission.status, submission.reason, submission.attempts) == ("invalid", "predictions", 1)
    assert "could not be scored (ValueError)" in submission.message
    assert not submission.enqueue_mock.called  # type: ignore[attr-defined]
    left = remaining_today(participant=submission.participant, event_exercise=submission.event_exercise)
    assert left == settings.SUBMISSIONS_PER_DAY - 1


def test_a_platform_failure_on_the_last_attempt_promises_no_further_run(bwrap, settings):
    settings.GRADING_MAX_ATTEMPTS = 2
    submission = submitted(CONSTANT_SCORES)
    broken = sandbox.Result(outcome=sandbox.Outcome.INFRASTRUCTURE, message="engine gone", duration_s=0.0)
    with mock.patch("grading.services.sandbox.run_job", return_value=broken):
        first = graded(submission)
        assert first.status == Submission.Status.QUEUED and "run again shortly" in first.message
        final = graded(first)
    assert (final.status, final.reason, final.attempts) == ("failed", "infrastructure", 2)
    assert "will not be run again" in final.message and "run again shortly" not in final.message
    assert "2 times" in final.message
    left = remaining_today(participant=final.participant, event_exercise=final.event_exercise)
    assert left == settings.SUBMISSIONS_PER_DAY  # the platform's failures never use quota


def test_a_final_write_that_the_database_refuses_still_ends_the_run(bwrap):
    submission = submitted(CONSTANT_SCORES)
    real_update = Submission.objects.none().__class__.update
    calls = []

    def refuse_the_full_result(queryset, **fields):  # type: ignore[no-untyped-def]
        calls.append(set(fields))
        if "executed_notebook" in fields:
            raise DataError("unsupported Unicode escape sequence")
        return real_update(queryset, **fields)

    with mock.patch.object(type(Submission.objects.none()), "update", refuse_the_full_result):
        final = graded(submission)
    assert final.status == Submission.Status.SCORED and final.score == 0.5
    assert "could not be stored" in final.message
    assert any("executed_notebook" in fields for fields in calls)


def test_what_a_run_printed_is_stored_with_nul_as_a_visible_stand_in(bwrap):
    final = graded(submitted(CONSTANT_SCORES, "print('a\\x00b')\nraise ValueError('c\\x00d')"))
    assert final.status == Submission.Status.FAILED
    stored = Submission.objects.with_results().get(pk=final.pk)
    assert f"a{services.NUL_STAND_IN}b" in stored.log
    assert "\x00" not in stored.traceback + stored.message + stored.log
