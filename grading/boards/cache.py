"""Computed boards kept a few seconds, so a room of browsers polling a board costs one computation per interval.

With a shared cache (CACHE_URL) that is one computation per site and interval; a cache that is down slows the
boards, it does not break them.
"""

from __future__ import annotations

import logging

from django.conf import settings
from django.core.cache import cache

from grading.boards.ranking import Audience, Board, Part, Ranking
from grading.boards.selectors import exercise_board
from hackathon.models import EventExercise

logger = logging.getLogger(__name__)


def board_cache_seconds() -> int:
    return settings.BOARD_CACHE_SECONDS


# In the cached boards' keys: change it with the Board or BoardRow fields, so that during a rolling upgrade the new
# code never unpickles a board the old code cached (nor the old code a new one).
BOARD_CACHE_FORMAT = 4


def _cache_key(event_exercise_id: int, audience: Audience, part: Part, ranking: Ranking) -> str:
    return f"board:v{BOARD_CACHE_FORMAT}:{event_exercise_id}:{audience}:{part}:{ranking}"


def cached_board(
    event_exercise: EventExercise,
    *,
    audience: Audience,
    part: Part = Part.PUBLIC,
    ranking: Ranking = Ranking.PARTICIPANTS,
) -> Board:
    """Return the board computed at most BOARD_CACHE_SECONDS ago (0 turns the cache off)."""
    seconds = board_cache_seconds()
    if seconds <= 0:
        return exercise_board(event_exercise, audience=audience, part=part, ranking=ranking)
    key = _cache_key(event_exercise.pk, audience, part, ranking)
    try:
        board = cache.get(key)
    except Exception:  # a cache that is down slows the boards, it does not break them
        logger.warning("The cache could not be read; computing the board of exercise %s.", event_exercise.pk)
        return exercise_board(event_exercise, audience=audience, part=part, ranking=ranking)
    if board is None:
        board = exercise_board(event_exercise, audience=audience, part=part, ranking=ranking)
        try:
            cache.set(key, board, seconds)
        except Exception:
            logger.warning("The cache could not keep the board of exercise %s.", event_exercise.pk)
    return board


def forget_cached_boards(event_exercise: EventExercise) -> None:
    """Drop the exercise's cached boards, so a reveal, a freeze or a disqualification shows at once."""
    keys = [
        _cache_key(event_exercise.pk, audience, part, ranking)
        for audience in Audience
        for part in Part
        for ranking in Ranking
    ]
    try:
        cache.delete_many(keys)
    except Exception:  # the change is saved; the boards catch up within BOARD_CACHE_SECONDS
        logger.warning("The cache could not forget the boards of exercise %s.", event_exercise.pk)
