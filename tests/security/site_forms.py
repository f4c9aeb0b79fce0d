"""The site's HTML forms as a person finds them: read from the pages they may open, with the values they offer."""

from __future__ import annotations

from dataclasses import dataclass, field
from html.parser import HTMLParser
from typing import Any

from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from tests.builders.world import World, path_of
from tests.security.test_authorization_matrix import EXPECTED, ROLES, site_routes

# Whatever a person may only read: the forms on these are not theirs to try (the sign-out button is tried elsewhere).
SKIPPED_ACTIONS = ("/accounts/logout/",)
NOTEBOOK = b'{"cells": [], "metadata": {}, "nbformat": 4, "nbformat_minor": 5}'


@dataclass
class Form:
    action: str
    multipart: bool
    fields: dict[str, list[str]] = field(default_factory=dict)  # name -> the values it may take, default first
    files: list[str] = field(default_factory=list)


class _Forms(HTMLParser):
    """Collect the POST forms of a page: their action, their fields and the values those offer."""

    def __init__(self, page_path: str) -> None:
        super().__init__(convert_charrefs=True)
        self.page_path = page_path
        self.forms: list[Form] = []
        self._form: Form | None = None
        self._select: str | None = None
        self._textarea: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag == "form" and a.get("method", "get").lower() == "post":
            self._form = Form(a.get("action") or self.page_path, "multipart" in a.get("enctype", ""))
        if self._form is None:
            return
        name = a.get("name")
        if tag == "input" and name:
            kind = a.get("type", "text")
            if kind == "file":
                self._form.files.append(name)
            elif kind in ("checkbox", "radio"):
                self._form.fields.setdefault(name, []).append(a.get("value", "on"))
            elif kind != "submit" or name not in self._form.fields:
                self._form.fields.setdefault(name, []).append(a.get("value") or _filler(kind))
        elif tag == "button" and name:
            self._form.fields.setdefault(name, []).append(a.get("value", ""))
        elif tag == "select" and name:
            self._select = name
            self._form.fields.setdefault(name, [])
        elif tag == "option" and self._select:
            value = a.get("value", "")
            if value:
                self._form.fields[self._select].append(value)
        elif tag == "textarea" and name:
            self._textarea = name
            self._form.fields.setdefault(name, []).append("A question long enough to be accepted.")

    def handle_endtag(self, tag: str) -> None:
        if tag == "form" and self._form is not None:
            self.forms.append(self._form)
            self._form = None
        elif tag == "select":
            self._select = None
        elif tag == "textarea":
            self._textarea = None


def _filler(kind: str) -> str:
    return {"number": "1", "email": "someone@example.org", "date": "2026-12-01", "datetime-local": ""}.get(
        kind, "A value"
    )


def forms_of(world: World, role: str, client: Client) -> list[Form]:
    """Return the POST forms on every HTML page the table lets this person open."""
    found: dict[tuple[str, tuple[str, ...]], Form] = {}
    for route in site_routes():
        row = EXPECTED.get(route, {}).get("GET")
        if not row or row[ROLES.index(role)] != 200 or route.startswith(("admin/", "api/v1/")):
            continue
        path = path_of(route, world.kwargs_for(route))
        response = client.get(path)
        # A page that does not render is a crawl that silently finds nothing: say which.
        assert response.status_code == 200, f"GET {path} as {role}: {response.status_code}"
        if not response.get("Content-Type", "").startswith("text/html"):
            continue
        parser = _Forms(path)
        parser.feed(response.content.decode())
        for form in parser.forms:
            if form.action.startswith(SKIPPED_ACTIONS):
                continue
            found.setdefault((form.action, tuple(sorted(form.fields))), form)
    return list(found.values())


def form_body(form: Form, name: str | None = None, value: str | None = None) -> dict[str, Any]:
    """Fill the form with its defaults, and `name` (if given) with `value`."""
    body: dict[str, Any] = {key: values[0] for key, values in form.fields.items() if values}
    for key in form.files:
        body[key] = SimpleUploadedFile("mine.ipynb", NOTEBOOK, content_type="application/x-ipynb+json")
    if name is not None:
        body[name] = value
    return body
