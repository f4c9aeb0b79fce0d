"""Sandboxes a killed worker left running are removed by the periodic cleanup, through the configured backend."""

from __future__ import annotations

import pytest

from grading import sandboxing

pytestmark = [pytest.mark.django_db, pytest.mark.production_profile]


class RecordingBackend:
    """A backend that says whether it was asked to clean, and what it would have removed."""

    def __init__(self, reason: str | None = None) -> None:
        self.reason = reason
        self.asked: list[bool] = []

    def unavailable_reason(self) -> str | None:
        return self.reason

    def remove_leftovers(self, *, every: bool = False) -> list[str]:
        self.asked.append(every)
        return ["ml-infn-sandbox-left-behind"]


def test_the_cleanup_removes_only_expired_sandboxes_and_logs_them(monkeypatch, caplog):
    backend = RecordingBackend()
    monkeypatch.setattr(sandboxing, "sandbox_backend", lambda: backend)
    assert sandboxing.remove_leftover_sandboxes() == ["ml-infn-sandbox-left-behind"]
    assert backend.asked == [False]  # never `every`: other workers' live jobs share the engine
    assert "ml-infn-sandbox-left-behind" in caplog.text  # the operators learn that a worker died mid-job


def test_a_backend_that_cannot_run_here_is_not_asked(monkeypatch):
    backend = RecordingBackend(reason="no Docker engine answers")
    monkeypatch.setattr(sandboxing, "sandbox_backend", lambda: backend)
    assert sandboxing.remove_leftover_sandboxes() == []
    assert backend.asked == []


def test_backends_whose_jobs_die_with_their_worker_have_nothing_to_remove(tmp_path):
    from sandbox import SandboxConfig, get_backend

    config = SandboxConfig(state_dir=tmp_path, allow_process_backend=True)
    assert get_backend("process", config).remove_leftovers() == []
