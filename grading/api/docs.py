"""A readable page of the API, drawn on the server from the same OpenAPI schema that /api/v1/schema/ serves."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from drf_spectacular.generators import SchemaGenerator


@dataclass(frozen=True)
class Field:
    name: str
    where: str
    type: str
    required: bool
    description: str


@dataclass(frozen=True)
class Operation:
    method: str
    path: str
    summary: str
    description: str
    fields: tuple[Field, ...]
    responses: tuple[tuple[str, str], ...]
    anchor: str


def _type_of(schema: dict[str, Any], components: dict[str, Any]) -> str:
    if "$ref" in schema:
        return schema["$ref"].rsplit("/", 1)[-1]
    if "enum" in schema:
        return " | ".join(str(v) for v in schema["enum"] if v not in ("", None))
    kind = schema.get("type", "object")
    return f"{kind} ({schema['format']})" if "format" in schema else str(kind)


def _body_fields(operation: dict[str, Any], components: dict[str, Any]) -> list[Field]:
    content = operation.get("requestBody", {}).get("content", {})
    for media, body in content.items():
        schema = body.get("schema", {})
        if "$ref" in schema:
            schema = components.get(schema["$ref"].rsplit("/", 1)[-1], {})
        required = set(schema.get("required", []))
        return [
            Field(name, f"body ({media})", _type_of(prop, components), name in required, prop.get("description", ""))
            for name, prop in schema.get("properties", {}).items()
            if not prop.get("readOnly")
        ]
    return []


def operations(schema: dict[str, Any]) -> list[tuple[str, list[Operation]]]:
    """Return the schema's operations grouped by tag, in the schema's order."""
    components = schema.get("components", {}).get("schemas", {})
    groups: dict[str, list[Operation]] = {}
    for path, methods in schema.get("paths", {}).items():
        for method, operation in methods.items():
            fields = [
                Field(
                    p["name"],
                    p["in"],
                    _type_of(p.get("schema", {}), components),
                    bool(p.get("required")),
                    p.get("description", ""),
                )
                for p in operation.get("parameters", [])
            ] + _body_fields(operation, components)
            responses = tuple(
                (code, answer.get("description", "")) for code, answer in operation.get("responses", {}).items()
            )
            tag = (operation.get("tags") or ["other"])[0]
            groups.setdefault(tag, []).append(
                Operation(
                    method=method.upper(),
                    path=path,
                    summary=operation.get("summary", ""),
                    description=operation.get("description", ""),
                    fields=tuple(fields),
                    responses=responses,
                    anchor=operation.get("operationId", f"{method}-{path}"),
                )
            )
    return list(groups.items())


def api_docs(request: HttpRequest) -> HttpResponse:
    schema = SchemaGenerator().get_schema(request=None, public=True)
    context = {"info": schema.get("info", {}), "groups": operations(schema)}
    return render(request, "grading/api_docs.html", context)
