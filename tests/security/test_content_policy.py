"""Every HTML page is served under a Content Security Policy and security headers, and carries no inline script."""

from __future__ import annotations

from pathlib import Path

import django
import pytest
from django.db import transaction
from django.test import Client

from grading.models import HelpRequest, Submission
from tests.builders.world import World, path_of
from tests.security.hostile_outputs import active_content, hostile_notebook
from tests.security.site_forms import form_body, forms_of
from tests.security.test_authorization_matrix import EXPECTED, ROLES, site_routes

pytestmark = pytest.mark.django_db

# Allowed by name: drf-spectacular's Swagger UI template carries a small inline <style> (spacing and background).
# The policy blocks it, the page still works, and it holds no script; the template is the package's, not ours.
ALLOWED = {"/api/v1/docs/try/": {"a <style> element"}}

needs_csp = pytest.mark.skipif(django.VERSION < (6, 0), reason="Django 5.2 has no built-in Content Security Policy")


def _html_pages(world: World) -> list[tuple[str, str]]:
    """Return (role, path) of every page the table says answers 200 to participant_a, organizer_a or staff."""
    pages = []
    for route in site_routes():
        if route.startswith(("admin/", "api/v1/")) and route not in ("api/v1/docs/", "api/v1/docs/try/"):
            continue
        row = EXPECTED.get(route, {}).get("GET")
        if not row:
            continue
        for role in ("participant_a", "organizer_a", "staff"):
            if row[ROLES.index(role)] == 200:
                pages.append((role, path_of(route, world.kwargs_for(route))))
    return pages


@needs_csp
def test_the_policy_allows_script_and_style_only_from_the_site_itself(client: Client) -> None:
    policy = client.get("/")["Content-Security-Policy"]
    directives = dict(part.strip().split(" ", 1) for part in policy.split(";"))
    assert directives["script-src"] == "'self'"
    assert directives["style-src"] == "'self'"
    assert directives["object-src"] == "'none'"
    assert directives["frame-ancestors"] == "'none'"
    assert "unsafe" not in policy


def test_pages_carry_the_security_headers(client: Client) -> None:
    response = client.get("/")
    assert response["X-Frame-Options"] == "DENY"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Referrer-Policy"] == "same-origin"
    assert response["Cross-Origin-Opener-Policy"] == "same-origin"


def test_every_page_holds_no_inline_script_style_or_handler_even_showing_a_hostile_notebook(
    world: World, clients: dict[str, Client]
) -> None:
    problems: dict[str, list[str]] = {}
    pages = _html_pages(world)
    assert len(pages) > 40  # the table lists the site's pages: a scan of a handful would prove little
    with transaction.atomic():
        Submission.objects.filter(pk=world.submission_a.pk).update(executed_notebook=hostile_notebook())
        for role, path in pages:
            response = clients[role].get(path)
            if not response["Content-Type"].startswith("text/html"):
                continue
            if django.VERSION >= (6, 0):
                assert "Content-Security-Policy" in response, path
            found = set(active_content(response.content.decode())) - ALLOWED.get(path, set())
            if found:
                problems[f"{path} as {role}"] = sorted(set(found))
        transaction.set_rollback(True)
    assert not problems, problems


def test_the_submission_page_shows_the_hostile_notebook_escaped(world: World, clients: dict[str, Client]) -> None:
    with transaction.atomic():
        Submission.objects.filter(pk=world.submission_a.pk).update(executed_notebook=hostile_notebook())
        page = clients["participant_a"].get(f"/submissions/{world.submission_a.uid}/").content.decode()
        transaction.set_rollback(True)
    assert 'class="notebook"' in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page  # the code cell's text, shown as text


# --- The pages that follow a POST: what a person sees right after acting ----------------------------------------
AFTER_ACTING = ("/profile/tokens/new/", "/submit/", "/help/new/", "/register/")


def _pages_after_posting(world: World, clients: dict[str, Client]) -> dict[str, str]:
    """Send every form each person reaches with its own values; return each answer page (redirects followed)."""
    pages: dict[str, str] = {}
    for role in ROLES[1:]:
        for form in forms_of(world, role, clients[role]):
            with transaction.atomic():
                response = clients[role].post(form.action, form_body(form), follow=True)
                transaction.set_rollback(True)
            if response.get("Content-Type", "").startswith("text/html"):
                pages[f"POST {form.action} as {role} -> {response.status_code}"] = response.content.decode()
    # participant_a's request of the world is open, so the page offers no form to raise another: resolve it first.
    with transaction.atomic():
        HelpRequest.objects.filter(pk=world.help_request_a.pk).update(status=HelpRequest.Status.RESOLVED)
        action = f"/events/{world.event_a.slug}/help/new/"
        response = clients["participant_a"].post(action, {"message": "The kernel dies at the first cell."}, follow=True)
        transaction.set_rollback(True)
    pages[f"POST {action} as participant_a -> {response.status_code}"] = response.content.decode()
    return pages


def test_the_pages_shown_after_a_post_hold_no_inline_script_style_or_handler(
    world: World, clients: dict[str, Client], figure_on_disk: Path
) -> None:
    # The found case: the page shown right after creating an API token carried an inline event handler.
    pages = _pages_after_posting(world, clients)
    for action in AFTER_ACTING:  # token created, submission made, help request raised, registration done
        assert any(action in what for what in pages), f"No page after POST …{action} was rendered: {sorted(pages)}"
    problems = {what: sorted(set(active_content(html))) for what, html in pages.items() if active_content(html)}
    assert not problems, problems


def test_the_new_token_page_shows_the_secret_in_a_field_that_selects_itself_without_inline_script(
    clients: dict[str, Client],
) -> None:
    with transaction.atomic():
        page = clients["participant_a"].post("/profile/tokens/new/", {"name": "laptop 2"})
        transaction.set_rollback(True)
    assert page.status_code == 201
    html = page.content.decode()
    assert "data-select-on-focus" in html and "onfocus" not in html
    assert "/static/site.js" in html
