"""A participant on a real JupyterHub, in Chromium: open the panel, fetch, fill in, Check, Submit, read the score.

The hub is JupyterHub from PyPI with configurable-http-proxy from the npm registry (package-lock.json), the dummy
authenticator and the simple local spawner; each single-user server runs this package from this virtualenv, with
HACKATHON_URL and HACKATHON_TOKEN in its environment as a hub's spawner sets them. The platform is the live one of
conftest.py. The journey also sends the same notebook through the site's form, and writes both times from pressing
Submit to reading the score to test-artifacts/jupyterlab/timings.json (docs/benchmarks.md quotes them).
"""

from __future__ import annotations

import json
import os
import re
import secrets
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.browsing import CHROMIUM, CHROMIUM_ARGS, ROOT, Site, reload_until, sign_in, wait_for, why_no_browser
from tests.e2e.platform_processes import answers, free_port, start, stop
from tests.e2e.site_data import BASE_SLUG, EXERCISE_SLUG, OTHER_MEMBER

pytestmark = pytest.mark.slow

PACKAGE = Path(__file__).resolve().parents[1]
PROXY = PACKAGE / "node_modules" / ".bin" / "configurable-http-proxy"
SCREENSHOTS = ROOT / "test-artifacts" / "jupyterlab"
USER = "marco"
PASSWORD = "hub-" + secrets.token_hex(8)
SOLUTION = 'test[["id"]].assign(score=test["mean_radius"]).to_csv("output/predictions.csv", index=False)'
GRADING_TIMEOUT_MS = 240_000
UI_TIMEOUT_MS = 60_000


@dataclass(frozen=True)
class Hub:
    url: str
    home: Path
    log: Path


def shoot(page: Any, name: str) -> Path:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    page.screenshot(path=str(path))
    return path


def hub_config(folder: Path, site: Site, token: str, port: int) -> Path:
    """Write the hub's configuration: the example of deploy/jupyterhub/, made local and given a test login."""
    config = folder / "jupyterhub_config.py"
    example = ROOT / "deploy" / "jupyterhub" / "jupyterhub_config.py"
    lines = [
        f"load_subconfig({str(example)!r})",
        f"c.JupyterHub.bind_url = 'http://127.0.0.1:{port}'",
        f"c.JupyterHub.hub_bind_url = 'http://127.0.0.1:{free_port()}'",
        f"c.ConfigurableHTTPProxy.api_url = 'http://127.0.0.1:{free_port()}'",
        f"c.ConfigurableHTTPProxy.command = [{str(PROXY)!r}]",
        f"c.JupyterHub.db_url = 'sqlite:///{folder / 'hub.sqlite'}'",
        f"c.JupyterHub.cookie_secret_file = {str(folder / 'cookie_secret')!r}",
        f"c.ConfigurableHTTPProxy.pid_file = {str(folder / 'proxy.pid')!r}",
        "c.JupyterHub.authenticator_class = 'dummy'",
        f"c.DummyAuthenticator.password = {PASSWORD!r}",
        "c.Authenticator.allow_all = True",
        "c.JupyterHub.spawner_class = 'simple'",
        f"c.SimpleLocalProcessSpawner.home_dir_template = {str(folder / 'homes' / '{username}')!r}",
        f"c.Spawner.cmd = [{str(Path(sys.executable).parent / 'jupyterhub-singleuser')!r}]",
        # The test's token stands in for the one the authenticator's auth_state would carry (see the example).
        f"c.Spawner.environment.update({{'HACKATHON_URL': {site.url!r}, 'HACKATHON_TOKEN': {token!r}}})",
        "c.Spawner.start_timeout = 180",
        "c.Spawner.http_timeout = 180",
    ]
    if os.geteuid() == 0:
        lines.append("c.Spawner.args = ['--allow-root']")  # the single-user server refuses root otherwise
    config.write_text("\n".join(lines) + "\n")
    return config


@pytest.fixture(scope="module")
def hub(platform_site: Site, tokens: dict[str, str], tmp_path_factory: pytest.TempPathFactory) -> Iterator[Hub]:
    if reason := why_no_browser():
        pytest.skip(reason)
    if not PROXY.exists():
        pytest.skip(f"{PROXY} is missing: run `make lab` (npm ci) first")
    folder = tmp_path_factory.mktemp("hub")
    port = free_port()
    config = hub_config(folder, platform_site, tokens[OTHER_MEMBER[0]], port)
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}"}
    env.pop("HACKATHON_URL", None)
    env.pop("HACKATHON_TOKEN", None)
    log = folder / "hub.log"
    process = start([str(Path(sys.executable).parent / "jupyterhub"), "-f", str(config)], env, log)
    url = f"http://127.0.0.1:{port}"
    try:
        wait_for(lambda: answers(url + "/hub/login") or process.poll() is not None, 120, "JupyterHub to answer")
        assert process.poll() is None, log.read_text()[-4000:]
        yield Hub(url=url, home=folder / "homes" / USER, log=log)
    finally:
        stop(process)  # the hub stops the single-user servers and the proxy it started


