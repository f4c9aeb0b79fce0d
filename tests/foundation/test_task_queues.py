"""Each task's queue, through Celery's own routing: grading on its exercise's queue, emails and upkeep on `upkeep`."""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from celery.contrib.testing.worker import TestWorkController, start_worker
from celery.signals import worker_ready
from django.conf import settings
from django.core import mail
from kombu.transport import memory

from hackathon import announcements
from hackathon.config.celery import app
from tests.builders.casts import make_setting
from tests.sandbox.test_leftover_cgroups import dead_owner, make_group
from tests.sandbox.test_leftover_cgroups import parent as cgroup_parent  # noqa: F401 - a fixture, used by name

UPKEEP = "upkeep"
QUEUES = ("cpu", "gpu", UPKEEP)
# Neither grading nor tied to one host: on the upkeep queue, so none of them waits behind grading.
UPKEEP_TASKS = (
    "hackathon.tasks.email_announcement_task",
    "hackathon.tasks.expire_offers_task",
    "grading.tasks.requeue_stuck_submissions_task",
    "grading.tasks.reveal_due_boards_task",
    "grading.tasks.check_exercises_about_to_open_task",
)
# They run sandboxes, or (the operator's manual cleanup) clean up the sandboxes of the host that runs them: they go
# to the sandbox queues.
SANDBOX_TASKS = (
    "grading.tasks.grade_submission_task",
    "grading.tasks.run_reference_check_task",
    "grading.tasks.check_uploaded_bundle_task",
    "grading.tasks.remove_leftover_sandboxes_task",
)


def routed_queue(task: str, **options: Any) -> str:
    """The queue Celery's router sends this task's message to, given the options of its `apply_async`."""
    return str(app.amqp.router.route(options, task)["queue"].name)


def test_every_task_of_the_platform_is_named_here() -> None:
    """A new task must choose its queue: one missing here would fall to `cpu`, behind the grading messages."""
    app.autodiscover_tasks(force=True)
    ours = {name for name in app.tasks if name.startswith(("hackathon.", "grading.", "exercises."))}
    assert ours == set(UPKEEP_TASKS) | set(SANDBOX_TASKS)


@pytest.mark.parametrize("task", UPKEEP_TASKS)
def test_emails_and_site_wide_upkeep_go_to_the_upkeep_queue(task: str) -> None:
    assert routed_queue(task) == UPKEEP


@pytest.mark.parametrize("entry", sorted(settings.CELERY_BEAT_SCHEDULE))
def test_each_beat_entry_goes_to_the_upkeep_queue(entry: str) -> None:
    scheduled = settings.CELERY_BEAT_SCHEDULE[entry]
    assert routed_queue(scheduled["task"], **scheduled.get("options", {})) == UPKEEP


def test_beat_does_not_send_the_leftover_cleanup() -> None:
    """One worker would take each run and the other hosts stay uncleaned: every sandbox worker cleans its own."""
    assert "grading.tasks.remove_leftover_sandboxes_task" not in {
        entry["task"] for entry in settings.CELERY_BEAT_SCHEDULE.values()
    }


def test_the_manual_leftover_cleanup_lands_where_the_sandboxes_run() -> None:
    """Sent by an operator without a queue, it reaches a CPU worker; the upkeep worker has nothing to remove."""
    assert routed_queue("grading.tasks.remove_leftover_sandboxes_task") == "cpu"


@pytest.mark.parametrize("queue", ["cpu", "gpu"])
@pytest.mark.parametrize("task", SANDBOX_TASKS)
def test_a_sandbox_task_keeps_the_queue_its_sender_names(task: str, queue: str) -> None:
    assert routed_queue(task, queue=queue) == queue


# --- Through a broker: the messages the services send, and a worker that consumes the upkeep queue only ---------


def _use_broker(url: str) -> None:
    """Send and consume through this broker: forget the connections and producers pooled for the previous one."""
    app.conf.broker_url = app.conf.broker_write_url = app.conf.broker_read_url = url
    app._pool = None
    app.amqp._producer_pool = None


def _purge() -> None:
    with app.connection_for_write() as connection:
        for name in QUEUES:
            connection.SimpleQueue(name).clear()


