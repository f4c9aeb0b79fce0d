"""An organizer runs an event alone in a real browser, by clicking only: create it, staff it, open its exercise now,
form the groups with the invited tutor, watch a participant's score arrive live, freeze, reveal and export."""

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
    shoot_both,
    sign_in,
)
from tests.e2e.site_data import good_notebook

pytestmark = [requires_browser, pytest.mark.slow]

TITLE = "ML_INFN base hackathon (spring)"
SLUG = "ml_infn-base-hackathon-spring"  # derived from the title: the organizer leaves the address empty
EXERCISE = "Breast cancer diagnosis from cell nuclei features"
NEW_TUTOR = ("nina.nuova@e2e.example.org", "Nina", "Nuova")
SITE_TIME_ZONE = ZoneInfo("Europe/Rome")  # the settings' default TIME_ZONE: the form's dates are read in it


def status_says(page: Any, text: str) -> None:
    assert page.get_by_role("status").filter(has_text=text).count() >= 1, page.locator("main").inner_text()[:2000]


def create_event(organizer: Any, site: Site) -> None:
    """A new event from tomorrow, as organizers prepare them: its exercise opens with it unless moved."""
    today = dt.datetime.now(SITE_TIME_ZONE).date()
    organizer.goto(site.page_url("/"))
    organizer.get_by_role("button", name="New event").click()
    organizer.get_by_label("Title").fill(TITLE)
    organizer.get_by_label("Level").select_option("base")
    organizer.get_by_label("Mode").select_option("online")
    organizer.get_by_label("Starts on").fill((today + dt.timedelta(days=1)).isoformat())
    organizer.get_by_label("Ends on").fill((today + dt.timedelta(days=3)).isoformat())
    organizer.get_by_label("Registration opens at").fill(f"{today - dt.timedelta(days=1)}T09:00")
    organizer.get_by_label("Registration closes at").fill(f"{today + dt.timedelta(days=1)}T18:00")
    organizer.get_by_label("Compute").select_option("cpu")
    organizer.get_by_label(EXERCISE).check()
    assert organizer.get_by_label("Published").is_checked()
    shoot_both(organizer, "organizer-01-new-event")
    organizer.get_by_role("button", name="Create the event").click()
    status_says(organizer, f"{TITLE} is created")
    assert organizer.url.endswith(f"/events/{SLUG}/edit/")


def staff_the_event(organizer: Any, site: Site) -> None:
    """Invite a new tutor by email, and make an existing account a co-organizer at once."""
    organizer.get_by_role("navigation", name="Event pages").get_by_role("link", name="Staff").click()
    organizer.get_by_label("Email address").fill(NEW_TUTOR[0])
    organizer.get_by_label("Role").select_option("tutor")
    organizer.get_by_role("button", name="Invite").click()
    status_says(organizer, "an invitation link was emailed")
    organizer.get_by_label("Email address").fill(site["stuck_member"])
    organizer.get_by_label("Role").select_option("organizer")
    organizer.get_by_role("button", name="Invite").click()
    status_says(organizer, "is now an organizer")
    staff = organizer.locator("section", has=organizer.get_by_role("heading", name="Staff", exact=True)).inner_text()
    assert site["stuck_member_name"] in staff and "Organizer" in staff
    pending = organizer.locator("section", has=organizer.get_by_role("heading", name="Pending invitations"))
    assert NEW_TUTOR[0] in pending.inner_text()
    shoot_both(organizer, "organizer-02-staff")


def tutor_accepts(tutor: Any, site: Site) -> None:
    """The tutor follows the emailed link, signs up with that address, and declares expertise and days."""
    tutor.goto(site.invitation_link(NEW_TUTOR[0]))
    shoot_both(tutor, "organizer-03-invitation")
    tutor.get_by_role("button", name=f"Sign up with {NEW_TUTOR[0]}").click()
    assert tutor.locator("#id_email").input_value() == NEW_TUTOR[0]
    tutor.locator("#id_first_name").fill(NEW_TUTOR[1])
    tutor.locator("#id_last_name").fill(NEW_TUTOR[2])
    tutor.locator("#id_password1").fill(site["password"])
    tutor.locator("#id_password2").fill(site["password"])
    tutor.locator("form").get_by_role("button", name="Sign Up").click()
    status_says(tutor, f"You are now a tutor of {TITLE}")
    assert tutor.get_by_role("heading", name="Your expertise and availability").count() == 1
    days = tutor.locator("fieldset", has_text="Days you can help").get_by_role("checkbox")
    for n in range(days.count()):
        days.nth(n).check()
    tutor.locator("fieldset", has_text="Expertise").get_by_role("checkbox").first.check()
    shoot_both(tutor, "organizer-04-tutor-expertise")
    tutor.get_by_role("button", name="Save").click()
    status_says(tutor, "Your expertise and availability are saved")


