"""Every API operation, sent NUL, huge, tiny and deeply nested values in each parameter and field, answers below 500.

schemathesis (tests/api/test_api_schema_fuzzing.py) generates requests from the schema but may never draw a NUL or
a number past a database integer in its few examples per operation; this test sends those on purpose, as a
participant and as an organizer, to every operation the schema lists, and huge ids in every path.
"""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
from django.db import transaction
from django.test import Client
from drf_spectacular.generators import SchemaGenerator

from tests.builders.world import World, path_of
from tests.security.test_authorization_matrix import EXPECTED, _schema_spelling

pytestmark = [pytest.mark.django_db, pytest.mark.production_profile]

VALUES: tuple[Any, ...] = (
    "\x00",
    "a\x00b",
    "1e-320",
    1e-320,
    1e308,
    -1e308,
    10**30,
    -(10**30),
    "99999999999999999999999",
    "not-a-uuid-00000000-0000",
    "ü🙂" * 3000,
    [[[["nested"]]]],
    {"a": {"b": {"c": None}}},
    None,
    True,
)
HUGE_ID = "99999999999999999999999"


def _operations() -> list[tuple[str, str, list[str], list[str]]]:
    """Return (route, method, query parameter names, body field names) of every operation in the schema."""
    schema = SchemaGenerator().get_schema(request=None, public=True)
    routes = {_schema_spelling(route): route for route in EXPECTED if route.startswith("api/v1/")}
    found = []
    for path, item in schema["paths"].items():
        route = routes[path.lstrip("/")]
        for method, operation in item.items():
            if method not in ("get", "post", "put", "patch", "delete"):
                continue
            query = [p["name"] for p in operation.get("parameters", []) if p["in"] == "query"]
            body: list[str] = []
            for content in operation.get("requestBody", {}).get("content", {}).values():
                ref = content["schema"].get("$ref", "")
                component = schema["components"]["schemas"].get(ref.rsplit("/", 1)[-1], content["schema"])
                body += list(component.get("properties", {}))
            found.append((route, method.upper(), query, sorted(set(body))))
    return found


OPERATIONS = _operations()


def _send(client: Client, method: str, path: str, **kwargs: Any) -> int:
    with transaction.atomic():
        response = client.generic(method, path, **kwargs)
        transaction.set_rollback(True)
    return response.status_code


@pytest.fixture(scope="module")
def quiet(world: World, django_db_blocker) -> dict[str, Client]:  # type: ignore[no-untyped-def]
    signed_in = {}
    with django_db_blocker.unblock():
        for role in ("participant_a", "organizer_a"):
            signed_in[role] = Client(raise_request_exception=False)
            signed_in[role].force_login(world.people[role])
    return signed_in


def test_the_schema_lists_operations_with_parameters_and_fields_to_try() -> None:
    assert any(query for _, _, query, _ in OPERATIONS)
    assert any(body for _, _, _, body in OPERATIONS)


@pytest.mark.parametrize(
    ("route", "method", "query", "body"), OPERATIONS, ids=[f"{m} {r}" for r, m, _, _ in OPERATIONS]
)
@pytest.mark.parametrize("role", ["participant_a", "organizer_a"])
def test_malformed_values_in_every_parameter_and_field_get_no_server_error(
    world: World, quiet: dict[str, Client], role: str, route: str, method: str, query: list[str], body: list[str]
) -> None:
    client = quiet[role]
    path = path_of(route, world.kwargs_for(route))
    errors = []
    for value in VALUES:
        text = value if isinstance(value, str) else json.dumps(value)
        for name in query:
            status = _send(client, method, path + "?" + _query(name, text))
            if status >= 500:
                errors.append(f"{method} {path}?{name}={text[:30]!r}: {status}")
        for name in body:
            status = _send(client, method, path, data=json.dumps({name: value}), content_type="application/json")
            if status >= 500:
                errors.append(f"{method} {path} {{{name}: {text[:30]!r}}}: {status}")
    deep = "[" * 100_000 + "]" * 100_000
    if method != "GET" and _send(client, method, path, data=deep, content_type="application/json") >= 500:
        errors.append(f"{method} {path} with a body nested 100000 deep: 500")
    if re.search(r"<int:\w+>", route):
        huge = path_of(re.sub(r"<int:(\w+)>", HUGE_ID, route), world.kwargs_for(route))
        if _send(client, method, huge) >= 500:
            errors.append(f"{method} {huge}: 500")
    assert not errors, "\n".join(errors)


def _query(name: str, text: str) -> str:
    from urllib.parse import urlencode

    return urlencode({name: text})
