"""Announcement and extension tests share the tutoring tests' small event (two groups, their tutors, an organizer)."""

from __future__ import annotations

from collections.abc import Iterator
from unittest import mock

import pytest

from hackathon import announcements
from tests.builders.casts import Setting, make_setting


@pytest.fixture
def setting(db: None) -> Setting:
    return make_setting()


@pytest.fixture
def emails_at_once() -> Iterator[mock.MagicMock]:
    """Send an announcement's emails in the test instead of queueing the task on a broker."""
    with mock.patch(
        "hackathon.tasks.email_announcement_task.delay", side_effect=announcements.email_announcement
    ) as delay:
        yield delay
