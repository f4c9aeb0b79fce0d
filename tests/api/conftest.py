"""API tests: callers with real personal tokens, and grading on the real bubblewrap sandbox where a test needs it."""

from __future__ import annotations

from unittest import mock

import pytest
from rest_framework.test import APIClient

from grading.api_auth import create_token
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


@pytest.fixture
def no_queue():  # type: ignore[no-untyped-def]
    """Record what would be queued instead of sending it to a broker."""
    with mock.patch("grading.services.enqueue") as enqueue:
        yield enqueue


def client_of(user) -> APIClient:  # type: ignore[no-untyped-def]
    """Return an API client that sends a real personal token of the user, as hackathon-submit does."""
    client = APIClient()
    if user is not None:
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {create_token(user=user, name='tests').secret}")
    return client
