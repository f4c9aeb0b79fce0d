"""Closing an event in a real browser: the organizer releases the solution and a shared notebook and issues the
certificates; a participant reads the solution and the debrief, downloads a certificate (looked at as a picture) and
anyone confirms it at its address, until the organizer revokes one."""

from __future__ import annotations

import io
import re
import zipfile
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.browsing import SCREENSHOTS, Site, requires_browser, shoot, shoot_both, sign_in
from tests.e2e.site_data import CLOSING_ONLY_MEMBER

pytestmark = [requires_browser, pytest.mark.slow]

EVENT = "ML_INFN winter school (closing day)"
EXERCISE = "Breast cancer diagnosis from cell nuclei features"
VERIFY = re.compile(r"https?://\S+/certificates/[^\s/]+/")


def pdf_text(payload: bytes) -> str:
    from pypdf import PdfReader

    return " ".join(" ".join((page.extract_text() or "") for page in PdfReader(io.BytesIO(payload)).pages).split())


def render_png(payload: bytes, path: Path) -> Path:
    """Draw the PDF's first page as a PNG, as a person would see it, for whoever reviews the run to look at."""
    import pypdfium2

    document = pypdfium2.PdfDocument(payload)
    path.parent.mkdir(parents=True, exist_ok=True)
    document[0].render(scale=1.5).to_pil().save(path)
    return path


def test_the_organizer_releases_the_solution_and_issues_certificates_a_participant_reads_and_downloads_them(
    site: Site, new_person: Any, tmp_path: Path
) -> None:
    slug = site.run_script("closed").strip()

    # The organizer opens the event's Closing page and the exercise's debrief.
    organizer = new_person()
    sign_in(organizer, site, site["organizer"])
    organizer.goto(site.page_url(f"/events/{slug}/"))
    organizer.get_by_role("navigation", name="Event pages").get_by_role("link", name="Closing").click()
    organizer.get_by_role("link", name=f"Debrief of {EXERCISE}").click()
    top = organizer.locator("table", has=organizer.get_by_role("columnheader", name="Sharing"))
    assert "did not agree" in top.locator("tr", has_text=site["stuck_member_name"]).inner_text()
    assert top.locator("tr", has_text=site["stuck_member_name"]).get_by_role("button").count() == 0
    organizer.get_by_role("button", name="Release the reference solution").click()
    assert organizer.get_by_role("status").filter(has_text="Released: Reference solution").count() == 1
    organizer.get_by_role("button", name=f"Release the notebook of {site['other_member_name']}").click()
    assert organizer.get_by_role("status").filter(has_text=f"Notebook of {site['other_member_name']}").count() == 1
    shoot_both(organizer, "closing-01-organizer-debrief")

    # Certificates: issued to the three participants, all of them in one zip.
    organizer.get_by_role("link", name=EVENT).first.click()
    organizer.get_by_role("navigation", name="Event pages").get_by_role("link", name="Closing").click()
    organizer.get_by_label("Signed by").fill("Prof. Maria Bianchi, ML_INFN")
    organizer.get_by_role("button", name="Save the wording").click()
    organizer.get_by_role("button", name="Issue certificates").click()
    assert organizer.get_by_role("status").filter(has_text="Issued 3 certificates").count() == 1
    with organizer.expect_download() as download:
        organizer.get_by_role("button", name="Download all (.zip)").click()
    archive = zipfile.ZipFile(io.BytesIO(Path(download.value.path()).read_bytes()))
    assert len(archive.namelist()) == 3
    marcos = next(name for name in archive.namelist() if "marco" in name)
    marcos_address = VERIFY.search(pdf_text(archive.read(marcos)))
    assert marcos_address is not None
    shoot_both(organizer, "closing-02-organizer-certificates")

    # Giulia reads the debrief and the reference solution from My event.
    giulia = new_person()
    sign_in(giulia, site, site["stuck_member"])
    giulia.goto(site.page_url(f"/events/{slug}/"))
    giulia.get_by_role("button", name="My event: exercises, submissions, help").click()
    giulia.get_by_role("link", name=f"Debrief and solutions: {EXERCISE}").click()
    assert "KeyError" in giulia.locator("#common-errors").inner_text()
    assert "2 participants scored" in giulia.locator("#score-summary").inner_text()
    shoot_both(giulia, "closing-03-participant-debrief")
    # She still solves breast-cancer in the base hackathon: its released solution waits until she has finished there.
    giulia.get_by_role("link", name=f"Reference solution of {EXERCISE}", exact=True).click()
    assert "You still take part in this exercise in" in giulia.locator("main").inner_text()
    assert "LogisticRegression" not in giulia.content()
    shoot(giulia, "closing-04-participant-solution-withheld")

    # Chiara, of this event only, reads it and downloads it.
    chiara = new_person()
    sign_in(chiara, site, CLOSING_ONLY_MEMBER[0])
    chiara.goto(site.page_url(f"/events/{slug}/"))
    chiara.get_by_role("button", name="My event: exercises, submissions, help").click()
    chiara.get_by_role("link", name=f"Debrief and solutions: {EXERCISE}").click()
    chiara.get_by_role("link", name=f"Reference solution of {EXERCISE}", exact=True).click()
    assert "LogisticRegression" in chiara.locator(".notebook").inner_text()
    assert "HIDDEN TESTS" not in chiara.content()
    with chiara.expect_download() as download:
        chiara.get_by_role("button", name="Download the notebook (.ipynb)").click()
    assert download.value.suggested_filename == "breast-cancer-solution.ipynb"
    shoot(chiara, "closing-04-participant-solution")

    # Her certificate, from My event: drawn to a picture to look at, and confirmed at its address by anyone.
    giulia.goto(site.page_url(f"/events/{slug}/me/"))
    with giulia.expect_download() as download:
        giulia.get_by_role("button", name="Download my certificate (PDF)").click()
    payload = Path(download.value.path()).read_bytes()
    text = pdf_text(payload)
    assert site["stuck_member_name"] in text and EVENT in text and "24 hours" in text
    assert f"Reached the baseline score of {EXERCISE}" in text
    assert "Prof. Maria Bianchi, ML_INFN" in text
    render_png(payload, SCREENSHOTS / "closing-05-certificate.png")
    address = VERIFY.search(text)
    assert address is not None and address.group(0).startswith(site.url)
    anyone = new_person()
    anyone.goto(address.group(0))
    assert anyone.get_by_role("heading", name="Valid certificate").count() == 1
    assert site["stuck_member_name"] in anyone.locator("main").inner_text()
    shoot(anyone, "closing-06-verified")

    # Revoked, Marco's certificate is refused at its address.
    organizer.locator("#certificates tr", has_text=site["other_member_name"]).get_by_role("link", name="Revoke").click()
    organizer.get_by_label("Reason").fill("Issued before the attendance check.")
    organizer.get_by_role("button", name="Yes, revoke").click()
    assert organizer.get_by_role("status").filter(has_text="is revoked").count() == 1
    anyone.goto(marcos_address.group(0))
    assert anyone.get_by_role("heading", name="Certificate not valid").count() == 1
    assert "was revoked on" in anyone.locator("main").inner_text()
    shoot(anyone, "closing-07-revoked")
