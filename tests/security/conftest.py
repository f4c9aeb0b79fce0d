"""Security tests share one world per module, built inside a transaction that is rolled back at the end."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from django.db import transaction
from django.test import Client

from tests.security.world import World, build_world


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
