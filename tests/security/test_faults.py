"""Faults around grading: a full media volume, a broker restarted with work queued, a database connection dropped
mid-task. Afterwards every submission has exactly one final state and none is lost."""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from unittest import mock

import pytest
import redis
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test import Client
from django.urls import reverse

from grading import services
from grading.models import Submission
from tests.builders.events import open_event_exercise
from tests.builders.notebooks import CONSTANT_SCORES, notebook_bytes
from tests.builders.people import make_participant


@contextlib.contextmanager
def full_volume(path: Path, size: str = "64k") -> Iterator[Path]:
    """Mount a tiny tmpfs at path and fill it, or skip saying why it cannot be mounted here."""
    path.mkdir(parents=True, exist_ok=True)
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(path)], capture_output=True)
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a small tmpfs to fill (needs root): {mounted.stderr.decode().strip()}")
    try:
        with contextlib.suppress(OSError), (path / "filler").open("wb") as filler:
            while True:
                filler.write(b"x" * 4096)
                filler.flush()
        yield path
    finally:
        subprocess.run(["umount", "-l", str(path)], check=False)


@pytest.mark.django_db
def test_a_full_media_volume_refuses_the_upload_with_a_message_and_records_nothing(settings, tmp_path: Path) -> None:
    event_exercise = open_event_exercise()
    person = make_participant(event_exercise.event)
    client = Client()
    client.force_login(person)
    url = reverse(
        "grading:submit", kwargs={"slug": event_exercise.event.slug, "exercise_slug": event_exercise.exercise.slug}
    )
    with full_volume(tmp_path / "media") as media:
        settings.MEDIA_ROOT = media
        with mock.patch("grading.services.enqueue"):
            response = client.post(
                url,
                {"notebook": SimpleUploadedFile("mine.ipynb", notebook_bytes(CONSTANT_SCORES)), "kind": "graded"},
                follow=True,
            )
    assert response.status_code == 200
    assert Submission.objects.count() == 0
    text = response.content.decode()
    print(text[text.find("message-") :][:400])
    assert "could not store your notebook" in text


@pytest.mark.django_db
def test_a_full_media_volume_refuses_an_api_upload_with_a_sentence(settings, tmp_path: Path) -> None:
    from tests.api.conftest import client_of

    event_exercise = open_event_exercise()
    person = make_participant(event_exercise.event)
    body = {
        "exercise": event_exercise.exercise.slug,
        "event": event_exercise.event.slug,
        "notebook": SimpleUploadedFile("mine.ipynb", notebook_bytes(CONSTANT_SCORES)),
    }
    with full_volume(tmp_path / "media") as media:
        settings.MEDIA_ROOT = media
        with mock.patch("grading.services.enqueue"):
            response = client_of(person).post("/api/v1/submissions/", body, format="multipart")
    assert response.status_code == 400
    assert "could not store your notebook" in response.json()["detail"]
    assert Submission.objects.count() == 0


# --- With real PostgreSQL, Redis and Celery worker processes (the production-profile run) -------------------------
ROOT = Path(__file__).resolve().parents[2]
needs_real_services = pytest.mark.django_db(transaction=True)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class OwnRedis:
    """A redis-server of this test alone (the machine's shared one is never restarted), without persistence."""

    def __init__(self, log: Path) -> None:
        if shutil.which("redis-server") is None:
            pytest.skip("redis-server is not installed: the broker restart cannot be tested")
        self.port = _free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.log = log
        self.process: subprocess.Popen | None = None

    def start(self) -> None:
        command = ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"]
        self.process = subprocess.Popen(command, stdout=self.log.open("a"), stderr=subprocess.STDOUT)
        wait_for(lambda: self._answers(), 10, "redis-server to answer")

    def _answers(self) -> bool:
        try:
            return bool(redis.Redis.from_url(self.url, socket_connect_timeout=0.5).ping())
        except redis.RedisError:
            return False

    def kill(self) -> None:
        assert self.process is not None
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(10)

    def queued(self, queue: str = "cpu") -> int:
        return int(redis.Redis.from_url(self.url).llen(queue))


def _send_to(app, url: str) -> None:  # type: ignore[no-untyped-def]
    """Enqueue from this process to this broker: forget the connections and producers pooled for the previous one."""
    app.conf.broker_url = app.conf.broker_write_url = app.conf.broker_read_url = url
    app._pool = None
    app.amqp._producer_pool = None


@pytest.fixture
def own_redis(tmp_path: Path) -> Iterator[OwnRedis]:
    from hackathon.config.celery import app

    server = OwnRedis(tmp_path / "redis.log")
    server.start()
    previous = app.conf.broker_write_url or app.conf.broker_url
    _send_to(app, server.url)
    yield server
    _send_to(app, previous)
    if server.process and server.process.poll() is None:
        server.kill()


def wait_for(predicate, timeout: float, what: str):  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.3)
    raise AssertionError(f"timed out waiting for {what}")


def _needs_postgres() -> None:
    if connection.vendor != "postgresql":
        pytest.skip("needs the production profile: worker processes must share PostgreSQL with the test")


