"""What the browser journeys share: the running site, the browser's launch, signing in and screenshots."""

from __future__ import annotations

import contextlib
import os
import re
import signal
import sqlite3
import subprocess
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from playwright.sync_api import Page

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = Path("/usr/bin/chromium")
SCREENSHOTS = ROOT / "test-artifacts" / "e2e"
# Flags for a headless browser in a container with no network: no GPU, no updates, no first-run screens.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
# Bounded waits, generous because the machine that runs CI also runs everything else.
PAGE_TIMEOUT_MS = 30_000
GRADING_TIMEOUT_MS = 240_000


def why_no_browser() -> str:
    """Return why the journeys cannot run here, or "" when Chromium and Playwright are both present."""
    if not CHROMIUM.exists():
        return f"{CHROMIUM} is absent: install Debian's chromium package to run the browser journeys"
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "the playwright package is not installed in this environment"
    return ""


requires_browser = pytest.mark.skipif(bool(why_no_browser()), reason=why_no_browser() or "browser present")


@dataclass(frozen=True)
class Site:
    """The site under test: its address, its processes' logs and the facts seeded before it started."""

    url: str
    folder: Path
    database: Path
    server_log: Path
    worker_log: Path
    worker: subprocess.Popen
    env: dict[str, str]
    seeded: dict[str, str]

    def __getitem__(self, name: str) -> str:
        return self.seeded[name]

    def page_url(self, path: str) -> str:
        return self.url + path

    def run_script(self, *args: str) -> str:
        """Run tests/e2e/site_data.py against the site's database, as the site's own processes see it."""
        return _run(["tests/e2e/site_data.py", *args], self.env)

    def count(self, sql: str, *params: Any) -> int:
        """Read one number from the site's database (read-only), for waits that no page shows."""
        with contextlib.closing(sqlite3.connect(f"file:{self.database}?mode=ro", uri=True, timeout=20)) as db:
            return int(db.execute(sql, params).fetchone()[0])

    def confirmation_link(self, email: str, timeout_s: float = 60) -> str:
        """Return the address-confirmation link mailed to the person (the console mailer prints it in the log)."""
        return confirmation_link(self.server_log, email, timeout_s)

    def invitation_link(self, email: str, timeout_s: float = 60) -> str:
        """Return the staff invitation link mailed to the person (printed in the log by the console mailer)."""
        pattern = re.compile(r"(http://127\.0\.0\.1:\d+/invitations/[^\s/]+/)")
        deadline = time.monotonic() + timeout_s
        text = ""
        while time.monotonic() < deadline:
            text = self.server_log.read_text(errors="replace")
            at = text.rfind(f"To: {email}")
            if at >= 0:
                body = text[at:].split("-" * 40, 1)[0]
                if match := pattern.search(body):
                    return match.group(1)
            time.sleep(0.5)
        raise AssertionError(f"no invitation email for {email} in the site's output:\n{text[-3000:]}")

    def wait_until_worker_idle(self, timeout_s: float = 240) -> None:
        """Wait until no submission is queued or running, so that the next one is the only one in the queue."""
        wait_for(
            lambda: self.count("select count(*) from grading_submission where status in ('queued', 'running')") == 0,
            timeout_s,
            "the worker to finish the submissions already queued",
        )

    @contextlib.contextmanager
    def worker_held(self) -> Iterator[Callable[[], None]]:
        """Stop the worker so that a new submission is seen waiting; call the yielded function to let it go."""
        released = False

        def release() -> None:
            nonlocal released
            if not released:
                os.killpg(self.worker.pid, signal.SIGCONT)
                released = True

        os.killpg(self.worker.pid, signal.SIGSTOP)
        try:
            yield release
        finally:
            release()


