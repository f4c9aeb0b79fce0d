"""Sandboxes a killed worker left running are removed once they are older than any job could be, and no sooner."""

from __future__ import annotations

import pytest

from exercises.models import Exercise
from grading import sandboxing
from tests.factories import make_exercise

pytestmark = [pytest.mark.django_db, pytest.mark.production_profile]


class RecordingBackend:
    """A backend that says which ages it was asked to clean, and what it would have removed."""

    def __init__(self, reason: str | None = None) -> None:
        self.reason = reason
        self.ages: list[float] = []

    def unavailable_reason(self) -> str | None:
        return self.reason

    def remove_leftovers(self, older_than_s: float) -> list[str]:
        self.ages.append(older_than_s)
        return ["ml-infn-sandbox-left-behind"]


def test_only_sandboxes_older_than_the_longest_job_and_a_margin_are_removed(monkeypatch, caplog):
    for slug, wall in (("short", 60), ("long", 5400)):
        Exercise.objects.filter(pk=make_exercise(slug).pk).update(wall_seconds=wall)
    backend = RecordingBackend()
    monkeypatch.setattr(sandboxing, "sandbox_backend", lambda: backend)
    assert sandboxing.remove_leftover_sandboxes() == ["ml-infn-sandbox-left-behind"]
    assert backend.ages == [5400 + sandboxing.LEFTOVER_MARGIN_SECONDS]
    assert "ml-infn-sandbox-left-behind" in caplog.text  # the operators learn that a worker died mid-job


def test_a_backend_that_cannot_run_here_is_not_asked(monkeypatch):
    backend = RecordingBackend(reason="no Docker engine answers")
    monkeypatch.setattr(sandboxing, "sandbox_backend", lambda: backend)
    assert sandboxing.remove_leftover_sandboxes() == []
    assert backend.ages == []


def test_backends_whose_jobs_die_with_their_worker_have_nothing_to_remove(tmp_path):
    from sandbox import SandboxConfig, get_backend

    config = SandboxConfig(state_dir=tmp_path, allow_process_backend=True)
    assert get_backend("process", config).remove_leftovers(older_than_s=0) == []
