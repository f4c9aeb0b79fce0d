"""Tutoring tests share one small event, built afresh for each test."""

from __future__ import annotations

import pytest

from tests.builders.casts import Setting, make_setting


@pytest.fixture
def setting(db: None) -> Setting:
    return make_setting()
