"""GitHub's official REST response schemas (vendored in testing/openapi/) for the loopback server.

`validate` checks a response body against the schema the OpenAPI description gives for that
operation and status. `complete` fills the required fields the server does not model (a PR's
`repo.has_wiki`, ...) with neutral values of the right type, so that the fields it does model are
checked in a document of the real shape.
"""

from __future__ import annotations

import copy
import functools
import json
import re
from pathlib import Path
from typing import Any

import jsonschema

SPEC_PATH = Path(__file__).parent / "openapi" / "github-rest.json"


@functools.cache
def _spec() -> dict[str, Any]:
    spec: dict[str, Any] = json.loads(SPEC_PATH.read_text())
    spec["components"]["schemas"] = {
        name: _to_json_schema(schema) for name, schema in spec["components"]["schemas"].items()
    }
    return spec


def _to_json_schema(node: Any) -> Any:
    """Translate OpenAPI 3.0's `nullable: true` into JSON Schema's null type."""
    if isinstance(node, list):
        return [_to_json_schema(v) for v in node]
    if not isinstance(node, dict):
        return node
    out = {k: _to_json_schema(v) for k, v in node.items() if k != "nullable"}
    if node.get("nullable"):
        if "type" in out:
            out["type"] = [out["type"], "null"]
        if "enum" in out:
            out["enum"] = [*out["enum"], None]
        if "$ref" in out or "allOf" in out or "anyOf" in out or "oneOf" in out:
            out = {"anyOf": [out, {"type": "null"}]}
    return out


def schema_name(operation: str, status: int) -> str | None:
    """Return the component schema of `operation` ("POST /repos/{owner}/{repo}/git/refs") at `status`."""
    statuses = _spec()["operations"][operation]
    if str(status) not in statuses:
        raise KeyError(f"{operation} has no documented {status} response")
    name: str | None = statuses[str(status)]
    return name


def validate(operation: str, status: int, body: Any) -> None:
    """Raise jsonschema.ValidationError when body is not what GitHub documents for this response."""
    name = schema_name(operation, status)
    if name is None and status >= 400 and body is not None:
        # An error documented without a schema (DELETE ref's 422): GitHub still sends its usual
        # error body, so hold it to that shape.
        name = "basic-error"
    if name is None:
        if body is not None:
            raise jsonschema.ValidationError(f"{operation} {status} documents no body")
        return
    root = {"components": _spec()["components"], "$ref": f"#/components/schemas/{name}"}
    jsonschema.Draft7Validator(root, format_checker=jsonschema.FormatChecker()).validate(body)


def complete(name: str, known: dict[str, Any]) -> dict[str, Any]:
    """Return `known` with every required property of schema `name` that it lacks filled in.

    What it does, and so what validation then proves: each missing required property gets a neutral
    value of the schema's type (None where nullable, the first enum value, 0 or 1 for ids, "", False,
    [], a placeholder URL or date), recursively through $ref, allOf and anyOf/oneOf (the option
    matching the known value's type). The properties the server models are kept as given and are
    checked against the schema; the filled ones are only type-correct padding (PyGithub does not
    read them), never evidence of GitHub's values. A server field with the wrong name or type still
    fails validation, because it is kept, and a required field the server forgot is padded, not caught:
    list what matters to the client in `known`."""
    return _fill({"$ref": f"#/components/schemas/{name}"}, known)  # type: ignore[no-any-return]


def _resolve(schema: dict[str, Any], known: Any = None) -> dict[str, Any]:
    while "$ref" in schema:
        schema = _spec()["components"]["schemas"][schema["$ref"].removeprefix("#/components/schemas/")]
    if "allOf" in schema:
        merged: dict[str, Any] = {"type": "object", "properties": {}, "required": []}
        for part in schema["allOf"]:
            part = _resolve(part)
            merged["properties"].update(part.get("properties", {}))
            merged["required"] += part.get("required", [])
        return merged
    if "anyOf" in schema or "oneOf" in schema:
        options = [_resolve(s) for s in schema.get("anyOf", schema.get("oneOf", []))]
        if known is not None:
            want = {dict: "object", list: "array", str: "string", bool: "boolean", int: "integer"}
            kind = want.get(type(known))
            for option in options:
                types = option.get("type")
                if kind in (types if isinstance(types, list) else [types]):
                    return option
        return next((o for o in options if o.get("type") == "null"), options[0])
    return schema


def _fill(schema: dict[str, Any], known: Any) -> Any:
    schema = _resolve(schema, known)
    kind = schema.get("type")
    types = kind if isinstance(kind, list) else [kind]
    if known is not None:
        if isinstance(known, dict) and "object" in types:
            out = copy.copy(known)
            props = schema.get("properties", {})
            for key, value in list(out.items()):
                if key in props:
                    out[key] = _fill(props[key], value)
            for key in schema.get("required", []):
                if key not in out:
                    out[key] = _neutral(props.get(key, {}), key)
            return out
        if isinstance(known, list) and "array" in types and "items" in schema:
            return [_fill(schema["items"], item) for item in known]
        return known
    return _neutral(schema, "")


def _neutral(schema: dict[str, Any], key: str) -> Any:
    schema = _resolve(schema)
    kind = schema.get("type")
    types = kind if isinstance(kind, list) else [kind]
    if "null" in types:
        return None
    if "enum" in schema:
        return schema["enum"][0]
    if "object" in types or "properties" in schema:
        return _fill(schema, {})
    if "array" in types:
        return []
    if "integer" in types or "number" in types:
        return 1 if key.endswith("id") else 0
    if "boolean" in types:
        return False
    fmt = schema.get("format")
    if fmt == "uri" or key.endswith("url") or key == "url":
        return "https://github.invalid/" + re.sub(r"[^a-z_]", "", key)
    if fmt == "date-time":
        return "2026-01-01T00:00:00Z"
    if fmt == "email":
        return "noreply@github.invalid"
    return ""
