"""The package's tests: a live platform (site and real Celery worker grading on bubblewrap) and a Jupyter server.

The platform runs from the project's own .venv exactly as the browser journeys start it (tests/e2e/
platform_processes.py); this virtualenv holds only Jupyter and the package, as a participant's image does.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from tests.e2e.browsing import Site  # noqa: E402
from tests.e2e.platform_processes import PYTHON, bwrap_missing_reason, running_site  # noqa: E402
from tests.e2e.site_data import LATE_PARTICIPANT, OTHER_MEMBER  # noqa: E402

pytest_plugins = ["pytest_jupyter.jupyter_server"]

PARTICIPANT = OTHER_MEMBER[0]  # a confirmed participant of the seeded base event
OUTSIDER = LATE_PARTICIPANT[0]  # has an account, takes part in nothing


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Iterator[None]:
    """Keep each phase's report on the test, so that a fixture can tell whether its test failed."""
    report = yield
    setattr(item, f"report_{report.when}", report)
    return report


@pytest.fixture(scope="session")
def platform_site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    """Run the platform with the seeded base event and its breast-cancer exercise, or skip saying why it cannot."""
    if not PYTHON.exists():
        pytest.skip(f"{PYTHON} is missing: run `make lab-test` at the project's root, which builds it")
    folder = tmp_path_factory.mktemp("platform")
    if reason := bwrap_missing_reason(folder / "var" / "sandbox"):
        pytest.skip(f"bubblewrap cannot run here, and grading needs it: {reason}")
    with running_site(folder) as site:
        yield site


@pytest.fixture(scope="session")
def tokens(platform_site: Site) -> dict[str, str]:
    """Real API tokens, created as a person creates them on the site's API tokens page."""
    return {email: platform_site.run_script("token", email).strip() for email in (PARTICIPANT, OUTSIDER)}


@pytest.fixture
def jp_server_config() -> dict[str, Any]:
    return {"ServerApp": {"jpserver_extensions": {"hackathon_jupyter": True}}}


@pytest.fixture
def configured(monkeypatch: pytest.MonkeyPatch, platform_site: Site, tokens: dict[str, str]) -> Site:
    """The server's environment as a JupyterHub spawner sets it for the participant."""
    monkeypatch.setenv("HACKATHON_URL", platform_site.url)
    monkeypatch.setenv("HACKATHON_TOKEN", tokens[PARTICIPANT])
    return platform_site
