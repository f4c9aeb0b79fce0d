"""No input gives a server error: every HTML form of the site, sent malformed values by each person who sees it.

The forms are found, not listed: every page the authorization table lets a person open is read, and each form on it
(its action, fields, defaults) is filled with its own defaults and then, one field at a time, with malformed values:
wrong types, huge, tiny (1e-320), negative, not a number, deep nesting, NUL, a non-UUID, long unicode. Each answer
must not be a 5xx; a refused value must leave the database as it was; an accepted one must leave the pages that
show what it changed answering (a Ladder step of 1e-320 was saved and then broke every participant's board).
"""

from __future__ import annotations

import hashlib
import io
import re
import zipfile
from typing import Any
from urllib.parse import urlencode

import pytest
from django.apps import apps
from django.contrib.messages import constants, get_messages
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import transaction
from django.test import Client

from exercises.models import Exercise
from tests.builders.world import World, path_of
from tests.security.site_forms import Form, form_body, forms_of
from tests.security.test_authorization_matrix import EXPECTED, ROLES

pytestmark = [pytest.mark.django_db, pytest.mark.production_profile, pytest.mark.slow]

MALFORMED: tuple[str, ...] = (
    "not a number",
    "1e-320",
    "1e308",
    "-1",
    "-99999999999999999999999",
    "99999999999999999999999",
    "NaN",
    "inf",
    "\x00",
    "x\x00y",
    "[" * 5000 + "]" * 5000,
    "00000000-0000-0000-0000-00000000000Z",
    "ü∂🙂" * 3000,
    "2026-13-45T25:61",
)


def database_state() -> str:
    """Return a digest of every row of the site's own tables and its accounts."""
    digest = hashlib.sha256()
    for app in ("hackathon", "grading", "exercises", "auth", "account"):
        for model in apps.get_app_config(app).get_models():
            digest.update(repr(list(model.objects.order_by("pk").values_list())).encode())
    return digest.hexdigest()


def _refused(response: Any) -> bool:
    if response.status_code >= 400 or response.status_code == 200:  # a POST answered 200 shows the form's errors
        return True
    return any(m.level >= constants.WARNING for m in get_messages(response.wsgi_request))


def _witnesses(world: World) -> list[tuple[str, str]]:
    """Pages that show what the forms change, read after each accepted value by those who read them."""
    a, ex = world.event_a.slug, world.exercise_a.exercise.slug
    return [
        ("participant_a", f"/events/{a}/exercises/{ex}/board/"),
        ("participant_a", f"/events/{a}/exercises/{ex}/board.json"),
        ("participant_a", f"/events/{a}/me/"),
        ("tutor_x", f"/events/{a}/tutor/"),
        ("organizer_a", f"/events/{a}/organizer/boards/"),
        ("organizer_a", f"/events/{a}/registrations.csv"),
        ("staff", "/editions/"),
    ]


def _send(
    world: World,
    clients: dict[str, Client],
    baseline: str,
    role: str,
    form: Form,
    name: str | None,
    value: str | None,
) -> list[str]:
    """Send one filled form in a transaction rolled back afterwards; return what went wrong.

    Every send starts from the same world (the one before it was rolled back), whose digest is `baseline`.
    """
    problems = []
    with transaction.atomic():
        clients[role].cookies.pop("messages", None)  # only this answer's messages say whether it refused
        response = clients[role].post(form.action, form_body(form, name, value))
        what = f"POST {form.action} as {role}, {name}={value[:40]!r}" if name else f"POST {form.action} as {role}"
        if response.status_code >= 500:
            problems.append(f"{what}: {response.status_code}")
        elif _refused(response) and name is not None:
            if database_state() != baseline:
                problems.append(f"{what}: refused ({response.status_code}) but the database changed")
        elif database_state() != baseline:
            for reader, path in _witnesses(world):
                status = clients[reader].get(path).status_code
                if status >= 500:
                    problems.append(f"{what}: accepted, then GET {path} as {reader} answers {status}")
        transaction.set_rollback(True)
    return problems


@pytest.fixture(scope="module")
def quiet_clients(world: World, django_db_blocker) -> dict[str, Client]:  # type: ignore[no-untyped-def]
    """Sign each person in with a client that answers a server error with its 500, as a browser would see it."""
    signed_in = {}
    with django_db_blocker.unblock():
        for role, person in world.people.items():
            signed_in[role] = Client(raise_request_exception=False)
            if person is not None:
                signed_in[role].force_login(person)
    return signed_in


_FOUND: dict[int, dict[str, list[Form]]] = {}


@pytest.fixture
def forms(world: World, quiet_clients: dict[str, Client], figure_on_disk: Any) -> dict[str, list[Form]]:
    """Map each person to the forms they are the first to reach, people with fewer rights first.

    A form several people may use (an organizer's and staff's, say) is tried by the first of them: its fields
    and their checks are the same for each, and trying every one of them again would double the run. Found once
    per world, inside a test: the pages render with each test's settings (static files, media).
    """
    if id(world) not in _FOUND:
        seen: set[tuple[str, tuple[str, ...]]] = set()
        mine: dict[str, list[Form]] = {}
        with transaction.atomic():  # whatever reading the pages writes is undone: every test starts alike
            for role in ROLES[1:]:
                mine[role] = []
                for form in forms_of(world, role, quiet_clients[role]):
                    key = (form.action, tuple(sorted(form.fields)))
                    if key not in seen:
                        seen.add(key)
                        mine[role].append(form)
            transaction.set_rollback(True)
        _FOUND[id(world)] = mine
    return _FOUND[id(world)]


