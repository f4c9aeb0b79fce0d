"""An organizer's journey in a real browser: a new event, its groups, the live board, freeze, reveal, CSV export."""

from __future__ import annotations

import csv
import datetime as dt
import io
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from tests.e2e.browsing import (
    GRADING_TIMEOUT_MS,
    Site,
    mark_page,
    page_kept_its_mark,
    reload_until,
    requires_browser,
    shoot,
    sign_in,
)
from tests.e2e.site_data import good_notebook

pytestmark = [requires_browser, pytest.mark.slow]

TITLE = "ML_INFN base hackathon (spring)"
SLUG = "base-spring"
EXERCISE = "Breast cancer diagnosis from cell nuclei features"
SITE_TIME_ZONE = ZoneInfo("Europe/Rome")  # the settings' default TIME_ZONE: the form's dates are read in it


def create_event(organizer: Any, site: Site) -> None:
    today = dt.datetime.now(SITE_TIME_ZONE).date()
    organizer.goto(site.page_url("/"))
    organizer.get_by_role("button", name="New event").click()
    organizer.get_by_label("Title").fill(TITLE)
    organizer.get_by_label("Slug").fill(SLUG)
    organizer.get_by_label("Level").select_option("base")
    organizer.get_by_label("Mode").select_option("online")
    # The event runs from today, so its exercise is open now; registration opened yesterday.
    organizer.get_by_label("Starts on").fill(today.isoformat())
    organizer.get_by_label("Ends on").fill((today + dt.timedelta(days=2)).isoformat())
    organizer.get_by_label("Registration opens at").fill(f"{today - dt.timedelta(days=1)}T09:00")
    organizer.get_by_label("Registration closes at").fill(f"{today + dt.timedelta(days=1)}T18:00")
    organizer.get_by_label("Compute").select_option("cpu")
    organizer.get_by_label(EXERCISE).check()
    assert organizer.get_by_label("Published").is_checked()
    shoot(organizer, "organizer-01-new-event")
    organizer.get_by_role("button", name="Create the event").click()
    assert organizer.get_by_role("status").filter(has_text=f"{TITLE} is created").count() == 1


def register(participant: Any) -> None:
    participant.get_by_role("link", name=TITLE).click()
    participant.get_by_role("button", name="Register").click()
    participant.get_by_label("Affiliation (INFN structure)").select_option("bari")
    participant.get_by_label("Career stage").select_option(index=1)
    participant.get_by_label("Machine-learning experience").select_option("none")
    participant.get_by_label("Use case, choice 1").select_option(label=EXERCISE)
    participant.locator("main form").get_by_role("button", name="Register").click()
    assert participant.get_by_role("status").filter(has_text="your place is confirmed").count() == 1


