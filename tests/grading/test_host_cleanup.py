"""Every sandbox worker removes its own host's leftover sandboxes at start and periodically; the upkeep worker not."""

from __future__ import annotations

import fcntl
import threading
import time
from collections.abc import Callable, Iterator
from types import SimpleNamespace

import pytest

from grading import sandboxing, tasks

THREAD_NAME = "remove-leftover-sandboxes"


class RecordingBackend:
    """A backend that records each cleanup it is asked for (its `every`), and fails the rounds it is told to."""

    def __init__(self, failing_rounds: int = 0) -> None:
        self.asked: list[bool] = []
        self.failing_rounds = failing_rounds

    def unavailable_reason(self) -> str | None:
        return None

    def remove_leftovers(self, *, every: bool = False) -> list[str]:
        self.asked.append(every)
        if len(self.asked) <= self.failing_rounds:
            raise RuntimeError("the engine did not answer")
        return ["ml-infn-sandbox-left-behind"]


def consumer(*queues: str) -> SimpleNamespace:
    """The part of a Celery consumer (worker_ready's sender) the wiring reads: the queues its worker consumes."""
    consume_from = {name: object() for name in queues}
    return SimpleNamespace(app=SimpleNamespace(amqp=SimpleNamespace(queues=SimpleNamespace(consume_from=consume_from))))


def cleanup_threads() -> list[threading.Thread]:
    return [thread for thread in threading.enumerate() if thread.name == THREAD_NAME]


def wait_for(condition: Callable[[], bool], timeout: float = 10.0) -> bool:
    deadline = time.monotonic() + timeout
    while not condition() and time.monotonic() < deadline:
        time.sleep(0.01)
    return condition()


@pytest.fixture
def backend(monkeypatch: pytest.MonkeyPatch, settings, tmp_path) -> Iterator[RecordingBackend]:  # type: ignore[no-untyped-def]
    """A recording backend, a cleanup every 20 ms, and every cleanup thread stopped afterwards."""
    recording = RecordingBackend()
    monkeypatch.setattr(sandboxing, "sandbox_backend", lambda: recording)
    settings.SANDBOX_CLEANUP_SECONDS = 0.02
    settings.SANDBOX_STATE_DIR = tmp_path / "sandbox"  # the host's cleanup lock is made there
    yield recording
    tasks.stop_leftover_cleanup()
    for thread in cleanup_threads():
        thread.join(5)
    assert not cleanup_threads()


@pytest.mark.parametrize(
    ("queues", "runs"),
    [(["cpu"], True), (["gpu"], True), (["cpu", "gpu"], True), (["gpu", "upkeep"], True), (["upkeep"], False)],
)
def test_a_worker_runs_sandboxes_when_it_consumes_cpu_or_gpu(queues: list[str], runs: bool) -> None:
    assert sandboxing.runs_sandboxes(queues) is runs


@pytest.mark.parametrize("queue", ["cpu", "gpu"])
def test_a_sandbox_worker_cleans_its_host_at_start_and_then_repeatedly(backend: RecordingBackend, queue: str) -> None:
    tasks.clean_leftovers_of_this_host(sender=consumer(queue))
    assert wait_for(lambda: len(backend.asked) >= 3)  # at start, then every SANDBOX_CLEANUP_SECONDS
    assert set(backend.asked) == {False}  # never `every`: the live jobs of this host's workers are not touched
    assert len(cleanup_threads()) == 1


def test_the_cleanup_stops_with_its_worker(backend: RecordingBackend) -> None:
    tasks.clean_leftovers_of_this_host(sender=consumer("cpu"))
    assert wait_for(lambda: len(backend.asked) >= 1)
    tasks.stop_leftover_cleanup()  # worker_shutdown
    for thread in cleanup_threads():
        thread.join(5)
    rounds = len(backend.asked)
    time.sleep(0.1)
    assert len(backend.asked) == rounds


def test_the_upkeep_worker_does_not_clean(backend: RecordingBackend) -> None:
    tasks.clean_leftovers_of_this_host(sender=consumer("upkeep"))
    time.sleep(0.2)  # ten rounds' time
    assert backend.asked == []
    assert cleanup_threads() == []


def test_a_cleanup_that_fails_is_logged_and_the_next_round_runs(
    backend: RecordingBackend, caplog: pytest.LogCaptureFixture
) -> None:
    backend.failing_rounds = 1
    tasks.clean_leftovers_of_this_host(sender=consumer("gpu"))
    assert wait_for(lambda: "ml-infn-sandbox-left-behind" in caplog.text)  # the next round removed it
    assert len(backend.asked) >= 2
    assert "Could not remove the leftover sandboxes of this host" in caplog.text
    assert "the engine did not answer" in caplog.text  # with its traceback
    assert cleanup_threads()[0].is_alive()


def test_one_cleanup_at_a_time_on_a_host(backend: RecordingBackend) -> None:
    """Another worker of the host (sharing SANDBOX_STATE_DIR) holds the turn: this round is skipped, not queued."""
    lock_path = sandboxing.sandbox_config().state_dir / sandboxing.CLEANUP_LOCK_NAME
    lock_path.parent.mkdir(parents=True, exist_ok=True)
    with lock_path.open("a") as other_worker:
        fcntl.flock(other_worker, fcntl.LOCK_EX | fcntl.LOCK_NB)
        assert sandboxing.clean_up_this_host() is None
        assert backend.asked == []
    assert sandboxing.clean_up_this_host() == ["ml-infn-sandbox-left-behind"]
    assert sandboxing.clean_up_this_host() == ["ml-infn-sandbox-left-behind"]  # the turn is given back each time


def test_the_manual_task_cleans_once_without_raising(backend: RecordingBackend) -> None:
    backend.failing_rounds = 1
    tasks.remove_leftover_sandboxes_task()  # logged, not raised: an operator's retry works
    tasks.remove_leftover_sandboxes_task()
    assert backend.asked == [False, False]