def test_the_crawler_finds_the_sites_forms(forms: dict[str, list[Form]]) -> None:
    actions = {form.action.rstrip("/").split("/")[-1] for found in forms.values() for form in found}
    # A crawler that finds nothing proves nothing: these are forms of every kind of person.
    assert {"settings", "new", "edit", "decide", "answer", "feedback", "upload", "register"} <= actions, actions


@pytest.mark.parametrize("role", ROLES[1:])
def test_no_form_answers_a_malformed_value_with_a_server_error_or_a_half_change(
    world: World, quiet_clients: dict[str, Client], forms: dict[str, list[Form]], figure_on_disk: Any, role: str
) -> None:
    problems = []
    baseline = database_state()
    for form in forms[role]:
        problems += _send(world, quiet_clients, baseline, role, form, None, None)  # the defaults alone
        for name in form.fields:
            if name == "csrfmiddlewaretoken":
                continue
            for value in MALFORMED:
                problems += _send(world, quiet_clients, baseline, role, form, name, value)
    assert not problems, f"{len(problems)} problems:\n" + "\n".join(problems[:60])


def test_a_ladder_step_of_1e_320_is_refused_with_a_sentence_and_the_boards_keep_answering(
    world: World, quiet_clients: dict[str, Client]
) -> None:
    # The found case: the step was saved, and every participant's board then answered 500.
    a, ex = world.event_a.slug, world.exercise_a.exercise.slug
    with transaction.atomic():
        response = quiet_clients["organizer_a"].post(
            f"/events/{a}/exercises/{ex}/board/settings/",
            {"ladder": "on", "ladder_step": "1e-320", "final_picks": "0", "show_targets": "on"},
        )
        board = quiet_clients["participant_a"].get(f"/events/{a}/exercises/{ex}/board/")
        transaction.set_rollback(True)
    assert response.status_code == 200
    assert "Ensure this value is greater than or equal to 1e-06." in response.content.decode()
    assert board.status_code == 200


@pytest.mark.parametrize("role", ["participant_a", "tutor_x", "organizer_a", "staff"])
def test_an_id_past_any_database_integer_in_a_page_address_is_not_found(
    world: World, quiet_clients: dict[str, Client], role: str
) -> None:
    errors = []
    for route, rows in EXPECTED.items():
        if "<int:" not in route or route.startswith("api/"):
            continue
        path = path_of(re.sub(r"<int:(\w+)>", "99999999999999999999999", route), world.kwargs_for(route))
        for method in rows:
            with transaction.atomic():
                status = quiet_clients[role].generic(method, path).status_code
                transaction.set_rollback(True)
            if status >= 500:
                errors.append(f"{method} {path}: {status}")
    assert not errors, errors


# --- The staff's bundle upload: archives that are not what they claim ----------------------------------------


def _zip(entries: dict[str, bytes]) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        for name, data in entries.items():
            archive.writestr(name, data)
    return out.getvalue()


def _nested_zip(depth: int) -> bytes:
    data = b"x"
    for n in range(depth):
        data = _zip({f"level{n}.zip": data})
    return data


MALFORMED_ARCHIVES: dict[str, bytes] = {
    "empty": b"",
    "not an archive": b"\x00\xff" * 512,
    "a truncated zip": _zip({"manifest.toml": b'slug = "x"\n'})[:-30],
    "an empty zip": _zip({}),
    "a path outside the folder": _zip({"../../etc/evil": b"x", "manifest.toml": b'slug = "evil"\n'}),
    "an absolute path": _zip({"/tmp/evil": b"x"}),
    "zips within zips": _nested_zip(30),
    "a manifest that is not TOML": _zip({"manifest.toml": b"\x00\x01{[: :"}),
    "a manifest nested deep": _zip({"manifest.toml": b"a = " + b"[" * 5000 + b"]" * 5000}),
    "a manifest with NUL": _zip({"manifest.toml": b'slug = "a\\u0000b"\ntitle = "\\u0000"\n'}),
    "a manifest with huge numbers": _zip(
        {"manifest.toml": b'slug = "huge"\nwall_seconds = 1e308\nmemory_mb = -1\ncpus = 1e-320\n'}
    ),
    "a highly compressed file": _zip({"data/big.csv": b"0" * 50_000_000}),
}


@pytest.mark.parametrize("name", MALFORMED_ARCHIVES)
def test_a_malformed_bundle_archive_is_refused_with_a_sentence_and_adds_no_exercise(
    quiet_clients: dict[str, Client], name: str
) -> None:
    before = Exercise.objects.count()
    upload = SimpleUploadedFile("bundle.zip", MALFORMED_ARCHIVES[name], content_type="application/zip")
    response = quiet_clients["staff"].post("/exercises/upload/", {"bundle": upload})
    assert response.status_code < 500
    assert Exercise.objects.count() == before
    assert _refused(response)


@pytest.mark.parametrize(
    ("method", "path", "data"),
    [
        ("GET", "/exercises/?field=a%00b", None),
        ("GET", "/api/v1/exercises/?field=%00", None),
        ("GET", "/api/v1/submissions/?event=a%00b", None),
        ("POST", "/events/{a}/help/1/answer/", {"text": "a\x00b"}),
    ],
)
def test_a_nul_character_in_a_query_or_form_field_is_refused_with_a_sentence(
    world: World, quiet_clients: dict[str, Client], method: str, path: str, data: dict[str, str] | None
) -> None:
    # PostgreSQL stores no NUL in text nor compares text with it: these answered 500 in the production profile.
    with transaction.atomic():
        response = quiet_clients["participant_a"].generic(
            method,
            path.format(a=world.event_a.slug),
            data=urlencode(data or {}),
            content_type="application/x-www-form-urlencoded",
        )
        transaction.set_rollback(True)
    assert response.status_code == 400
    assert "NUL character" in response.content.decode()  # the site's sentence, or the API's for the field