def open_the_exercise_now(organizer: Any) -> None:
    """The event starts tomorrow; its exercise opens now, from the event's own page."""
    organizer.get_by_role("navigation", name="Event pages").get_by_role("link", name="Edit").click()
    now = dt.datetime.now(SITE_TIME_ZONE) - dt.timedelta(minutes=5)
    organizer.get_by_label(f"Opens at ({EXERCISE})").fill(now.strftime("%Y-%m-%dT%H:%M"))
    shoot_both(organizer, "organizer-05-exercise-window")
    organizer.get_by_role("button", name="Save").click()
    status_says(organizer, "The event, its exercises and its programme are saved")


def register(participant: Any) -> None:
    participant.get_by_role("link", name=TITLE).click()
    participant.get_by_role("button", name="Register").click()
    participant.get_by_label("Affiliation (INFN structure)").select_option("bari")
    participant.get_by_label("Career stage").select_option(index=1)
    participant.get_by_label("Machine-learning experience").select_option("none")
    participant.get_by_label("Use case, choice 1").select_option(label=EXERCISE)
    participant.locator("main form").get_by_role("button", name="Register").click()
    status_says(participant, "your place is confirmed")


def test_an_organizer_runs_an_event_alone_from_creation_to_the_revealed_board(
    site: Site, new_person: Any, tmp_path: Any
) -> None:
    organizer = new_person()
    sign_in(organizer, site, site["organizer"])
    create_event(organizer, site)
    staff_the_event(organizer, site)
    tutor_accepts(new_person(), site)
    open_the_exercise_now(organizer)

    # Lucia registers through the site; Marco joins from the data script.
    lucia = new_person()
    sign_in(lucia, site, site["late_participant"])
    register(lucia)
    site.run_script("enrol", SLUG)

    # The organizer forms the groups, after a page that says what forming them does; the invited tutor leads.
    organizer.get_by_role("navigation", name="Event pages").get_by_role("link", name="Groups").click()
    organizer.get_by_role("button", name="Form the groups…").click()
    shoot_both(organizer, "organizer-06-confirm-forming-the-groups")
    organizer.get_by_role("button", name="Yes, form the groups").click()
    status_says(organizer, "Formed 1 group; 2 of 2 participants")
    groups = organizer.locator("table", has=organizer.get_by_role("columnheader", name="Use case")).inner_text()
    assert site["late_participant_name"] in groups and site["other_member_name"] in groups
    assert " ".join(NEW_TUTOR[1:]) in groups and "meets the ratio" in groups
    shoot_both(organizer, "organizer-07-groups")

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
    assert "Open until" in lucia.locator("#window").inner_text()
    lucia.get_by_label("Notebook (.ipynb)").set_input_files(notebook)
    lucia.get_by_role("button", name="Submit for grading").click()
    lucia.locator("#status strong", has_text="Scored").wait_for(timeout=GRADING_TIMEOUT_MS)
    shoot_both(lucia, "organizer-08-participant-scored")

    public_board = live.locator("table", has_text="public board, participants")
    public_board.locator("tr", has_text=site["late_participant_name"]).wait_for(timeout=60_000)
    assert page_kept_its_mark(organizer), "the board changed by a reload, not in place"
    assert "Lucia Verdi" in live.locator("table", has_text="private board, participants").inner_text()
    shoot_both(organizer, "organizer-09-live-board-updated")

    # Freeze: a freeze this long before the end is already in force, so participants see no later score.
    organizer.get_by_role("link", name="Board settings").click()
    organizer.get_by_label("Freeze the public board this many minutes before the end").fill("10000")
    organizer.get_by_role("button", name="Save the board settings").click()
    status_says(organizer, "Saved the board settings")
    assert "freezes 10000 min before the end" in organizer.locator("#organizer-live").inner_text()
    lucia.goto(exercise_url)
    lucia.get_by_role("link", name="The board of this exercise").click()
    standings = lucia.locator("section", has=lucia.get_by_role("heading", name="Standings"))
    reload_until(lucia, lambda: "The board is frozen since" in standings.inner_text(), "the frozen public board")
    assert "Lucia Verdi" not in standings.inner_text()
    shoot(lucia, "organizer-10-participant-sees-the-frozen-board")
    lucia.get_by_role("link", name="Private board (final)").click()
    assert "The private board is hidden until the organizers reveal it" in standings.inner_text()

    # Reveal, after a page that says it cannot be undone: the private board opens with Lucia's final score.
    organizer.get_by_role("link", name="Reveal the private board…").click()
    assert "cannot be hidden again" in organizer.locator("main").inner_text()
    organizer.get_by_role("button", name="Yes, reveal the private board").click()
    status_says(organizer, "is now open to everyone")
    assert "private board revealed" in organizer.locator("#organizer-live").inner_text()
    # Boards are cached for a few seconds (BOARD_CACHE_SECONDS), so the reveal shows on a reload soon after.
    reload_until(lucia, lambda: "Lucia Verdi (you)" in standings.inner_text(), "Lucia's entry on the private board")
    lucia.get_by_role("link", name="Public board").click()
    assert "frozen since" not in standings.inner_text(), "a revealed board is never shown as frozen"
    shoot(lucia, "organizer-11-participant-sees-the-revealed-board")

    # Export: every board in one CSV, Lucia's entries by name with their scores among them.
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
    shoot_both(organizer, "organizer-12-boards-after-reveal")
