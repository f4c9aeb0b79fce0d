"""Security tests share one world per module, built inside a transaction that is rolled back at the end."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from django.db import transaction
from django.test import Client

from grading.services import results_dir
from sandbox import SandboxConfig, get_backend
from tests.builders.world import FIGURE, World, build_world


@pytest.fixture(scope="module")
def world(django_db_setup, django_db_blocker) -> Iterator[World]:  # type: ignore[no-untyped-def]
    """Build the world once for the module inside a transaction each test's own savepoint rolls back to."""
    with django_db_blocker.unblock(), transaction.atomic():
        yield build_world()
        transaction.set_rollback(True)


@pytest.fixture(scope="module")
def clients(world: World, django_db_blocker) -> dict[str, Client]:  # type: ignore[no-untyped-def]
    """Sign each person in once: their sessions live in the module's transaction."""
    signed_in = {}
    with django_db_blocker.unblock():
        for role, person in world.people.items():
            signed_in[role] = Client()
            if person is not None:
                signed_in[role].force_login(person)
    return signed_in


@pytest.fixture
def figure_on_disk(world: World, settings) -> Path:  # type: ignore[no-untyped-def]
    """Put the submission's picture where grading leaves it (media is a fresh folder per test)."""
    folder = results_dir(world.submission_a)
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / FIGURE
    path.write_bytes(b"\x89PNG\r\n\x1a\n")
    return path


@pytest.fixture
def bwrap(settings, tmp_path):  # type: ignore[no-untyped-def]
    """Grade with the bwrap backend, or skip saying why it cannot run here."""
    settings.SANDBOX_BACKEND = "bwrap"
    settings.SANDBOX_STATE_DIR = tmp_path / "sandbox"
    settings.GRADING_WORK_DIR = tmp_path / "work"
    # A test's transaction is invisible to the heartbeat thread's own connection: keep the thread quiet.
    settings.GRADING_HEARTBEAT_SECONDS = 3600
    reason = get_backend("bwrap", SandboxConfig(state_dir=tmp_path / "sandbox")).unavailable_reason()
    if reason:
        pytest.skip(f"bubblewrap cannot run here: {reason}")
    return settings