def test_an_organizer_creates_an_event_forms_groups_watches_the_board_freezes_reveals_and_exports(
    site: Site, new_person: Any, tmp_path: Any
) -> None:
    organizer = new_person()
    sign_in(organizer, site, site["organizer"])
    create_event(organizer, site)

    # Lucia registers through the site; the seeded tutor and Marco join the event from the data script.
    lucia = new_person()
    sign_in(lucia, site, site["late_participant"])
    register(lucia)
    site.run_script("enrol", SLUG)

    # The organizer forms the groups.
    organizer.goto(site.page_url(f"/events/{SLUG}/"))
    organizer.get_by_role("navigation", name="Event pages").get_by_role("link", name="Groups").click()
    organizer.get_by_role("link", name="Form the groups…").click()
    shoot(organizer, "organizer-02-confirm-forming-the-groups")
    organizer.get_by_role("button", name="Yes, form the groups").click()
    assert organizer.get_by_role("status").filter(has_text="Formed 1 groups; 2 of 2 participants").count() == 1
    groups = organizer.locator("table", has=organizer.get_by_role("columnheader", name="Use case")).inner_text()
    assert site["late_participant_name"] in groups and site["other_member_name"] in groups
    assert "Tommaso Tutor" in groups and "meets the ratio" in groups
    shoot(organizer, "organizer-02-groups")

    # The organizer's boards page, live; Lucia submits; her score appears there without a reload.
    organizer.get_by_role("navigation", name="Event pages").get_by_role("link", name="Boards").click()
    live = organizer.locator("#organizer-live")
    assert site["late_participant_name"] not in live.inner_text()
    mark_page(organizer)

    notebook = tmp_path / "lucia.ipynb"
    notebook.write_text(good_notebook(feature=True))
    lucia.get_by_role("button", name="My event: exercises, submissions, help").click()
    lucia.get_by_role("link", name=EXERCISE, exact=True).click()
    exercise_url = lucia.url
    lucia.get_by_label("Notebook (.ipynb)").set_input_files(notebook)
    lucia.get_by_role("button", name="Submit for grading").click()
    lucia.locator("#status strong", has_text="Scored").wait_for(timeout=GRADING_TIMEOUT_MS)

    public_board = live.locator("table", has_text="public board, participants")
    public_board.locator("tr", has_text=site["late_participant_name"]).wait_for(timeout=60_000)
    assert page_kept_its_mark(organizer), "the board changed by a reload, not in place"
    assert "Lucia Verdi" in live.locator("table", has_text="private board, participants").inner_text()
    shoot(organizer, "organizer-03-live-board-updated")

    # Freeze: a freeze this long before the end is already in force, so participants see no later score.
    organizer.get_by_role("link", name="Board settings").click()
    organizer.get_by_label("Freeze the public board this many minutes before the end").fill("10000")
    organizer.get_by_role("button", name="Save the board settings").click()
    assert organizer.get_by_role("status").filter(has_text="Saved the board settings").count() == 1
    assert "freezes 10000 min before the end" in organizer.locator("#organizer-live").inner_text()
    lucia.goto(exercise_url)
    lucia.get_by_role("link", name="The board of this exercise").click()
    standings = lucia.locator("section", has=lucia.get_by_role("heading", name="Standings"))
    reload_until(lucia, lambda: "The board is frozen since" in standings.inner_text(), "the frozen public board")
    assert "Lucia Verdi" not in standings.inner_text()
    shoot(lucia, "organizer-04-participant-sees-the-frozen-board")
    lucia.get_by_role("link", name="Private board (final)").click()
    assert "The private board is hidden until the organizers reveal it" in standings.inner_text()

    # Reveal: the private board opens to the participants with Lucia's final score.
    organizer.get_by_role("link", name="Reveal the private board…").click()
    assert "cannot be hidden again" in organizer.locator("main").inner_text()
    organizer.get_by_role("button", name="Yes, reveal the private board").click()
    assert organizer.get_by_role("status").filter(has_text="is now open to everyone").count() == 1
    assert "private board revealed" in organizer.locator("#organizer-live").inner_text()
    # Boards are cached for a few seconds (BOARD_CACHE_SECONDS), so the reveal shows on a reload soon after.
    reload_until(lucia, lambda: "Lucia Verdi (you)" in standings.inner_text(), "Lucia's entry on the private board")
    shoot(lucia, "organizer-05-participant-sees-the-revealed-board")

    # Export: every board in one CSV, Lucia's entries with their scores among them.
    with organizer.expect_download() as download:
        organizer.get_by_role("button", name="Export every board (CSV)").click()
    assert download.value.suggested_filename == f"{SLUG}-boards.csv"
    rows = list(csv.DictReader(io.StringIO(download.value.path().read_text())))
    lucias = [
        row
        for row in rows
        if (row["board"], row["ranking"], row["name"]) == ("exercise", "participants", site["late_participant_name"])
    ]
    assert {row["part"] for row in lucias} == {"public", "private"}, rows
    assert all(0.8 < float(row["score"]) <= 1.0 for row in lucias), lucias
    shoot(organizer, "organizer-06-boards-after-reveal")
