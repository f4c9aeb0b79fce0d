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


def test_the_process_backend_has_nothing_to_remove_where_no_job_group_was_left(tmp_path, monkeypatch):
    # Its jobs die with their worker; their control groups do not, and tests/sandbox/test_leftover_cgroups.py
    # proves that the cleanup removes those. Here no group was left: nothing is removed, nothing fails.
    from sandbox import SandboxConfig, cgroups, get_backend

    monkeypatch.setattr(cgroups, "leftover_parents", lambda: [tmp_path / "no-such-group"])
    config = SandboxConfig(state_dir=tmp_path, allow_process_backend=True)
    assert get_backend("process", config).remove_leftovers() == []