def start_worker(name: str, broker_url: str, log: Path, **extra: str) -> subprocess.Popen:
    env = {
        **os.environ,
        "DATABASE_URL": "postgres://{USER}@{HOST}:{PORT}/{NAME}".format(**connection.settings_dict),
        "CELERY_BROKER_URL": broker_url,
        "MEDIA_ROOT": str(settings.MEDIA_ROOT),
        "PRIVATE_DATA_ROOT": str(settings.PRIVATE_DATA_ROOT),
        "SANDBOX_BACKEND": "bwrap",
        "SANDBOX_STATE_DIR": str(settings.SANDBOX_STATE_DIR),
        "GRADING_WORK_DIR": str(settings.GRADING_WORK_DIR),
        **extra,
    }
    return subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "hackathon.config", "worker", "-Q", "cpu", "--concurrency", "1",
         "-n", f"{name}@%h", "--without-heartbeat", "--without-gossip", "--without-mingle", "--loglevel", "INFO"],
        cwd=ROOT, env=env, stdout=log.open("w"), stderr=subprocess.STDOUT, start_new_session=True,
    )  # fmt: skip


def stop(worker: subprocess.Popen) -> None:
    if worker.poll() is None:
        os.killpg(worker.pid, signal.SIGKILL)
        worker.wait(10)


def submit(event_exercise, *cells: str) -> Submission:  # type: ignore[no-untyped-def]
    """Submit as a new participant; the message is sent on commit, which this test's database really does."""
    return services.submit_notebook(
        participant=make_participant(event_exercise.event), event_exercise=event_exercise, raw=notebook_bytes(*cells)
    )


def assert_each_ends_once(submissions: list[Submission], log: Path) -> list[Submission]:
    def all_final() -> list[Submission] | None:
        rows = list(Submission.objects.filter(pk__in=[s.pk for s in submissions]))
        return rows if len(rows) == len(submissions) and all(row.is_final for row in rows) else None

    try:
        rows = wait_for(all_final, 180, "every submission to reach a final state")
    except AssertionError:
        raise AssertionError(log.read_text()[-3000:]) from None
    for row in rows:
        assert row.status == Submission.Status.SCORED, row.message
        assert row.score == 0.5
    return rows


@needs_real_services
@pytest.mark.production_profile
@pytest.mark.slow
@pytest.mark.usefixtures("bwrap")
def test_submissions_queued_when_the_broker_restarts_empty_are_requeued_and_each_scored_once(
    own_redis: OwnRedis, tmp_path: Path
) -> None:
    _needs_postgres()
    settings.GRADING_LOST_QUEUED_SECONDS = 2
    event_exercise = open_event_exercise()
    queued = [submit(event_exercise, CONSTANT_SCORES) for _ in range(3)]
    assert own_redis.queued() == 3
    own_redis.kill()  # no persistence: the three messages are gone with it
    own_redis.start()
    assert own_redis.queued() == 0
    worker = start_worker("restart", own_redis.url, tmp_path / "worker.log")
    try:
        time.sleep(settings.GRADING_LOST_QUEUED_SECONDS + 1)
        # What beat's reaper does every minute: queued rows whose message is older than the limit are sent again.
        assert sorted(services.requeue_stuck_submissions()) == sorted(s.pk for s in queued)
        rows = assert_each_ends_once(queued, tmp_path / "worker.log")
    finally:
        stop(worker)
    assert [row.attempts for row in rows] == [1, 1, 1]


@needs_real_services
@pytest.mark.production_profile
@pytest.mark.slow
@pytest.mark.usefixtures("bwrap")
def test_a_database_connection_dropped_mid_task_ends_with_one_final_state(own_redis: OwnRedis, tmp_path: Path) -> None:
    _needs_postgres()
    settings.GRADING_STALE_SECONDS = 4
    event_exercise = open_event_exercise()
    submission = submit(event_exercise, "import time\ntime.sleep(6)", CONSTANT_SCORES)
    log = tmp_path / "worker.log"
    worker = start_worker("dbdrop", own_redis.url, log, GRADING_HEARTBEAT_SECONDS="1", GRADING_STALE_SECONDS="4")
    try:
        wait_for(lambda: Submission.objects.get(pk=submission.pk).status == "running", 90, "the worker to start")
        time.sleep(1)
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                "WHERE datname = current_database() AND pid <> pg_backend_pid()"
            )
            (dropped,) = cursor.fetchone()
        assert dropped >= 1, "the worker held no connection to drop"

        def settled() -> bool:
            services.requeue_stuck_submissions()  # beat's reaper, run as often as it likes
            return Submission.objects.get(pk=submission.pk).is_final

        try:
            wait_for(settled, 120, "the submission to settle")
        except AssertionError:
            raise AssertionError(log.read_text()[-3000:]) from None
        (row,) = assert_each_ends_once([submission], log)
    finally:
        stop(worker)
    assert row.attempts in (1, 2)  # finished by the same run after reconnecting, or by the run that took it over
