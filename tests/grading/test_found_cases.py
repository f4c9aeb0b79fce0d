"""Notebooks that people outside the team saw graded wrongly end as they should: by `grade`, in a run, by a worker."""

from __future__ import annotations

import json
import os
import signal
from io import StringIO
from pathlib import Path
from unittest import mock

import pytest
from django.conf import settings
from django.core.management import call_command
from django.db import connection

from grading import services
from grading.models import Submission
from grading.services import NUL_STAND_IN, remaining_today
from tests.builders.events import open_event_exercise
from tests.builders.people import participant_of
from tests.grading.test_worker_recovery import start_worker, wait_for, worker_env

pytestmark = [pytest.mark.django_db, pytest.mark.production_profile, pytest.mark.slow]
CASES = Path(__file__).resolve().parent / "found_cases"
# What each found notebook must end as (shared/cases/README.md): exercise, status, reason, lowest score.
EXPECTED = {
    "lung_npy_huge_header": ("lung-segmentation", "invalid", "predictions", None),
    "bc_stream_output_metadata": ("breast-cancer", "scored", "", 0.95),
    "bc_utf8_bom": ("breast-cancer", "scored", "", 0.95),
    "bc_sys_exit_zero": ("breast-cancer", "scored", "", 0.95),
    "bc_quoted_csv_header": ("breast-cancer", "scored", "", 0.95),
    "bc_nul_in_output": ("breast-cancer", "scored", "", 0.95),
    "bc_many_large_displays": ("breast-cancer", "scored", "", 0.95),
    "lung_steer_feedback_pictures": ("lung-segmentation", "scored", "", None),
}


def case_bytes(name: str) -> bytes:
    return (CASES / f"{name}.ipynb").read_bytes()


def exercise_of(slug: str):  # type: ignore[no-untyped-def]
    from exercises.bundles import builtin_bundle
    from exercises.services import save_exercise

    return save_exercise(builtin_bundle(slug), builtin=True)


def assert_ends_as_expected(name: str, status: str, reason: str | None, score: float | None) -> None:
    _, want_status, want_reason, lowest = EXPECTED[name]
    assert status == want_status
    assert (reason or "") == want_reason
    if lowest is not None:
        assert score is not None and score >= lowest


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_each_found_notebook_ends_as_it_should_through_the_grade_command(bwrap, name):
    out = StringIO()
    call_command("grade", EXPECTED[name][0], str(CASES / f"{name}.ipynb"), "--json", stdout=out)
    report = json.loads(out.getvalue())
    assert_ends_as_expected(name, report["status"], report["reason"], report["score"])
    assert report["message"].endswith((".", ")"))


def graded_case(name: str) -> Submission:
    event_exercise = open_event_exercise(exercise_of(EXPECTED[name][0]))
    participant = participant_of(event_exercise)
    with mock.patch("grading.services.enqueue"):
        submission = services.submit_notebook(
            participant=participant, event_exercise=event_exercise, raw=case_bytes(name)
        )
        services.grade_submission(submission.pk)
    return Submission.objects.with_results().get(pk=submission.pk)


def test_a_header_that_declares_terabytes_is_invalid_once_and_counts_toward_the_quota(bwrap):
    submission = graded_case("lung_npy_huge_header")
    assert (submission.status, submission.reason, submission.attempts) == ("invalid", "predictions", 1)
    assert "declares shape (10000000000000, 128, 128)" in submission.message
    assert "run again" not in submission.message
    left = remaining_today(participant=submission.participant, event_exercise=submission.event_exercise)
    assert left == settings.SUBMISSIONS_PER_DAY - 1


def test_a_nul_printed_by_a_notebook_is_stored_as_a_visible_stand_in(bwrap):
    submission = graded_case("bc_nul_in_output")
    assert submission.status == "scored", submission.message
    assert f"before{NUL_STAND_IN}after" in submission.log
    assert "\\u0000" not in json.dumps(submission.executed_notebook)
    assert f"before{NUL_STAND_IN}after" in json.dumps(submission.executed_notebook, ensure_ascii=False)


def test_eight_hundred_large_displays_keep_the_stored_notebook_bounded_and_say_so(bwrap):
    submission = graded_case("bc_many_large_displays")
    assert submission.status == "scored", submission.message
    stored = json.dumps(submission.executed_notebook)
    assert len(stored) < 2 * 1024 * 1024 + 64 * 1024
    assert "796 more outputs of this cell were not kept by the sandbox" in stored


def test_steering_the_worst_image_shows_no_hidden_image_or_its_outline(bwrap):
    submission = graded_case("lung_steer_feedback_pictures")
    assert submission.status == "scored", submission.message
    files = [image["file"] for image in submission.figures["images"]]
    assert not [name for name in files if name.startswith("overlay")]
    assert "overlays" not in submission.figures["data"]
    assert not [path.name for path in services.results_dir(submission).glob("overlay*")]
    assert "Image" not in json.dumps(submission.figures)


@pytest.mark.django_db(transaction=True)
def test_a_real_worker_on_postgresql_grades_every_found_notebook_once(bwrap, tmp_path):
    if connection.vendor != "postgresql" or not settings.CELERY_BROKER_URL.startswith("redis"):
        pytest.skip("needs the production profile: a worker process must share PostgreSQL and Redis with the test")
    submissions = {}
    for name in sorted(EXPECTED):
        event_exercise = open_event_exercise(exercise_of(EXPECTED[name][0]))
        submissions[name] = services.submit_notebook(
            participant=participant_of(event_exercise), event_exercise=event_exercise, raw=case_bytes(name)
        )  # queued on commit: this test commits for real
    worker = start_worker("found-cases", worker_env(), tmp_path / "worker.log")
    try:
        pks = [s.pk for s in submissions.values()]
        wait_for(
            lambda: Submission.objects.filter(pk__in=pks, status__in=Submission.FINAL).count() == len(pks),
            600,
            "the worker to grade every found notebook",
        )
    finally:
        os.killpg(worker.pid, signal.SIGKILL)
        worker.wait(10)
    log = (tmp_path / "worker.log").read_text()[-3000:]
    for name, submission in submissions.items():
        final = Submission.objects.with_results().get(pk=submission.pk)
        assert final.attempts == 1, (name, final.message, log)
        assert_ends_as_expected(name, final.status, final.reason, final.score)
    nul = Submission.objects.with_results().get(pk=submissions["bc_nul_in_output"].pk)
    assert f"before{NUL_STAND_IN}after" in nul.log
