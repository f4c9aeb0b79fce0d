"""Start the whole platform for the browser journeys: a migrated file database, the site, a Celery worker, Chromium.

The single sign-on journey gets a site of its own, started with OIDC_ISSUER pointing at a live test issuer."""

from __future__ import annotations

import os
import subprocess
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from tests.e2e.browsing import (
    CHROMIUM,
    CHROMIUM_ARGS,
    PAGE_TIMEOUT_MS,
    SignOnSite,
    Site,
    shoot,
    wait_for,
    why_no_browser,
)
from tests.e2e.platform_processes import (
    PYTHON,
    ROOT,
    SETTINGS_VARIABLES,
    answers,
    bwrap_missing_reason,
    free_port,
    running_site,
    site_env,
    start,
    stop,
)


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


# How the platform knows the test issuer: the client it is registered as, under the provider id of production.
OIDC_CLIENT_ID = "ml-infn-hackathon"
OIDC_CLIENT_SECRET = "test-issuer-client-secret-0123456789"
OIDC_PROVIDER_ID = "infn-aai"


def _rsa_private_key_pem() -> str:
    """Generate the issuer's RS256 signing key for this run: no key is kept in the repository."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()


@pytest.fixture(scope="session")
def sign_on_site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SignOnSite]:
    """Run the test OpenID Connect issuer and a site whose OIDC_ISSUER is that issuer, each in a process of its own."""
    if reason := why_no_browser():
        pytest.skip(reason)
    folder = tmp_path_factory.mktemp("e2e-sso")
    issuer_port, site_port = free_port(), free_port()
    issuer_url, url = f"http://127.0.0.1:{issuer_port}", f"http://127.0.0.1:{site_port}"

    issuer_env = {name: value for name, value in os.environ.items() if name not in SETTINGS_VARIABLES}
    issuer_env.update(
        DJANGO_SETTINGS_MODULE="tests.oidc_issuer.settings",
        ISSUER_DATABASE=str(folder / "issuer.sqlite3"),
        ISSUER_RSA_PRIVATE_KEY=_rsa_private_key_pem(),
        ISSUER_SECRET_KEY=os.urandom(32).hex(),
        PYTHONUNBUFFERED="1",
    )
    callback = f"{url}/accounts/oidc/{OIDC_PROVIDER_ID}/login/callback/"
    prepared = subprocess.run(
        [str(PYTHON), "tests/oidc_issuer/issuer.py", "prepare", OIDC_CLIENT_ID, OIDC_CLIENT_SECRET, callback],
        cwd=ROOT, env=issuer_env, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert prepared.returncode == 0, prepared.stderr[-3000:]

    env = site_env(folder / "var")
    env.update(
        OIDC_ISSUER=issuer_url,
        OIDC_CLIENT_ID=OIDC_CLIENT_ID,
        OIDC_CLIENT_SECRET=OIDC_CLIENT_SECRET,
        OIDC_PROVIDER_ID=OIDC_PROVIDER_ID,
        OIDC_PROVIDER_NAME="INFN AAI",
    )
    migrated = subprocess.run(
        [str(PYTHON), "tests/e2e/site_data.py", "migrate"], cwd=ROOT, env=env, capture_output=True, text=True,
        timeout=300,
    )  # fmt: skip
    assert migrated.returncode == 0, migrated.stderr[-3000:]

    issuer_log, server_log = folder / "issuer.log", folder / "site.log"
    issuer = start(
        [str(PYTHON), "-m", "django", "runserver", f"127.0.0.1:{issuer_port}", "--noreload"], issuer_env, issuer_log
    )
    server = start(
        [str(PYTHON), "manage.py", "runserver", f"127.0.0.1:{site_port}", "--noreload", "--skip-checks"],
        env, server_log,
    )  # fmt: skip
    try:
        for process, address, log, what in (
            (issuer, issuer_url + "/.well-known/openid-configuration", issuer_log, "the issuer's discovery document"),
            (server, url + "/", server_log, "the site to answer"),
        ):
            wait_for(lambda: answers(address) or process.poll() is not None, 120, what)  # noqa: B023 (called at once)
            assert process.poll() is None, log.read_text()[-3000:]
        yield SignOnSite(
            url=url,
            folder=folder,
            database=folder / "var" / "db.sqlite3",
            server_log=server_log,
            env=env,
            issuer_url=issuer_url,
            issuer_env=issuer_env,
            issuer_log=issuer_log,
        )
    finally:
        for process in (server, issuer):
            stop(process)


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    """Debian's Chromium, headless, driven by Playwright; every launch starts from a fresh profile folder."""
    if reason := why_no_browser():
        pytest.skip(reason)
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