def waiting(name: str) -> list[str]:
    """The task names of the messages waiting on this queue of the in-memory broker (left in place)."""
    queue = memory.Channel.queues.get(name)  # shared by every connection of this process
    return [message["headers"]["task"] for message in (list(queue.queue) if queue else [])]


@pytest.fixture
def memory_broker() -> Iterator[None]:
    """The in-memory broker of kombu, emptied before and after: what is queued stays readable by the test.

    The root logger's level and handlers are put back afterwards: an embedded worker configures them.
    """
    previous = app.conf.broker_write_url or app.conf.broker_url
    root = logging.getLogger()
    root_level, root_handlers = root.level, list(root.handlers)  # a worker started here sets them up
    _use_broker("memory://")
    _purge()
    yield
    _purge()
    _use_broker(previous)
    root.setLevel(root_level)  # at the worker's ERROR level, later tests would see no warning logged
    root.handlers = root_handlers


@pytest.mark.parametrize("queue", ["cpu", "gpu"])
def test_enqueue_sends_a_submission_to_its_exercise_s_queue(memory_broker: None, queue: str) -> None:
    from grading.services import enqueue

    exercise = SimpleNamespace(wall_seconds=60)
    submission = SimpleNamespace(pk=7, queue=queue, event_exercise=SimpleNamespace(exercise=exercise))
    enqueue(submission)  # type: ignore[arg-type]
    assert waiting(queue) == ["grading.tasks.grade_submission_task"]
    assert waiting(UPKEEP) == []


def test_a_reference_check_goes_to_its_exercise_s_queue(memory_broker: None) -> None:
    from grading.reference_gate import enqueue_check

    exercise = SimpleNamespace(queue="gpu", wall_seconds=60)
    enqueue_check(SimpleNamespace(pk=3, event_exercise=SimpleNamespace(exercise=exercise)))  # type: ignore[arg-type]
    assert waiting("gpu") == ["grading.tasks.run_reference_check_task"]


@pytest.mark.slow  # about 6 s: the worker's start and stop
@pytest.mark.production_profile  # the worker's threads read what the test wrote: PostgreSQL too
def test_an_announcement_is_emailed_while_the_grading_queue_is_full(
    memory_broker: None, transactional_db: None
) -> None:
    """Grading messages queued first, no grading worker free: the upkeep worker still sends the emails at once.

    With the emails on a grading queue (as before the upkeep queue), this worker would never see them.
    """
    from grading.services import enqueue

    setting = make_setting()
    for pk in range(3):  # a deadline rush: every grading process busy, messages waiting
        enqueue(SimpleNamespace(pk=pk, queue="cpu", event_exercise=setting.event_exercise))  # type: ignore[arg-type]
    mail.outbox = []
    announcements.send_announcement(
        author=setting.organizer,
        event=setting.event,
        title="Deadline extended",
        body="The exercise closes 15 minutes later.",
        audience=announcements.in_groups(setting.event, [setting.group]),
    )
    assert waiting(UPKEEP) == ["hackathon.tasks.email_announcement_task"]

    hijack = app.conf.worker_hijack_root_logger
    app.conf.worker_hijack_root_logger = False
    consume_from = app.amqp.queues._consume_from  # the worker narrows it to its --queues; put it back
    try:
        # The upkeep worker as deployed: its own queue, threads.
        with start_worker(app, pool="threads", concurrency=2, perform_ping_check=False, queues=[UPKEEP]):
            deadline = time.monotonic() + 60  # returns as soon as both are sent
            while len(mail.outbox) < 2 and time.monotonic() < deadline:
                time.sleep(0.05)
    finally:
        app.conf.worker_hijack_root_logger = hijack
        app.amqp.queues._consume_from = consume_from
    assert sorted(m.to[0] for m in mail.outbox) == ["ada@example.org", "bob@example.org"]
    assert mail.outbox[0].subject == f"[{setting.event.title}] Deadline extended"
    # The grading messages were neither taken by the upkeep worker nor in its way: they still wait for a grader.
    assert waiting("cpu") == ["grading.tasks.grade_submission_task"] * 3
    assert waiting(UPKEEP) == []


class ReadyWorker(TestWorkController):
    """The embedded worker, announcing itself ready as `celery worker` does (celery.apps.worker.Worker)."""

    def on_consumer_ready(self, consumer: Any) -> None:
        super().on_consumer_ready(consumer)
        worker_ready.send(sender=consumer)