@dataclass(frozen=True)
class SignOnSite:
    """The site started with single sign-on through a live test issuer (tests/oidc_issuer/), and that issuer."""

    url: str
    folder: Path
    database: Path
    server_log: Path
    env: dict[str, str]
    issuer_url: str
    issuer_env: dict[str, str]
    issuer_log: Path

    def page_url(self, path: str) -> str:
        return self.url + path

    def run_script(self, *args: str) -> str:
        """Run tests/e2e/site_data.py against the site's database, as the site's own processes see it."""
        return _run(["tests/e2e/site_data.py", *args], self.env)

    def add_issuer_account(self, username: str, email: str, *, verified: bool) -> None:
        """Create an account at the issuer, with ISSUER_PASSWORD; `verified` makes it say email_verified=true."""
        verification = "verified" if verified else "unverified"
        _run(["tests/oidc_issuer/issuer.py", "person", username, ISSUER_PASSWORD, email, verification], self.issuer_env)

    def count(self, sql: str, *params: Any) -> int:
        """Read one number from the site's database (read-only)."""
        with contextlib.closing(sqlite3.connect(f"file:{self.database}?mode=ro", uri=True, timeout=20)) as db:
            return int(db.execute(sql, params).fetchone()[0])

    def confirmation_link(self, email: str, timeout_s: float = 60) -> str:
        return confirmation_link(self.server_log, email, timeout_s)


# The password of every account at the test issuer: what a person types on the issuer's own sign-in page.
ISSUER_PASSWORD = "issuer-side-passphrase-7"


def _run(args: list[str], env: dict[str, str]) -> str:
    done = subprocess.run(
        [str(ROOT / ".venv" / "bin" / "python"), *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return done.stdout


def confirmation_link(server_log: Path, email: str, timeout_s: float = 60) -> str:
    """Return the address-confirmation link mailed to the person (the console mailer prints it in the log)."""
    pattern = re.compile(r"(http://127\.0\.0\.1:\d+/accounts/confirm-email/[^\s/]+/)")
    deadline = time.monotonic() + timeout_s
    text = ""
    while time.monotonic() < deadline:
        text = server_log.read_text(errors="replace")
        at = text.rfind(f"To: {email}")
        if at >= 0:
            # The development mailer prints the text decoded (hackathon/console_email.py): links stay whole.
            body = text[at:].split("-" * 40, 1)[0]
            if match := pattern.search(body):
                return match.group(1)
        time.sleep(0.5)
    raise AssertionError(f"no confirmation email for {email} in the site's output:\n{text[-3000:]}")


def wait_for(predicate: Callable[[], Any], timeout_s: float, what: str) -> Any:
    """Poll until the predicate holds, failing with what was awaited after the timeout."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.5)
    raise AssertionError(f"timed out after {timeout_s:.0f} s waiting for {what}")


def reload_until(page: Page, shown: Callable[[], bool], what: str, timeout_s: float = 30) -> None:
    """Reload the page, as a person would, until it shows what is awaited (pages may cache for a few seconds)."""
    deadline = time.monotonic() + timeout_s
    while not shown():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout_s:.0f} s of reloading, waiting for {what}")
        time.sleep(1)
        page.reload()


def shoot(page: Page, name: str) -> Path:
    """Save a full-page screenshot under test-artifacts/e2e/ for a person to look at after the run."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


def shoot_both(page: Page, name: str) -> None:
    """Save the page as a laptop (1280 px) and a phone (390 px) show it, then return to the laptop's width."""
    size = page.viewport_size or {"width": 1280, "height": 900}
    shoot(page, f"{name}-1280")
    page.set_viewport_size({"width": 390, "height": 844})
    width = page.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")
    assert width[0] <= width[1], f"{name} scrolls sideways on a phone: {width[0]} px for {width[1]}"
    shoot(page, f"{name}-390")
    page.set_viewport_size(size)


def sign_in(page: Page, site: Site, email: str) -> None:
    """Sign in through the site's own form with the seeded password."""
    page.goto(site.page_url("/"))
    page.get_by_role("link", name="Sign in").first.click()
    page.locator("#id_login").fill(email)
    page.locator("#id_password").fill(site["password"])
    page.locator("form").get_by_role("button", name="Sign In").click()
    page.get_by_label("Signed in as").wait_for()
    assert page.get_by_label("Signed in as").inner_text() == email


def mark_page(page: Page) -> None:
    """Leave a mark in the page's JavaScript state: a reload or a navigation wipes it."""
    page.evaluate("window.e2eMark = 'this page was not reloaded'")


def page_kept_its_mark(page: Page) -> bool:
    return page.evaluate("window.e2eMark") == "this page was not reloaded"
