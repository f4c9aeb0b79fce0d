"""Board tests compute every board afresh: the few seconds' cache would carry one test's board into the next."""

from __future__ import annotations

import pytest


@pytest.fixture(autouse=True)
def _no_board_cache(settings):  # type: ignore[no-untyped-def]
    settings.BOARD_CACHE_SECONDS = 0
