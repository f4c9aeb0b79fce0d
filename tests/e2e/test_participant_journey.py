"""A participant's journey in a real browser: sign up, register, download, submit, follow the run, read the result."""

from __future__ import annotations

import re
import zipfile
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.browsing import GRADING_TIMEOUT_MS, Site, mark_page, page_kept_its_mark, requires_browser, shoot
from tests.e2e.site_data import broken_notebook, good_notebook

pytestmark = [requires_browser, pytest.mark.slow]

EMAIL = "ada.rossi@e2e.example.org"
PASSWORD = "a-long-enough-passphrase-42"


def sign_up_and_confirm(page: Any, site: Site) -> None:
    """Create an account through the form, follow the emailed link, and end signed in."""
    page.goto(site.page_url("/"))
    page.get_by_role("button", name="Sign up").click()
    page.locator("#id_email").fill(EMAIL)
    page.locator("#id_first_name").fill("Ada")
    page.locator("#id_last_name").fill("Lovelace")
    page.locator("#id_password1").fill(PASSWORD)
    page.locator("#id_password2").fill(PASSWORD)
    shoot(page, "participant-01-sign-up")
    page.locator("main form").get_by_role("button", name="Sign Up").click()
    page.get_by_role("heading", name="Verify Your Email Address").wait_for()

    page.goto(site.confirmation_link(EMAIL))
    page.locator("main form").get_by_role("button", name="Confirm").click()
    if not page.get_by_label("Signed in as").count():
        # allauth signs in on confirmation only within the sign-up's own session; otherwise one signs in.
        page.locator("#id_login").fill(EMAIL)
        page.locator("#id_password").fill(PASSWORD)
        page.locator("main form").get_by_role("button", name="Sign In").click()
    assert page.get_by_label("Signed in as").inner_text() == EMAIL


def test_a_new_participant_submits_watches_the_run_and_reads_score_notebook_roc_and_failing_cell(
    site: Site, new_person: Any, tmp_path: Path
) -> None:
    page = new_person()
    sign_up_and_confirm(page, site)

    # Register for the base event from the home page.
    page.goto(site.page_url("/"))
    page.get_by_role("link", name="ML_INFN base hackathon (online)").click()
    page.get_by_role("button", name="Register").click()
    page.get_by_label("Affiliation (INFN structure)").select_option("pisa")
    page.get_by_label("Career stage").select_option(index=1)
    page.get_by_label("Machine-learning experience").select_option("basic")
    page.get_by_label("Use case, choice 1").select_option(label="Breast cancer diagnosis from cell nuclei features")
    shoot(page, "participant-02-registration")
    page.locator("main form").get_by_role("button", name="Register").click()
    assert page.get_by_role("status").filter(has_text="your place is confirmed").count() == 1

    # My event lists the open exercise; its page offers the notebook and data.
    page.get_by_role("button", name="My event: exercises, submissions, help").click()
    shoot(page, "participant-03-my-event")
    page.get_by_role("link", name="Breast cancer diagnosis from cell nuclei features", exact=True).click()
    with page.expect_download() as download:
        page.get_by_role("button", name="Download the notebook and data (.zip)").click()
    archive = tmp_path / "breast-cancer.zip"
    download.value.save_as(archive)
    names = zipfile.ZipFile(archive).namelist()
    assert "breast-cancer/breast-cancer.ipynb" in names
    assert "breast-cancer/data/test.csv" in names
    exercise_url = page.url

    # Submit while the worker is held: the page shows the run waiting, then running, without a reload.
    notebook = tmp_path / "my-solution.ipynb"
    notebook.write_text(good_notebook(feature=True, pause_s=5))
    site.wait_until_worker_idle()
    with site.worker_held() as release_worker:
        page.get_by_label("Notebook (.ipynb)").set_input_files(notebook)
        page.get_by_role("button", name="Submit for grading").click()
        status = page.locator("#status strong")
        assert status.inner_text() == "Queued"
        assert "Position 1 in the CPU queue" in page.locator("#status").inner_text()
        mark_page(page)
        shoot(page, "participant-04-submission-queued")
        release_worker()
        page.locator("#status strong", has_text="Running").wait_for(timeout=GRADING_TIMEOUT_MS)
    assert page_kept_its_mark(page), "the status changed by a reload, not in place"
    shoot(page, "participant-05-submission-running")

    # The final status reloads the page once, with the score, the pictures and the executed notebook.
    page.locator("#status strong", has_text="Scored").wait_for(timeout=GRADING_TIMEOUT_MS)
    score_text = page.locator("#status").inner_text()
    score = float(re.search(r"Public score: ([0-9.]+)", score_text).group(1))
    assert 0.8 < score <= 1.0, score_text  # the mean radius alone ranks these tumours well
    # The pictures are drawn after the score is stored: the page says so and shows them once they are in.
    roc = page.get_by_role("img", name="ROC curve on the public part")
    roc.wait_for(timeout=GRADING_TIMEOUT_MS)
    assert page.wait_for_function("(img) => img.complete && img.naturalWidth > 0", arg=roc.element_handle())
    executed = page.locator("section", has=page.get_by_role("heading", name="Executed notebook"))
    assert "predictions.csv" in executed.inner_text()
    shoot(page, "participant-06-submission-scored")

    # A broken notebook: the result names the failing cell and shows it in the executed notebook.
    page.goto(exercise_url)
    broken = tmp_path / "broken.ipynb"
    broken.write_text(broken_notebook("radius"))
    page.get_by_label("Notebook (.ipynb)").set_input_files(broken)
    page.get_by_role("button", name="Submit for grading").click()
    page.locator("#status strong", has_text="Failed").wait_for(timeout=GRADING_TIMEOUT_MS)
    assert "KeyError" in page.locator("#status").inner_text()
    page.get_by_role("link", name="Go to the failing cell (cell 2)").click()
    failing = page.locator("#cell-1")
    assert "failed-cell" in (failing.get_attribute("class") or "")
    assert "KeyError" in failing.inner_text()
    shoot(page, "participant-07-failing-cell")

    # Both runs are listed on the exercise page with their outcome.
    page.goto(exercise_url)
    mine = page.locator("section", has=page.get_by_role("heading", name="My submissions")).inner_text()
    assert "Scored" in mine and "Failed" in mine, mine
