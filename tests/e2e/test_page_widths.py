"""Every page of the authorization table fits a 1280 px laptop and a 390 px phone without sideways scrolling.

Each page (not the fragments htmx swaps into the pages, which are measured there) is opened in Chromium as each
person the table lets see it (the participant, the tutor, the organizer, or else the first who may), at both
widths; the test asserts `scrollWidth <= innerWidth` and saves a screenshot of each under test-artifacts/widths/
for a person to look at.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from django.test import Client

from grading.services import results_dir
from tests.builders.world import FIGURE, ROLES, build_world, path_of
from tests.e2e.browsing import CHROMIUM, CHROMIUM_ARGS, ROOT, requires_browser
from tests.security.test_authorization_matrix import EXPECTED, site_routes

pytestmark = [requires_browser, pytest.mark.slow, pytest.mark.django_db(transaction=True)]

PNG_1X1 = bytes.fromhex(
    "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
    "1f15c4890000000d4944415478da63f8cfc0f01f0005000201e2b1f1a30000000049454e44ae426082"
)
WIDTHS = {"laptop": (1280, 800), "phone": (390, 844)}
SHOTS = ROOT / "test-artifacts" / "widths"
# Who opens a page that several people may see: these three see the most different pages.
PREFERRED = ("participant_a", "tutor_x", "organizer_a")


def visitors(route: str) -> list[str]:
    """The people the table lets open this page with a 200: the preferred three, or else the first who may."""
    row = EXPECTED.get(route, {}).get("GET")
    if row is None:
        return []
    allowed = [role for role, outcome in zip(ROLES, row, strict=True) if outcome == 200]
    return [role for role in PREFERRED if role in allowed] or allowed[:1]


def pages() -> list[str]:
    return [route for route in site_routes() if visitors(route) and not route.startswith("admin/")]


def _shot_name(route: str, role: str, width: str) -> str:
    slug = re.sub(r"[^a-z0-9]+", "-", route.lower()).strip("-") or "home"
    return f"{slug}--{role}--{width}.png"


def test_every_page_fits_a_laptop_and_a_phone(live_server: Any, settings: Any) -> None:
    from playwright.sync_api import sync_playwright

    world = build_world()
    figure = results_dir(world.submission_a) / FIGURE  # the submission page shows its picture
    figure.parent.mkdir(parents=True, exist_ok=True)
    figure.write_bytes(PNG_1X1)
    SHOTS.mkdir(parents=True, exist_ok=True)
    cookies: dict[str, str | None] = {}
    clients: dict[str, Client] = {}
    for role in {role for route in pages() for role in visitors(route)}:
        person = world.people[role]
        clients[role] = Client()
        if person is not None:
            clients[role].force_login(person)
        cookies[role] = clients[role].cookies[settings.SESSION_COOKIE_NAME].value if person else None

    # Every address first, keeping the pages (not downloads, pictures or JSON): Playwright runs an event loop in
    # this thread, where the ORM may no longer be called.
    urls = {}
    for route in pages():
        path = path_of(route, world.kwargs_for(route))
        answer = clients[visitors(route)[0]].get(path)
        # A fragment that htmx swaps into its page (a board's rows, a live list) is measured inside that page.
        whole_page = not answer.streaming and answer.content.lstrip().lower().startswith(b"<!doctype html")
        if (
            answer["Content-Type"].startswith("text/html")
            and not answer.has_header("Content-Disposition")
            and whole_page
        ):
            urls[route] = live_server.url + path
    too_wide: list[str] = []
    seen = 0
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS)
        contexts: dict[tuple[str, str], Any] = {}
        for route, url in urls.items():
            for role in visitors(route):
                for width_name, (width, height) in WIDTHS.items():
                    key = (role, width_name)
                    if key not in contexts:
                        context = browser.new_context(viewport={"width": width, "height": height})
                        if cookies[role]:
                            context.add_cookies(
                                [{"name": settings.SESSION_COOKIE_NAME, "value": cookies[role], "url": live_server.url}]
                            )
                        contexts[key] = context.new_page()
                    page = contexts[key]
                    page.goto(url, wait_until="load")
                    seen += 1
                    scroll, inner = page.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")
                    page.screenshot(path=str(SHOTS / _shot_name(route, role, width_name)), full_page=True)
                    if scroll > inner:
                        too_wide.append(f"/{route} as {role} at {width} px: {scroll} px wide")
        browser.close()
    assert seen > 50, f"only {seen} pages were laid out: the table's routes did not resolve"
    (SHOTS / "too-wide.txt").write_text("\n".join(too_wide) + "\n")
    assert not too_wide, "pages wider than the screen:\n" + "\n".join(too_wide)


def test_the_screenshots_folder_is_ignored_by_git() -> None:
    ignored = (ROOT / ".gitignore").read_text()
    assert "test-artifacts" in ignored, Path(".gitignore")


def test_the_header_folds_under_a_menu_on_a_phone_and_not_on_a_laptop(live_server: Any) -> None:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS)
        phone = browser.new_page(viewport={"width": 390, "height": 844})
        phone.goto(live_server.url + "/")
        sign_in = phone.locator("header").get_by_role("link", name="Sign in")
        assert not sign_in.is_visible(), "on a phone the links wait under Menu"
        phone.get_by_text("Menu", exact=True).click()
        assert sign_in.is_visible()
        phone.screenshot(path=str(SHOTS / "header-menu-open--phone.png"))
        laptop = browser.new_page(viewport={"width": 1280, "height": 800})
        laptop.goto(live_server.url + "/")
        assert laptop.locator("header").get_by_role("link", name="Sign in").is_visible()
        assert not laptop.get_by_text("Menu", exact=True).is_visible()
        browser.close()
