"""Start the whole platform for the browser journeys: a migrated file database, the site, a Celery worker, Chromium."""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.browsing import (
    CHROMIUM,
    CHROMIUM_ARGS,
    PAGE_TIMEOUT_MS,
    ROOT,
    Site,
    shoot,
    wait_for,
    why_no_browser,
)

PYTHON = ROOT / ".venv" / "bin" / "python"
# Variables the settings read, found in the settings module itself so that a new one is never forgotten: the site
# gets exactly ours, never those of the shell that runs the tests.
SETTINGS_VARIABLES = frozenset(
    re.findall(r'(?:env_\w+|_required_in_production)\("([A-Z_]+)"', (ROOT / "hackathon" / "settings.py").read_text())
) | {"DJANGO_SETTINGS_MODULE"}


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _site_env(var: Path) -> dict[str, str]:
    env = {name: value for name, value in os.environ.items() if name not in SETTINGS_VARIABLES}
    env.update(
        DJANGO_SETTINGS_MODULE="hackathon.settings",
        HACKATHON_ENV="development",
        VAR_DIR=str(var),  # the secrets, the media, the private data, the sandbox state and the embedded broker
        DATABASE_URL=f"sqlite:///{var / 'db.sqlite3'}",
        SANDBOX_BACKEND="bwrap",
        GRADING_STUCK_MINUTES="45",
        ACCOUNT_EMAIL_VERIFICATION="mandatory",
        PYTHONUNBUFFERED="1",  # the console mailer's output must reach the log while the test reads it
    )
    return env


def _start(args: list[str], env: dict[str, str], log: Path) -> subprocess.Popen:
    return subprocess.Popen(
        args, cwd=ROOT, env=env, stdout=log.open("w"), stderr=subprocess.STDOUT, start_new_session=True
    )


def _stop(process: subprocess.Popen) -> None:
    if process.poll() is not None:
        return
    os.killpg(process.pid, signal.SIGCONT)  # a worker held by a failed test must be able to hear SIGTERM
    os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(15)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(10)


def _answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=5) as response:  # noqa: S310 (our own localhost address)
            return response.status == 200
    except (urllib.error.URLError, OSError):
        return False


def _bwrap_missing_reason(state_dir: Path) -> str:
    from sandbox import SandboxConfig, get_backend

    return get_backend("bwrap", SandboxConfig(state_dir=state_dir)).unavailable_reason() or ""


@pytest.fixture(scope="session")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    """Run the site (runserver) and a real worker on a fresh file database seeded by tests/e2e/site_data.py."""
    if reason := why_no_browser():
        pytest.skip(reason)
    folder = tmp_path_factory.mktemp("e2e-site")
    var = folder / "var"
    if reason := _bwrap_missing_reason(var / "sandbox"):
        pytest.skip(f"bubblewrap cannot run here, and grading needs it: {reason}")
    env = _site_env(var)
    prepared = subprocess.run(
        [str(PYTHON), str(ROOT / "tests" / "e2e" / "site_data.py"), "prepare"],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert prepared.returncode == 0, prepared.stderr[-3000:]
    seeded = json.loads(prepared.stdout.strip().splitlines()[-1])

    port = _free_port()
    env["SITE_URL"] = f"http://127.0.0.1:{port}"  # the address the site's emails link to (invitations, offers)
    server_log, worker_log = folder / "site.log", folder / "worker.log"
    worker = _start(
        [str(PYTHON), "-m", "celery", "-A", "hackathon", "worker", "-Q", "cpu,gpu", "--concurrency", "1",
         "--without-heartbeat", "--without-gossip", "--without-mingle", "--loglevel", "INFO"],
        env, worker_log,
    )  # fmt: skip
    server = _start(
        [str(PYTHON), "manage.py", "runserver", f"127.0.0.1:{port}", "--noreload", "--skip-checks"], env, server_log
    )
    url = f"http://127.0.0.1:{port}"
    try:
        wait_for(lambda: _answers(url + "/") or server.poll() is not None, 120, "the site to answer")
        assert server.poll() is None, server_log.read_text()[-3000:]
        wait_for(lambda: " ready." in worker_log.read_text() or worker.poll() is not None, 120, "the worker")
        assert worker.poll() is None, worker_log.read_text()[-3000:]
        yield Site(
            url=url,
            folder=folder,
            database=var / "db.sqlite3",
            server_log=server_log,
            worker_log=worker_log,
            worker=worker,
            env=env,
            seeded=seeded,
        )
    finally:
        for process in (server, worker):
            _stop(process)


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