@pytest.fixture
def browser_page(hub: Hub, request: pytest.FixtureRequest) -> Iterator[Any]:
    """A fresh Chromium; when the test fails, every open page is saved as FAILED-<test>-<n>.png."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS)
        context = browser.new_context(viewport={"width": 1500, "height": 950})
        context.set_default_timeout(UI_TIMEOUT_MS)
        yield context.new_page()
        report = getattr(request.node, "report_call", None)
        if report is not None and report.failed:
            for number, page in enumerate(context.pages, start=1):
                shoot(page, f"FAILED-{request.node.name}-{number}")
        browser.close()


def test_a_participant_fetches_checks_and_submits_from_jupyterlab_and_the_board_shows_the_score(
    hub: Hub, platform_site: Site, browser_page: Any
) -> None:
    page = browser_page
    # Sign in to the hub: it starts the person's server and opens JupyterLab.
    page.goto(hub.url + "/hub/login")
    page.locator("#username_input").fill(USER)
    page.locator("#password_input").fill(PASSWORD)
    page.locator("#login_submit").click()
    page.wait_for_url(re.compile(rf"/user/{USER}/lab"), timeout=180_000)
    page.locator("#jp-main-dock-panel").wait_for()

    # The Hackathon panel lists the event's exercise with what matters now.
    page.locator('.lm-TabBar-tab[data-id="hackathon-panel"]').click()
    card = page.locator('.jp-hackathon-exercise[data-exercise="breast-cancer"]')
    card.wait_for()
    assert card.locator('[data-field="open"]').inner_text() == "yes"
    assert re.fullmatch(r"\d+ of \d+", card.locator('[data-field="remaining"]').inner_text())
    remaining_before = int(card.locator('[data-field="remaining"]').inner_text().split()[0])
    shoot(page, "lab-01-panel")

    # Fetch: the release lands in ~/hackathon/<event>/<exercise>/ and its notebook opens.
    card.get_by_role("button", name="Fetch Breast cancer").click()
    page.locator(".jp-hackathon-message", has_text="Fetched into breast-cancer/").wait_for()
    notebook_file = hub.home / "hackathon" / BASE_SLUG / EXERCISE_SLUG / f"{EXERCISE_SLUG}.ipynb"
    assert notebook_file.is_file() and (notebook_file.parent / "data" / "test.csv").is_file()
    notebook = page.locator(".jp-NotebookPanel:visible")
    notebook.locator(".jp-Cell").nth(3).wait_for()
    shoot(page, "lab-02-fetched")

    # Fill in the solution in the cell that says YOUR CODE HERE.
    cell = notebook.locator(".jp-Cell").nth(3)
    assert "YOUR CODE HERE" in cell.inner_text()
    cell.locator(".cm-content").click()
    page.keyboard.press("Control+a")
    page.keyboard.insert_text(SOLUTION)
    page.keyboard.press("Escape")

    # Check, from the command palette: saved first, then run on the public sample; the status changes in place.
    status = notebook.locator(".jp-hackathon-toolbar-status")
    # Not before the notebook's kernel is up: JupyterLab hides its modal palette whenever any command runs, and runs
    # one of its own (helpmenu:get-kernel) when the new kernel session arrives, so a palette opened earlier can vanish
    # before it is typed in. The status bar reads Idle only once the kernel is connected (the toolbar's circle is idle
    # before any kernel exists).
    page.locator("#jp-main-statusbar", has_text="| Idle").wait_for(timeout=180_000)
    page.locator(".lm-MenuBar-itemLabel", has_text="View").click()
    page.locator(".lm-Menu-itemLabel", has_text="Activate Command Palette").click()
    page.locator(".lm-CommandPalette-input").fill("Hackathon: Check")
    page.keyboard.press("Enter")
    status.filter(has_text=re.compile("Queued|Running|Scored")).wait_for()
    status.filter(has_text="Scored (check on the public sample)").wait_for(timeout=GRADING_TIMEOUT_MS)
    saved = json.loads(notebook_file.read_text())["cells"]
    assert "".join(saved[3]["source"]) == SOLUTION  # the notebook was saved before it was sent
    shoot(page, "lab-03-checked")

    # Submit (confirmed in a dialog): the graded score appears in place; the time is what docs/benchmarks.md quotes.
    platform_site.wait_until_worker_idle()
    notebook.locator(".jp-hackathon-submit").click()
    dialog = page.locator(".jp-Dialog")
    share = dialog.get_by_label("share my notebook with the event after the deadline")
    assert not share.is_checked()  # consent is never given for the person
    share.check()
    dialog.get_by_role("button", name="Submit").click()
    clicked = time.monotonic()
    scored = status.filter(has_text=re.compile(r"^Scored: roc_auc [0-9.]+ on the public part"))
    scored.wait_for(timeout=GRADING_TIMEOUT_MS)
    lab_seconds = time.monotonic() - clicked
    score = float(re.search(r"roc_auc ([0-9.]+)", status.inner_text()).group(1))
    assert 0.8 < score <= 1.0
    shoot(page, "lab-04-submitted")

    # The panel follows: one graded submission fewer today, the best score, the last status.
    card.locator('[data-field="best"]', has_text=f"{score:.4f}").wait_for()
    assert card.locator('[data-field="remaining"]').inner_text().startswith(f"{remaining_before - 1} of")
    assert card.locator('[data-field="last"]').inner_text().startswith("scored")
    shoot(page, "lab-05-panel-after")

    # The platform's board shows the score.
    site_page = page.context.new_page()
    sign_in(site_page, platform_site, OTHER_MEMBER[0])
    board = platform_site.page_url(f"/events/{BASE_SLUG}/exercises/{EXERCISE_SLUG}/board/")
    site_page.goto(board)
    reload_until(site_page, lambda: f"{score:.4f}"[:5] in site_page.locator("main").inner_text(), "the new score")
    shoot(site_page, "lab-06-board")

    # The same notebook through the site's form, for the comparison in docs/benchmarks.md.
    site_page.goto(platform_site.page_url(f"/events/{BASE_SLUG}/exercises/{EXERCISE_SLUG}/"))
    newest = site_page.locator("section[aria-labelledby=mine] tbody tr").first.inner_text()
    assert "graded · shared" in newest, newest  # the dialog's ticked box reached the platform
    platform_site.wait_until_worker_idle()
    site_page.get_by_label("Notebook (.ipynb)").set_input_files(notebook_file)
    site_page.get_by_role("button", name="Submit for grading").click()
    clicked = time.monotonic()
    site_page.locator("#status strong", has_text="Scored").wait_for(timeout=GRADING_TIMEOUT_MS)
    site_seconds = time.monotonic() - clicked
    shoot(site_page, "lab-07-site-scored")

    # A mistake: Check says which cell failed, and the toolbar's button jumps to it.
    cell.locator(".cm-content").click()
    page.keyboard.press("Control+a")
    page.keyboard.insert_text(SOLUTION.replace("mean_radius", "mean radius"))
    page.keyboard.press("Escape")
    notebook.locator(".jp-Cell").first.click()
    notebook.locator(".jp-hackathon-check").click()
    status.filter(has_text=re.compile(r"^Failed \(check on the public sample\) \(exception\) in cell 3")).wait_for(
        timeout=GRADING_TIMEOUT_MS
    )
    status.get_by_role("button", name="Go to cell 3").click()
    assert "mean radius" in notebook.locator(".jp-Cell.jp-mod-active").inner_text()
    shoot(page, "lab-08-failed-cell")

    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    timings = {"jupyterlab_submit_to_score_s": round(lab_seconds, 2), "site_submit_to_score_s": round(site_seconds, 2)}
    (SCREENSHOTS / "timings.json").write_text(json.dumps(timings, indent=1) + "\n")
    print(f"\nSubmit to score: JupyterLab {lab_seconds:.1f} s, site {site_seconds:.1f} s")


def test_the_exercise_pages_open_in_jupyterhub_link_fetches_and_opens_the_notebook(
    hub: Hub, platform_site: Site, browser_page: Any
) -> None:
    page = browser_page
    platform_site.run_script("hub", BASE_SLUG, hub.url)
    sign_in(page, platform_site, OTHER_MEMBER[0])
    page.goto(platform_site.page_url(f"/events/{BASE_SLUG}/exercises/{EXERCISE_SLUG}/"))
    page.get_by_role("button", name="Open in JupyterHub").click()
    page.wait_for_url(re.compile(r"/hub/login|/lab/tree/"), timeout=180_000)
    if "/hub/login" in page.url:  # this browser has not signed in to the hub yet: the hub asks, then goes on
        page.locator("#username_input").fill(USER)
        page.locator("#password_input").fill(PASSWORD)
        page.locator("#login_submit").click()
    page.wait_for_url(re.compile(rf"/user/{USER}/lab/tree/hackathon/{BASE_SLUG}/{EXERCISE_SLUG}/"), timeout=180_000)
    page.locator(".jp-NotebookPanel:visible .jp-Cell", has_text="output/predictions.csv").first.wait_for()
    page.locator('.jp-hackathon-exercise[data-exercise="breast-cancer"]').wait_for()
    assert (hub.home / "hackathon" / BASE_SLUG / EXERCISE_SLUG / f"{EXERCISE_SLUG}.ipynb").is_file()
    shoot(page, "lab-09-opened-from-the-site")
