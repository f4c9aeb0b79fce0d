"""A tutor's journey in a real browser: the group, the stuck member, the shared error, and a help request answered."""

from __future__ import annotations

from typing import Any

import pytest

from tests.e2e.browsing import (
    GRADING_TIMEOUT_MS,
    Site,
    mark_page,
    page_kept_its_mark,
    requires_browser,
    shoot,
    sign_in,
)

pytestmark = [requires_browser, pytest.mark.slow]

QUESTION = "My notebook stops with a KeyError when it reads the radius column. What is it called?"
ANSWER = "The column is called mean_radius: print(rows[0].keys()) lists every name."


def row_of(page: Any, name: str) -> Any:
    return page.locator("#groups tr", has=page.get_by_role("cell", name=name, exact=True))


def test_a_tutor_sees_the_stuck_member_and_the_shared_error_and_answers_the_help_request(
    site: Site, new_person: Any
) -> None:
    # Giulia, stuck on a misspelt column, asks for help about her failed submission from My event.
    giulia = new_person()
    sign_in(giulia, site, site["stuck_member"])
    giulia.get_by_role("link", name="ML_INFN base hackathon (online)").click()
    giulia.get_by_role("button", name="My event: exercises, submissions, help").click()
    # The seeded runs are graded by the worker; the live list shows the failure as soon as it is in.
    giulia.locator("#live-submissions td.status-failed").first.wait_for(timeout=GRADING_TIMEOUT_MS)
    giulia.reload()  # the help form lists the submissions known when the page was drawn
    giulia.get_by_label("What do you need help with?").fill(QUESTION)
    about = giulia.get_by_label("About a submission (optional)")
    failed = about.locator("option", has_text="(failed)").first.get_attribute("value")
    about.select_option(failed)
    giulia.get_by_role("button", name="Ask for help").click()
    assert giulia.get_by_role("status").filter(has_text="Your request is with your group's tutors").count() == 1
    assert "you are number 1 in your group's queue" in giulia.locator("#help-panel").inner_text()
    mark_page(giulia)
    shoot(giulia, "tutor-01-participant-asks-for-help")

    # The tutor's dashboard: the group, Giulia flagged as stuck and Marco not, the error they share.
    tutor = new_person()
    sign_in(tutor, site, site["tutor"])
    tutor.get_by_role("link", name="ML_INFN base hackathon (online)").click()
    tutor.get_by_role("link", name="Tutor's dashboard: groups and help requests").click()
    site.wait_until_worker_idle()  # Marco's runs too, so that the error table is complete
    tutor.reload()
    group = tutor.get_by_role("heading", name="Group 1 — Breast cancer diagnosis from cell nuclei features")
    assert group.count() == 1
    stuck, other = row_of(tutor, site["stuck_member_name"]), row_of(tutor, site["other_member_name"])
    assert "Stuck: no valid submission" in stuck.inner_text()
    assert "stuck" in (stuck.get_attribute("class") or "")
    assert "Stuck" not in other.inner_text()
    assert "1 stuck" in tutor.locator("#groups header").inner_text()
    errors = tutor.locator("#groups table", has=tutor.get_by_role("columnheader", name="Error"))
    shared = errors.locator("tbody tr", has_text="KeyError")
    assert shared.count() == 1, errors.inner_text()  # two misspellings, one signature: 'radius' and 'rad' read '…'
    cells = shared.locator("td").all_inner_texts()
    assert cells[0] == "Breast cancer diagnosis from cell nuclei features"  # the exercise
    assert cells[1] == "2"  # the cell, numbered as the submission page shows it (the second cell)
    assert cells[3] == "2"  # times
    assert set(cells[4].split(", ")) == {site["other_member_name"], site["stuck_member_name"]}
    queue = tutor.locator("#help-queue").inner_text()
    assert site["stuck_member_name"] in queue and "waiting, #1" in queue
    shoot(tutor, "tutor-02-dashboard")

    # The tutor opens the request, takes it and answers.
    tutor.locator("#help-queue tr", has_text=site["stuck_member_name"]).get_by_role("link", name="Open").click()
    assert QUESTION in tutor.locator("#thread").inner_text()
    assert "(failed)" in tutor.locator("#thread").inner_text()
    tutor.get_by_role("button", name="Take this request").click()
    assert tutor.get_by_role("status").filter(has_text="The request is yours").count() == 1
    tutor.get_by_label("Your answer").fill(ANSWER)
    tutor.get_by_role("button", name="Send").click()
    tutor.locator("#thread .help-message", has_text=ANSWER).wait_for()
    shoot(tutor, "tutor-03-help-request-answered")

    # Giulia's page shows the answer by itself, then she marks the problem solved.
    giulia.locator("#help-panel .help-message", has_text=ANSWER).wait_for(timeout=30_000)
    assert "is on it" in giulia.locator("#help-panel").inner_text()
    assert page_kept_its_mark(giulia), "the answer appeared by a reload, not in place"
    shoot(giulia, "tutor-04-participant-reads-the-answer")
    giulia.get_by_role("button", name="My problem is solved").click()
    assert giulia.get_by_label("What do you need help with?").count() == 1  # the form is back for a new request