class RecordingBackend:
    """A sandbox backend that records each cleanup it is asked for."""

    def __init__(self) -> None:
        self.asked: list[bool] = []

    def unavailable_reason(self) -> str | None:
        return None

    def remove_leftovers(self, *, every: bool = False) -> list[str]:
        self.asked.append(every)
        return []


def run_worker_briefly(queues: list[str], pool: str, until: Any, seconds: float = 20) -> None:
    """Run an embedded worker consuming these queues until `until()` holds or `seconds` pass."""
    hijack = app.conf.worker_hijack_root_logger
    app.conf.worker_hijack_root_logger = False
    consume_from = app.amqp.queues._consume_from  # the worker narrows it to its --queues; put it back
    try:
        with start_worker(
            app, pool=pool, concurrency=1, perform_ping_check=False, queues=queues, WorkController=ReadyWorker
        ):
            deadline = time.monotonic() + seconds
            while not until() and time.monotonic() < deadline:
                time.sleep(0.05)
    finally:
        app.conf.worker_hijack_root_logger = hijack
        app.amqp.queues._consume_from = consume_from
        from grading import tasks

        tasks.stop_leftover_cleanup()
        for thread in threading.enumerate():
            if thread.name == "remove-leftover-sandboxes":
                thread.join(5)


@pytest.mark.slow  # about 10 s: two workers start and stop
def test_each_sandbox_worker_cleans_its_host_without_any_message(
    memory_broker: None,
    db: None,  # the worker checks the models at start (Celery's Django fixup); the cleanup itself reads none
    monkeypatch: pytest.MonkeyPatch,
    settings: Any,
    tmp_path: Any,
) -> None:
    """A GPU-only worker, never sent a task, removes its host's leftovers at start and again; the upkeep one not."""
    from grading import sandboxing

    backend = RecordingBackend()
    monkeypatch.setattr(sandboxing, "sandbox_backend", lambda: backend)
    monkeypatch.setattr(sandboxing, "warm_up", lambda: None)  # the solo pool warms sandboxes at start
    settings.SANDBOX_CLEANUP_SECONDS = 0.05
    settings.SANDBOX_STATE_DIR = tmp_path / "sandbox"

    run_worker_briefly([UPKEEP], "threads", until=lambda: bool(backend.asked), seconds=1)
    assert backend.asked == []  # 20 rounds' time once ready, and it never cleaned

    run_worker_briefly(["gpu"], "solo", until=lambda: len(backend.asked) >= 2)
    assert backend.asked[:2] == [False, False]  # at start and once more, never `every`
    assert all(waiting(name) == [] for name in QUEUES)  # no task message was sent: no beat, no operator


@pytest.mark.slow  # about 5 s: a worker's start and stop
def test_a_cpu_worker_removes_a_killed_worker_s_control_group_and_keeps_a_live_one(
    memory_broker: None,
    db: None,  # the worker checks the models at start (Celery's Django fixup)
    monkeypatch: pytest.MonkeyPatch,
    settings: Any,
    tmp_path: Path,
    request: pytest.FixtureRequest,
) -> None:
    """A real leftover, no fake backend: the process backend's cleanup, started by the worker itself, no message."""
    from grading import sandboxing
    from sandbox import cgroups

    parent: Path = request.getfixturevalue("cgroup_parent")  # skips where no control group can be made
    leftover = make_group(parent, dead_owner())
    live = make_group(parent, f"{os.getpid()}.{cgroups.process_start(os.getpid())}")  # this worker's own
    monkeypatch.setattr(cgroups, "leftover_parents", lambda: [parent])
    monkeypatch.setattr(sandboxing, "warm_up", lambda: None)
    settings.SANDBOX_BACKEND = "process"
    settings.SANDBOX_ALLOW_PROCESS = True
    settings.SANDBOX_STATE_DIR = tmp_path / "sandbox"

    run_worker_briefly(["cpu"], "solo", until=lambda: not leftover.exists())
    assert not leftover.exists()
    assert live.exists()  # its maker (this process) still runs
    assert all(waiting(name) == [] for name in QUEUES)
