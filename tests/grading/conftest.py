"""Grading tests run notebooks for real in the bubblewrap sandbox, skipping with the reason where it cannot run."""

from __future__ import annotations

import pytest

from sandbox import SandboxConfig, get_backend


@pytest.fixture
def bwrap(settings, tmp_path):  # type: ignore[no-untyped-def]
    """Grade with the bwrap backend, or skip saying why it cannot run here."""
    settings.SANDBOX_BACKEND = "bwrap"
    settings.SANDBOX_STATE_DIR = tmp_path / "sandbox"
    settings.GRADING_WORK_DIR = tmp_path / "work"
    reason = get_backend("bwrap", SandboxConfig(state_dir=tmp_path / "sandbox")).unavailable_reason()
    if reason:
        pytest.skip(f"bubblewrap cannot run here: {reason}")
    return settings


@pytest.fixture(autouse=True)
def _no_heartbeat_thread_writes(settings):  # type: ignore[no-untyped-def]
    """A test's transaction is invisible to the heartbeat thread's own connection: keep the thread quiet."""
    settings.GRADING_HEARTBEAT_SECONDS = 3600
