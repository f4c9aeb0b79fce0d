"""Talking to the room in a real browser: an announcement to everyone an error hit, read as a banner; an extension."""

from __future__ import annotations

import datetime as dt
import zoneinfo
from typing import Any

import pytest

from tests.e2e.browsing import Site, requires_browser, shoot, shoot_both, sign_in

pytestmark = [requires_browser, pytest.mark.slow]

TITLE = "About the KeyError on the radius column"
BODY = "The column is called `mean_radius`: **print the names** with `rows[0].keys()` before you read one."


def test_an_organizer_writes_to_everyone_an_error_hit_and_a_member_reads_the_banner(
    site: Site, new_person: Any
) -> None:
    # The organizer finds the error the group shares on the dashboard and writes to the people it hit.
    organizer = new_person()
    sign_in(organizer, site, site["organizer"])
    site.wait_until_worker_idle()  # the seeded runs, so that the error is there
    organizer.goto(site.page_url(f"/events/{site['base_slug']}/tutor/"))
    errors = organizer.locator("#groups table", has=organizer.get_by_role("columnheader", name="Error"))
    errors.locator("tbody tr", has_text="KeyError").get_by_role("link", name="Write to them").click()
    audience = organizer.locator("#error-audience").inner_text()
    assert "KeyError" in audience and "2 people now" in audience, audience
    organizer.get_by_label("Title").fill(TITLE)
    organizer.get_by_label("Message").fill(BODY)
    shoot_both(organizer, "announce-01-write-to-an-errors-audience")
    organizer.get_by_role("button", name="Send the announcement").click()
    assert organizer.get_by_role("status").filter(has_text="is sent to 2 people").count() == 1
    history = organizer.locator("article", has_text=TITLE).inner_text()
    assert "2 recipients, 0 read" in history and "KeyError" in history
    shoot_both(organizer, "announce-02-history")

    # Giulia, whose latest run failed with it, sees the banner on her pages until she marks it read.
    giulia = new_person()
    sign_in(giulia, site, site["stuck_member"])
    banner = giulia.locator("#announcements article", has_text=TITLE)
    banner.wait_for()
    assert "print the names" in banner.locator("strong").all_inner_texts()
    shoot_both(giulia, "announce-03-participant-banner")
    giulia.get_by_role("link", name="ML_INFN base hackathon (online)").click()
    banner.wait_for()  # on every page, until read
    banner.get_by_role("button", name="Mark as read").click()
    banner.wait_for(state="detached")
    giulia.reload()
    giulia.locator("#announcements").wait_for(state="attached")
    giulia.wait_for_load_state("networkidle")
    assert giulia.locator("#announcements article").count() == 0
    organizer.reload()
    assert "2 recipients, 1 read" in organizer.locator("article", has_text=TITLE).inner_text()


def test_an_organizer_grants_an_extension_and_the_participant_sees_their_deadline(site: Site, new_person: Any) -> None:
    organizer = new_person()
    sign_in(organizer, site, site["organizer"])
    organizer.goto(site.page_url(f"/events/{site['base_slug']}/"))
    organizer.get_by_role("navigation", name="Event pages").get_by_role("link", name="Extensions").click()
    # The seeded exercise closes in two days; the extension gives three, in the organizer's time zone (the site's).
    until = dt.datetime.now(zoneinfo.ZoneInfo("Europe/Rome")) + dt.timedelta(days=3)
    organizer.get_by_label("Exercise").select_option(index=1)  # the only exercise, labelled with its closing
    organizer.get_by_label("Participant").select_option(label=f"{site['stuck_member_name']} <{site['stuck_member']}>")
    organizer.get_by_label("Submissions close for them at").fill(until.strftime("%Y-%m-%dT%H:%M"))
    organizer.get_by_label("Reason").fill("Her laptop died on the second day.")
    organizer.get_by_role("button", name="Grant the extension").click()
    assert organizer.get_by_role("status").filter(has_text="1 person may submit").count() == 1
    assert (
        "Her laptop died"
        in organizer.locator("#granted ~ div table, section[aria-labelledby=granted]").first.inner_text()
    )
    shoot_both(organizer, "announce-04-extension-granted")

    giulia = new_person()
    sign_in(giulia, site, site["stuck_member"])
    giulia.goto(site.page_url(f"/events/{site['base_slug']}/exercises/{site['exercise_slug']}/"))
    deadline = giulia.locator("#deadline").inner_text()
    assert f"Submissions close on {until:%d %b %Y at %H:%M} (Europe/Rome), thanks to your extension" in deadline
    shoot(giulia, "announce-05-participant-deadline")
