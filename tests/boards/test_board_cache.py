"""A board cached for a few seconds still shows an organizer's change at once."""

from __future__ import annotations

import pytest

from grading import board_services
from grading.boards import Audience, Part, cached_board
from tests.factories import make_organizer
from tests.grading.builders import open_event_exercise

pytestmark = [pytest.mark.django_db]


def test_a_reveal_shows_at_once_although_boards_are_cached(settings):
    settings.BOARD_CACHE_SECONDS = 60
    event_exercise = open_event_exercise()
    organizer = make_organizer(event_exercise.event)
    before = cached_board(event_exercise, audience=Audience.PARTICIPANT, part=Part.PRIVATE)
    board_services.reveal_board(actor=organizer, event_exercise=event_exercise)
    after = cached_board(event_exercise, audience=Audience.PARTICIPANT, part=Part.PRIVATE)
    assert before != after
