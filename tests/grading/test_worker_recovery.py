"""A worker killed with SIGKILL in the middle of a run: the submission is run again and ends with one result."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection

from grading import services
from grading.models import Submission
from tests.builders.events import open_event_exercise
from tests.builders.notebooks import CONSTANT_SCORES, notebook_bytes
from tests.builders.people import participant_of

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.production_profile, pytest.mark.slow]
ROOT = Path(__file__).resolve().parents[2]


def start_worker(name: str, env: dict[str, str], log: Path) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "hackathon.config", "worker", "-Q", "cpu", "--concurrency", "1",
         "-n", f"{name}@%h", "--without-heartbeat", "--without-gossip", "--without-mingle", "--loglevel", "INFO"],
        cwd=ROOT, env=env, stdout=log.open("w"), stderr=subprocess.STDOUT, start_new_session=True,
    )  # fmt: skip


def worker_env(**extra: str) -> dict[str, str]:
    """Return the environment of a worker process that shares this test's PostgreSQL database and folders."""
    return {
        **os.environ,
        "DATABASE_URL": "postgres://{USER}@{HOST}:{PORT}/{NAME}".format(**connection.settings_dict),
        "MEDIA_ROOT": str(settings.MEDIA_ROOT),
        "PRIVATE_DATA_ROOT": str(settings.PRIVATE_DATA_ROOT),
        "SANDBOX_BACKEND": "bwrap",
        "SANDBOX_STATE_DIR": str(settings.SANDBOX_STATE_DIR),
        "GRADING_WORK_DIR": str(settings.GRADING_WORK_DIR),
        **extra,
    }


def wait_for(predicate, timeout: float, what: str):  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.3)
    raise AssertionError(f"timed out waiting for {what}")


def test_a_killed_worker_s_submission_is_taken_over_and_scored_exactly_once(bwrap, tmp_path):
    if connection.vendor != "postgresql" or not settings.CELERY_BROKER_URL.startswith("redis"):
        pytest.skip("needs the production profile: a worker process must share PostgreSQL and Redis with the test")
    settings.GRADING_STALE_SECONDS = 4
    event_exercise = open_event_exercise()
    raw = notebook_bytes("import time\ntime.sleep(8)", CONSTANT_SCORES)
    submission = services.submit_notebook(
        participant=participant_of(event_exercise), event_exercise=event_exercise, raw=raw
    )  # queued on commit: this test commits for real
    env = worker_env(GRADING_HEARTBEAT_SECONDS="1", GRADING_STALE_SECONDS="4")
    first = start_worker("first", env, tmp_path / "first.log")
    second = None
    try:
        wait_for(lambda: Submission.objects.get(pk=submission.pk).status == "running", 90, "the first worker to start")
        time.sleep(2)  # well inside the notebook's sleep
        os.killpg(first.pid, signal.SIGKILL)
        first.wait(10)
        assert Submission.objects.get(pk=submission.pk).status == "running"
        second = start_worker("second", env, tmp_path / "second.log")
        wait_for(lambda: services.requeue_stuck_submissions() == [submission.pk], 30, "the reaper to see the dead run")
        final = wait_for(
            lambda: (s := Submission.objects.get(pk=submission.pk)).is_final and s, 120, "the second worker's result"
        )
        log = (tmp_path / "second.log").read_text()
        assert final.status == Submission.Status.SCORED, final.message + log[-2000:]
        assert final.attempts == 2
        assert final.score == 0.5
        # The first run's message may still be delivered again: it finds the submission final and does nothing.
        services.grade_submission(submission.pk)
        assert Submission.objects.get(pk=submission.pk).finished_at == final.finished_at
    finally:
        for worker in (first, second):
            if worker and worker.poll() is None:
                os.killpg(worker.pid, signal.SIGKILL)
                worker.wait(10)
