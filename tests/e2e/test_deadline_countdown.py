"""The deadline's countdown in the browser asks for a reload only when the deadline passes while the page is open."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from pathlib import Path
from typing import Any

from tests.e2e.platform_processes import ROOT

SITE_JS = ROOT / "hackathon" / "static" / "site.js"


def deadline_page(tmp_path: Path, closes_at: dt.datetime) -> str:
    """Write a page with one deadline as the exercise page draws it, loading the site's script; return its address."""
    iso = closes_at.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    page = tmp_path / "deadline.html"
    page.write_text(
        f'<!doctype html><html><head><script src="{SITE_JS.as_uri()}"></script></head><body>'
        f'<p id="deadline" data-closes-at="{iso}">Closes <span data-countdown></span></p></body></html>'
    )
    return page.as_uri()


def test_a_page_loaded_after_the_deadline_does_not_ask_for_a_reload(
    new_person: Callable[[], Any], tmp_path: Path
) -> None:
    page = new_person()
    page.goto(deadline_page(tmp_path, dt.datetime.now(dt.UTC) - dt.timedelta(minutes=5)))
    page.wait_for_load_state()
    assert page.locator("[data-countdown]").inner_text() == ""


def test_a_deadline_that_passes_while_the_page_is_open_asks_for_a_reload(
    new_person: Callable[[], Any], tmp_path: Path
) -> None:
    page = new_person()
    page.clock.install()
    page.goto(deadline_page(tmp_path, dt.datetime.now(dt.UTC) + dt.timedelta(seconds=90)))
    page.wait_for_load_state()
    assert page.locator("[data-countdown]").inner_text() == "1 min left"
    page.clock.run_for(120_000)
    assert page.locator("[data-countdown]").inner_text() == "closed now: reload the page"
