"""Start the whole platform for the browser journeys: a migrated file database, the site, a Celery worker, Chromium."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from tests.e2e.browsing import (
    CHROMIUM,
    CHROMIUM_ARGS,
    PAGE_TIMEOUT_MS,
    Site,
    shoot,
    why_no_browser,
)
from tests.e2e.platform_processes import bwrap_missing_reason, running_site


@pytest.fixture(scope="session")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    """Run the site (runserver) and a real worker on a fresh file database seeded by tests/e2e/site_data.py."""
    if reason := why_no_browser():
        pytest.skip(reason)
    folder = tmp_path_factory.mktemp("e2e-site")
    if reason := bwrap_missing_reason(folder / "var" / "sandbox"):
        pytest.skip(f"bubblewrap cannot run here, and grading needs it: {reason}")
    with running_site(folder) as running:
        yield running


@pytest.fixture(scope="session")
def browser(site: Site) -> Iterator[Any]:
    """Debian's Chromium, headless, driven by Playwright; every launch starts from a fresh profile folder."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Iterator[None]:
    """Keep each phase's report on the test, so that a fixture can tell whether its test failed."""
    report = yield
    setattr(item, f"report_{report.when}", report)
    return report


@pytest.fixture
def new_person(browser: Any, request: pytest.FixtureRequest) -> Iterator[Callable[[], Any]]:
    """Open pages for one more person: each gets a context of their own (cookies, session), closed after the test."""
    contexts: list[Any] = []

    def open_page() -> Any:
        context = browser.new_context(accept_downloads=True, viewport={"width": 1280, "height": 900})
        context.set_default_timeout(PAGE_TIMEOUT_MS)
        contexts.append(context)
        return context.new_page()

    yield open_page
    report = getattr(request.node, "report_call", None)
    for number, context in enumerate(contexts, start=1):
        if report is not None and report.failed:
            # What each person saw when the test failed: the first thing to look at in CI's artifacts.
            for page in context.pages:
                shoot(page, f"FAILED-{request.node.name}-person-{number}")
        context.close()


@pytest.fixture(autouse=True)
def _journey_timer(request: pytest.FixtureRequest) -> Iterator[None]:
    """Print how long each journey took: the module must stay within a few minutes on a small machine."""
    started = time.monotonic()
    yield
    print(f"\n{request.node.name} took {time.monotonic() - started:.0f} s")
