"""Every page and API endpoint, visited as each of eight people: each answer is the one the table expects.

The routes come from the URL configuration (walked recursively) and the API's methods from its OpenAPI schema, so a
page or endpoint added without a row in EXPECTED fails here: whoever adds it decides who may open it.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import transaction
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver
from drf_spectacular.generators import SchemaGenerator

from tests.builders.notebooks import CONSTANT_SCORES, notebook_bytes
from tests.builders.world import ROLES, World, path_of

pytestmark = pytest.mark.django_db

# Outcomes: an HTTP status, "login" (a redirect to the sign-in page), "admin-login" (to the admin's sign-in page),
# "<500" (any answer but a server error: the admin's own model permissions decide what staff see).
Outcome = int | str
L, AL = "login", "admin-login"

# Rows list the eight people in ROLES order:
#   anonymous, participant_a, participant_b, tutor_x, tutor_y, organizer_b, organizer_a, staff
EXPECTED: dict[str, dict[str, tuple[Outcome, ...]]] = {
    "": {"GET": (200, 200, 200, 200, 200, 200, 200, 200)},
    "favicon.ico": {"GET": (301, 301, 301, 301, 301, 301, 301, 301)},
    "events/new/": {"GET": (L, 403, 403, 403, 403, 403, 403, 200)},
    "editions/": {"GET": (L, 403, 403, 403, 403, 200, 200, 200)},
    "events/<slug:slug>/": {"GET": (200, 200, 200, 200, 200, 200, 200, 200)},
    "events/<slug:slug>/edit/": {"GET": (L, 403, 403, 403, 403, 403, 200, 200)},
    "events/<slug:slug>/register/": {"GET": (L, 200, 200, 403, 403, 200, 403, 200)},
    # The GET is the confirmation page, for whoever has a registration to cancel (the others are sent back).
    "events/<slug:slug>/registration/cancel/": {
        "GET": (L, 200, 302, 302, 302, 302, 302, 302),
        "POST": (L, 302, 302, 302, 302, 302, 302, 302),
    },
    "events/<slug:slug>/registration/accept/": {"POST": (L, 302, 302, 302, 302, 302, 302, 302)},
    "events/<slug:slug>/registrations/": {"GET": (L, 403, 403, 403, 403, 403, 200, 200)},
    "events/<slug:slug>/registrations/<int:pk>/decide/": {"POST": (L, 403, 403, 403, 403, 403, 302, 302)},
    "events/<slug:slug>/registrations.csv": {"GET": (L, 403, 403, 403, 403, 403, 200, 200)},
    "events/<slug:slug>/registrations/import/": {"GET": (L, 403, 403, 403, 403, 403, 200, 200)},
    "events/<slug:slug>/tutoring/": {"GET": (L, 403, 403, 200, 200, 403, 403, 200)},
    "events/<slug:slug>/groups/": {"GET": (L, 403, 403, 403, 403, 403, 200, 200)},
    "events/<slug:slug>/groups/assign/": {
        "GET": (L, 403, 403, 403, 403, 403, 200, 200),
        "POST": (L, 403, 403, 403, 403, 403, 302, 302),
    },
    "events/<slug:slug>/groups/<int:number>/": {"GET": (L, 200, 404, 200, 404, 404, 200, 200)},
    "events/<slug:slug>/my-group/": {"GET": (L, 200, 403, 200, 200, 403, 403, 200)},
    "events/<slug:slug>/staff/": {
        "GET": (L, 403, 403, 403, 403, 403, 200, 200),
        "POST": (L, 403, 403, 403, 403, 403, 302, 302),
    },
    "events/<slug:slug>/staff/<int:pk>/revoke/": {
        "GET": (L, 403, 403, 403, 403, 403, 200, 200),
        "POST": (L, 403, 403, 403, 403, 403, 302, 302),
    },
    "events/<slug:slug>/staff/invitations/<int:pk>/withdraw/": {"POST": (L, 403, 403, 403, 403, 403, 302, 302)},
    # The emailed link: its page tells anyone who opens it which address it is for (the token is the secret).
    "invitations/<str:token>/": {"GET": (200, 200, 200, 200, 200, 200, 200, 200)},
    "events/<slug:slug>/feedback/": {"GET": (L, 200, 403, 403, 403, 403, 403, 403)},
    "events/<slug:slug>/report/": {"GET": (L, 403, 403, 403, 403, 403, 200, 200)},
    "events/<slug:slug>/report.csv": {"GET": (L, 403, 403, 403, 403, 403, 200, 200)},
    "exercises/": {"GET": (200, 200, 200, 200, 200, 200, 200, 200)},
    # Organizers of any event upload bundles: their data.py builds only in the sandbox (test_bundle_builds_in_sandbox).
    "exercises/upload/": {"GET": (L, 403, 403, 403, 403, 200, 200, 200)},
    # An upload's page is its uploader's and staff's; event A's exercise is built-in, so nobody has it as an upload.
    "exercises/uploads/<slug:slug>/": {"GET": (L, 404, 404, 404, 404, 404, 404, 404)},
    "exercises/<slug:slug>/": {"GET": (200, 200, 200, 200, 200, 200, 200, 200)},
    "events/<slug:slug>/exercises/<slug:exercise_slug>/": {"GET": (L, 200, 404, 404, 404, 404, 200, 200)},
    "events/<slug:slug>/exercises/<slug:exercise_slug>/submit/": {"POST": (L, 302, 404, 404, 404, 404, 302, 302)},
    "events/<slug:slug>/exercises/<slug:exercise_slug>/download/": {"GET": (L, 200, 404, 404, 404, 404, 200, 200)},
    "events/<slug:slug>/exercises/<slug:exercise_slug>/mine/": {"GET": (L, 200, 404, 404, 404, 404, 200, 200)},
    "events/<slug:slug>/report/grading/": {"GET": (L, 403, 403, 403, 403, 403, 200, 200)},
    "submissions/<uuid:uid>/": {"GET": (L, 200, 404, 200, 404, 404, 200, 200)},
    "submissions/<uuid:uid>/status/": {"GET": (L, 200, 404, 200, 404, 404, 200, 200)},
    "submissions/<uuid:uid>/pictures/": {"GET": (L, 200, 404, 200, 404, 404, 200, 200)},
    "submissions/<uuid:uid>/figures/<str:name>": {"GET": (L, 200, 404, 200, 404, 404, 200, 200)},
    # Consent to share is the author's alone: those who may read the submission but did not write it are refused.
    "submissions/<uuid:uid>/sharing/": {"POST": (L, 302, 404, 403, 404, 404, 403, 403)},
    "events/<slug:slug>/me/": {"GET": (L, 200, 404, 404, 404, 404, 404, 404)},
    "events/<slug:slug>/me/submissions/": {"GET": (L, 200, 404, 404, 404, 404, 404, 404)},
    "events/<slug:slug>/me/help/": {"GET": (L, 200, 404, 404, 404, 404, 404, 404)},
    "events/<slug:slug>/help/new/": {"POST": (L, 302, 404, 404, 404, 404, 404, 404)},
    "events/<slug:slug>/help/": {"GET": (L, 404, 404, 404, 404, 404, 200, 200)},
    "events/<slug:slug>/help/<int:pk>/": {"GET": (L, 200, 404, 200, 404, 404, 200, 200)},
    "events/<slug:slug>/help/<int:pk>/thread/": {"GET": (L, 200, 404, 200, 404, 404, 200, 200)},
    "events/<slug:slug>/help/<int:pk>/claim/": {"POST": (L, 404, 404, 302, 404, 404, 302, 302)},
    "events/<slug:slug>/help/<int:pk>/answer/": {"POST": (L, 302, 404, 302, 404, 404, 302, 302)},
    "events/<slug:slug>/help/<int:pk>/resolve/": {"POST": (L, 302, 404, 302, 404, 404, 302, 302)},
    "events/<slug:slug>/tutor/": {"GET": (L, 404, 404, 200, 200, 404, 200, 200)},
    "events/<slug:slug>/tutor/groups/": {"GET": (L, 404, 404, 200, 200, 404, 200, 200)},
    "events/<slug:slug>/tutor/help/": {"GET": (L, 404, 404, 200, 200, 404, 200, 200)},
    "events/<slug:slug>/boards/": {"GET": (L, 200, 404, 200, 200, 404, 200, 200)},
    "events/<slug:slug>/boards.csv": {"GET": (L, 403, 404, 403, 403, 404, 200, 200)},
    "events/<slug:slug>/organizer/boards/": {"GET": (L, 403, 404, 403, 403, 404, 200, 200)},
    "events/<slug:slug>/organizer/boards/live/": {"GET": (L, 403, 404, 403, 403, 404, 200, 200)},
    "events/<slug:slug>/exercises/<slug:exercise_slug>/board/": {"GET": (L, 200, 404, 200, 200, 404, 200, 200)},
    "events/<slug:slug>/exercises/<slug:exercise_slug>/board/rows/": {"GET": (L, 200, 404, 200, 200, 404, 200, 200)},
    "events/<slug:slug>/exercises/<slug:exercise_slug>/board.json": {"GET": (L, 200, 404, 200, 200, 404, 200, 200)},
    "events/<slug:slug>/exercises/<slug:exercise_slug>/board/final/": {"GET": (L, 200, 404, 200, 200, 404, 200, 200)},
    "events/<slug:slug>/exercises/<slug:exercise_slug>/board/settings/": {
        "GET": (L, 403, 404, 403, 403, 404, 200, 200)
    },
    "events/<slug:slug>/exercises/<slug:exercise_slug>/board/reveal/": {
        "GET": (L, 403, 404, 403, 403, 404, 200, 200),
        "POST": (L, 403, 404, 403, 403, 404, 302, 302),
    },
    "events/<slug:slug>/exercises/<slug:exercise_slug>/rescore/": {"GET": (L, 403, 404, 403, 403, 404, 200, 200)},
    "events/<slug:slug>/exercises/<slug:exercise_slug>/reference-check/": {
        "POST": (L, 403, 404, 403, 403, 404, 302, 302)
    },
    "events/<slug:slug>/exercises/<slug:exercise_slug>/open-despite-gate/": {
        "POST": (L, 403, 404, 403, 403, 404, 302, 302)
    },
    "submissions/<uuid:uid>/disqualify/": {"GET": (L, 403, 404, 403, 404, 404, 200, 200)},
    "submissions/<uuid:uid>/reinstate/": {"POST": (L, 403, 404, 403, 404, 404, 302, 302)},
    # After the deadline (issue 19). The world's exercise is still open: its debrief says when it opens, a release
    # is refused with a message (302), and no notebook or certificate exists yet (pk 1: 404).
    "events/<slug:slug>/exercises/<slug:exercise_slug>/debrief/": {"GET": (L, 200, 404, 200, 200, 404, 200, 200)},
    "events/<slug:slug>/exercises/<slug:exercise_slug>/debrief/release/": {
        "POST": (L, 403, 404, 403, 403, 404, 302, 302)
    },
    "events/<slug:slug>/exercises/<slug:exercise_slug>/debrief/notebooks/<int:pk>/": {
        "GET": (L, 404, 404, 404, 404, 404, 404, 404)
    },
    "events/<slug:slug>/exercises/<slug:exercise_slug>/debrief/notebooks/<int:pk>/download/": {
        "GET": (L, 404, 404, 404, 404, 404, 404, 404)
    },
    "events/<slug:slug>/exercises/<slug:exercise_slug>/debrief/notebooks/<int:pk>/withdraw/": {
        "POST": (L, 403, 404, 403, 403, 404, 404, 404)
    },
    "events/<slug:slug>/closing/": {"GET": (L, 403, 403, 403, 403, 403, 200, 200)},
    "events/<slug:slug>/certificates/issue/": {"POST": (L, 403, 403, 403, 403, 403, 302, 302)},
    "events/<slug:slug>/certificates.zip": {"GET": (L, 403, 403, 403, 403, 403, 200, 200)},
    "events/<slug:slug>/certificates/<int:pk>/": {"GET": (L, 403, 403, 403, 403, 403, 404, 404)},
    "events/<slug:slug>/certificates/<int:pk>/revoke/": {"GET": (L, 403, 403, 403, 403, 403, 404, 404)},
    "events/<slug:slug>/me/certificate.pdf": {"GET": (L, 404, 404, 404, 404, 404, 404, 404)},
    # Anyone may verify a certificate; the world's token is not a signed certificate id, so it is refused.
    "certificates/<str:token>/": {"GET": (404, 404, 404, 404, 404, 404, 404, 404)},
    # Announcements (issue 19): one's own list, banner and preferences; an event's history and form for its
    # organizers and the tutors of some group; its extensions for its organizers.
    "announcements/": {"GET": (L, 200, 200, 200, 200, 200, 200, 200)},
    "announcements/banner/": {"GET": (L, 200, 200, 200, 200, 200, 200, 200)},
    "announcements/read/": {"POST": (L, 302, 302, 302, 302, 302, 302, 302)},
    "profile/preferences/": {"GET": (L, 200, 200, 200, 200, 200, 200, 200)},
    "events/<slug:slug>/announcements/": {"GET": (L, 403, 403, 200, 200, 403, 200, 200)},
    "events/<slug:slug>/announcements/new/": {"GET": (L, 403, 403, 200, 200, 403, 200, 200)},
    "events/<slug:slug>/extensions/": {"GET": (L, 403, 403, 403, 403, 403, 200, 200)},
    "api/v1/announcements/": {"GET": (401, 200, 200, 200, 200, 200, 200, 200)},
    "api/v1/announcements/read/": {"POST": (401, 200, 200, 200, 200, 200, 200, 200)},
    "api/v1/events/": {"GET": (200, 200, 200, 200, 200, 200, 200, 200)},
    "api/v1/events/<slug:slug>/": {"GET": (200, 200, 200, 200, 200, 200, 200, 200)},
    "api/v1/events/<slug:slug>/exercises/": {"GET": (401, 200, 403, 403, 403, 403, 200, 200)},
    "api/v1/events/<slug:slug>/exercises/<slug:exercise_slug>/": {"GET": (401, 200, 403, 403, 403, 403, 200, 200)},
    "api/v1/events/<slug:slug>/exercises/<slug:exercise_slug>/download/": {
        "GET": (401, 200, 403, 403, 403, 403, 200, 200)
    },
    "api/v1/events/<slug:slug>/exercises/<slug:exercise_slug>/board/": {
        "GET": (401, 200, 404, 200, 200, 404, 200, 200)
    },
    "api/v1/events/<slug:slug>/help/": {
        # Outsiders list nothing (test_outsiders_list_no_help_request_of_event_a); only participants may raise one
        # (403 for everyone else), and participant_a already has an open request (400 with a sentence).
        "GET": (401, 200, 200, 200, 200, 200, 200, 200),
        "POST": (401, 400, 403, 403, 403, 403, 403, 403),
    },
    "api/v1/events/<slug:slug>/help/<int:pk>/": {"GET": (401, 200, 404, 200, 404, 404, 200, 200)},
    "api/v1/events/<slug:slug>/help/<int:pk>/messages/": {"POST": (401, 200, 404, 200, 404, 404, 200, 200)},
    "api/v1/events/<slug:slug>/help/<int:pk>/claim/": {"POST": (401, 400, 404, 200, 404, 404, 200, 200)},
    "api/v1/events/<slug:slug>/help/<int:pk>/resolve/": {"POST": (401, 200, 404, 200, 404, 404, 200, 200)},
    "api/v1/registrations/": {"GET": (401, 200, 200, 200, 200, 200, 200, 200)},
    "api/v1/exercises/": {"GET": (200, 200, 200, 200, 200, 200, 200, 200)},
    "api/v1/exercises/<slug:slug>/": {"GET": (200, 200, 200, 200, 200, 200, 200, 200)},
    "api/v1/submissions/": {
        "GET": (401, 200, 200, 200, 200, 200, 200, 200),
        "POST": (401, 201, 403, 403, 403, 403, 403, 403),
    },
    "api/v1/submissions/<uuid:uid>/": {
        "GET": (401, 200, 404, 200, 404, 404, 200, 200),
        "PATCH": (401, 200, 404, 403, 404, 404, 403, 403),
    },
    "api/v1/schema/": {"GET": (200, 200, 200, 200, 200, 200, 200, 200)},
    "api/v1/docs/try/": {"GET": (200, 200, 200, 200, 200, 200, 200, 200)},
    "api/v1/docs/": {"GET": (200, 200, 200, 200, 200, 200, 200, 200)},
    "api/v1/^(?P<rest>[\\s\\S]*)$": {"GET": (404, 404, 404, 404, 404, 404, 404, 404)},
    "profile/tokens/": {"GET": (L, 200, 200, 200, 200, 200, 200, 200)},
    "profile/tokens/new/": {"POST": (L, 302, 302, 302, 302, 302, 302, 302)},
    "profile/tokens/<int:pk>/revoke/": {"POST": (L, 302, 404, 404, 404, 404, 404, 404)},
    "accounts/login/": {"GET": (200, 302, 302, 302, 302, 302, 302, 302)},
    "accounts/logout/": {"GET": (302, 200, 200, 200, 200, 200, 200, 200)},
    "accounts/inactive/": {"GET": (200, 200, 200, 200, 200, 200, 200, 200)},
    "accounts/signup/": {"GET": (200, 302, 302, 302, 302, 302, 302, 302)},
    "accounts/reauthenticate/": {"GET": (L, 200, 200, 200, 200, 200, 200, 200)},
    "accounts/email/": {"GET": (L, 200, 200, 200, 200, 200, 200, 200)},
    "accounts/confirm-email/": {"GET": (200, 200, 200, 200, 200, 200, 200, 200)},
    "accounts/password/change/": {"GET": (L, 200, 200, 200, 200, 200, 200, 200)},
    "accounts/password/set/": {"GET": (L, 302, 302, 302, 302, 302, 302, 302)},
    "accounts/password/reset/": {"GET": (200, 200, 200, 200, 200, 200, 200, 200)},
    "accounts/login/code/confirm/": {"GET": (L, 302, 302, 302, 302, 302, 302, 302)},
    "accounts/^confirm-email/(?P<key>[-:\\w]+)/$": {"GET": (200, 200, 200, 200, 200, 200, 200, 200)},
    "accounts/password/reset/key/done/": {"GET": (200, 200, 200, 200, 200, 200, 200, 200)},
    "accounts/^password/reset/key/(?P<uidb36>[0-9A-Za-z]+)-(?P<key>.+)/$": {
        "GET": (200, 200, 200, 200, 200, 200, 200, 200)
    },
    "accounts/password/reset/done/": {"GET": (200, 200, 200, 200, 200, 200, 200, 200)},
    "accounts/3rdparty/login/cancelled/": {"GET": (200, 200, 200, 200, 200, 200, 200, 200)},
    "accounts/3rdparty/login/error/": {"GET": (401, 401, 401, 401, 401, 401, 401, 401)},
    "accounts/3rdparty/signup/": {"GET": (L, L, L, L, L, L, L, L)},
    "accounts/3rdparty/": {"GET": (L, 200, 200, 200, 200, 200, 200, 200)},
    "accounts/social/login/cancelled/": {"GET": (301, 301, 301, 301, 301, 301, 301, 301)},
    "accounts/social/login/error/": {"GET": (301, 301, 301, 301, 301, 301, 301, 301)},
    "accounts/social/signup/": {"GET": (301, 301, 301, 301, 301, 301, 301, 301)},
    "accounts/social/connections/": {"GET": (301, 301, 301, 301, 301, 301, 301, 301)},
    "accounts/oidc/^(?P<provider_id>[^/]+)/login/": {"GET": (404, 404, 404, 404, 404, 404, 404, 404)},
    "accounts/oidc/^(?P<provider_id>[^/]+)/login/callback/": {"GET": (404, 404, 404, 404, 404, 404, 404, 404)},
}

API_PREFIX = "api/v1/"


def _walk(resolver: URLResolver, prefix: str = "") -> Iterator[str]:
    for entry in resolver.url_patterns:
        if isinstance(entry, URLResolver):
            yield from _walk(entry, prefix + str(entry.pattern))
        elif isinstance(entry, URLPattern):
            yield prefix + str(entry.pattern)


def site_routes() -> list[str]:
    """Every route of the URL configuration, as the resolver spells it."""
    return list(dict.fromkeys(_walk(get_resolver())))


# The admin guards each of its pages itself (admin_view), for every model registered now or later: whoever is not
# staff is sent to its sign-in page; for staff the admin's own model permissions decide, so any answer but a 5xx.
EXPECTED.update(
    {
        route: {"GET": (AL, AL, AL, AL, AL, AL, AL, "<500")}
        for route in site_routes()
        if route.startswith("admin/") and route not in ("admin/login/", "admin/logout/")
    }
)
EXPECTED["admin/login/"] = {"GET": (200, 200, 200, 200, 200, 200, 200, 302)}
EXPECTED["admin/logout/"] = {"GET": (302, 302, 302, 302, 302, 302, 302, 405)}


def api_operations() -> dict[str, set[str]]:
    """Map each route of the API's schema (in the resolver's spelling) to its documented methods."""
    schema = SchemaGenerator().get_schema(request=None, public=True)
    operations: dict[str, set[str]] = {}
    for path, item in schema["paths"].items():
        methods = {m.upper() for m in item if m in ("get", "post", "put", "patch", "delete")}
        operations[path.lstrip("/")] = methods
    return operations


def _schema_spelling(route: str) -> str:
    """Spell a resolver route as the schema does: `{slug}` for `<slug:slug>`, `{id}` for an int pk."""

    route = re.sub(r"<int:pk>", "{id}", route)
    return re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", route)


def _cells() -> list[tuple[str, str]]:
    return [(route, method) for route in site_routes() for method in (EXPECTED.get(route) or {"GET": ()})]


def outcome_of(response) -> Outcome:  # type: ignore[no-untyped-def]
    if response.status_code in (301, 302):
        location = response["Location"]
        if location.startswith("/accounts/login/"):
            return L
        if location.startswith("/admin/login/"):
            return AL
    return response.status_code


def _notebook() -> SimpleUploadedFile:
    return SimpleUploadedFile("mine.ipynb", notebook_bytes(CONSTANT_SCORES), content_type="application/x-ipynb+json")


# Writes get a valid body, so that the answer shows who may act rather than which field is missing.
FORM_BODIES: dict[str, Callable[[World], dict[str, Any]]] = {
    "events/<slug:slug>/exercises/<slug:exercise_slug>/submit/": lambda w: {"notebook": _notebook(), "kind": "graded"},
    "events/<slug:slug>/registrations/<int:pk>/decide/": lambda w: {"decision": "approve"},
    "events/<slug:slug>/help/new/": lambda w: {"message": "The kernel dies when I load the images."},
    "events/<slug:slug>/staff/": lambda w: {"email": "new-staff@example.org", "role": "tutor"},
    "events/<slug:slug>/help/<int:pk>/answer/": lambda w: {"text": "Try a smaller batch size."},
    "events/<slug:slug>/exercises/<slug:exercise_slug>/debrief/release/": lambda w: {"what": "reference"},
    "submissions/<uuid:uid>/sharing/": lambda w: {"share": "yes"},
    "api/v1/submissions/": lambda w: {
        "exercise": w.exercise_a.exercise.slug,
        "event": w.event_a.slug,
        "notebook": _notebook(),
    },
}
JSON_BODIES: dict[str, Callable[[World], dict[str, Any]]] = {
    "api/v1/events/<slug:slug>/help/": lambda w: {"message": "The kernel dies when I load the images."},
    "api/v1/events/<slug:slug>/help/<int:pk>/messages/": lambda w: {"text": "Try a smaller batch size."},
    "api/v1/announcements/read/": lambda w: {"ids": [1]},
    "api/v1/submissions/<uuid:uid>/": lambda w: {"share_notebook": True},
}


def visit(world: World, client: Client, route: str, method: str) -> Outcome:
    path = path_of(route, world.kwargs_for(route))
    if method == "POST" and route in FORM_BODIES:
        response = client.post(path, FORM_BODIES[route](world))
    elif method in ("POST", "PATCH") and route in JSON_BODIES:
        send = client.post if method == "POST" else client.patch
        response = send(path, JSON_BODIES[route](world), content_type="application/json")
    else:
        response = client.generic(method, path, data=b"", content_type="application/x-www-form-urlencoded")
    return outcome_of(response)


def readable_outputs(world: World, role: str) -> list[str]:
    """Return every page, fragment, JSON answer and CSV export the table lets this person open (GET 200)."""
    paths = []
    for route in site_routes():
        row = EXPECTED.get(route, {}).get("GET")
        if not row or row[ROLES.index(role)] != 200 or route.startswith("admin/"):
            continue
        path = path_of(route, world.kwargs_for(route))
        paths.append(path)
        if "board" in route:  # the private board (hidden until revealed) and the groups' ranking too
            paths += [f"{path}?part=private", f"{path}?part=private&ranking=groups"]
    return paths


def read(client: Client, path: str) -> str:
    """Return the body of a GET, streamed or not, as text."""
    response = client.get(path)
    content = b"".join(response.streaming_content) if response.streaming else response.content
    return content.decode(errors="replace")


@pytest.mark.parametrize(("route", "method"), _cells())
def test_each_page_answers_each_person_as_the_table_expects(
    world: World, clients: dict[str, Client], figure_on_disk: Path, route: str, method: str
) -> None:
    actual = []
    for role in ROLES:
        # Each visit's writes (a claim, a revocation) are undone so that the next person meets the same world.
        with transaction.atomic():
            actual.append(visit(world, clients[role], route, method))
            transaction.set_rollback(True)
    rows = EXPECTED.get(route, {})
    assert method in rows, f"No row in EXPECTED for {method} /{route}: decide who may open it. It answers {actual}."
    expected = rows[method]
    wrong = [
        f"{role}: expected {want!r}, got {got!r}"
        for role, want, got in zip(ROLES, expected, actual, strict=True)
        if not (got == want or (want == "<500" and (isinstance(got, str) or got < 500)))
    ]
    assert not wrong, f"{method} /{route}: " + "; ".join(wrong)


def test_every_route_has_a_row_and_every_row_a_route() -> None:
    routes = set(site_routes())
    missing = sorted(routes - EXPECTED.keys())
    stale = sorted(EXPECTED.keys() - routes)
    assert not missing, f"Routes without a row in EXPECTED: {missing}"
    assert not stale, f"Rows in EXPECTED for routes that no longer exist: {stale}"


def test_every_api_operation_in_the_schema_has_its_method_in_the_table() -> None:
    by_spelling = {_schema_spelling(route): route for route in EXPECTED if route.startswith(API_PREFIX)}
    gaps = []
    for path, methods in api_operations().items():
        route = by_spelling.get(path)
        if route is None:
            gaps.append(f"{path} (no row)")
            continue
        gaps += [f"{method} {path}" for method in sorted(methods - EXPECTED[route].keys())]
    assert not gaps, f"API operations of the schema without an expectation: {gaps}"


def test_every_row_has_an_outcome_for_each_of_the_eight_people() -> None:
    short = [f"{route} {method}" for route, rows in EXPECTED.items() for method, row in rows.items() if len(row) != 8]
    assert not short, f"Rows without exactly eight outcomes: {short}"


# --- Objects of another event, named through an event one may act in --------------------------------------------
CROSS_EVENT = [
    # (who, method, path template filled from the world): event B's own people naming event A's objects.
    ("organizer_b", "POST", "/events/{b}/registrations/{reg_a}/decide/"),
    ("organizer_b", "GET", "/events/{b}/help/{help_a}/"),
    ("organizer_b", "POST", "/events/{b}/help/{help_a}/claim/"),
    ("organizer_b", "POST", "/events/{b}/help/{help_a}/resolve/"),
    ("organizer_b", "GET", "/api/v1/events/{b}/help/{help_a}/"),
    ("organizer_b", "POST", "/api/v1/events/{b}/help/{help_a}/claim/"),
    ("organizer_b", "GET", "/events/{b}/groups/{group_y}/"),
    ("organizer_b", "POST", "/submissions/{sub_a}/disqualify/"),
    ("participant_b", "GET", "/events/{b}/help/{help_a}/thread/"),
    ("participant_b", "GET", "/api/v1/events/{b}/help/{help_a}/"),
    ("participant_b", "GET", "/api/v1/submissions/{sub_a}/"),
    ("participant_a", "GET", "/events/{a}/help/{help_b}/"),
    ("organizer_a", "POST", "/events/{a}/registrations/{reg_b}/decide/"),
    ("organizer_a", "GET", "/events/{a}/help/{help_b}/"),
    ("organizer_a", "POST", "/events/{a}/help/{help_b}/claim/"),
    ("organizer_a", "GET", "/api/v1/events/{a}/help/{help_b}/"),
    ("organizer_a", "GET", "/submissions/{sub_b}/"),
    ("tutor_x", "GET", "/submissions/{sub_b}/"),
]


@pytest.mark.parametrize(("role", "method", "template"), CROSS_EVENT)
def test_an_object_of_another_event_is_not_found_rather_than_forbidden(
    world: World, clients: dict[str, Client], role: str, method: str, template: str
) -> None:
    path = template.format(
        a=world.event_a.slug,
        b=world.event_b.slug,
        reg_a=world.pending_registration_a.pk,
        reg_b=world.registration_b.pk,
        help_a=world.help_request_a.pk,
        help_b=world.help_request_b.pk,
        group_y=world.group_y.number,
        sub_a=world.submission_a.uid,
        sub_b=world.submission_b.uid,
    )
    if "/decide/" in path and method == "GET":
        method = "POST"
    with transaction.atomic():
        response = clients[role].generic(method, path, data=b"", content_type="application/x-www-form-urlencoded")
        transaction.set_rollback(True)
    # organizer_a may not decide in event A on a registration of event B: 404, since the pk is scoped to the event.
    assert response.status_code == 404, f"{method} {path} as {role}: {response.status_code}"


@pytest.mark.parametrize("role", ["participant_b", "tutor_y", "organizer_b"])
def test_outsiders_list_no_help_request_of_event_a(world: World, clients: dict[str, Client], role: str) -> None:
    response = clients[role].get(f"/api/v1/events/{world.event_a.slug}/help/")
    assert response.status_code == 200
    assert response.json()["results"] == []


def test_a_participant_of_event_b_lists_no_submission_of_event_a(world: World, clients: dict[str, Client]) -> None:
    listed = clients["participant_b"].get("/api/v1/submissions/").json()["results"]
    assert [row["uid"] for row in listed] == [str(world.submission_b.uid)]
