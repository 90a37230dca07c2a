"""Argo CD's published API description (../shared/argocd/swagger.json) as a response checker.

The loopback server (testing/argocd_server.py) validates every body it sends with `validate`, so the
client under test only ever sees documents of the real shape. Swagger 2.0 definitions are JSON Schema
with `#/definitions/...` references; Argo CD's declare no `required` fields, so to be at least as
strict as the description we also close every object that lists its properties
(`additionalProperties: false`): a field the server invents, or misspells, fails validation instead of
passing silently. Maps (`labels`, `annotations`) keep their declared `additionalProperties`.
"""

from __future__ import annotations

import functools
import json
import os
import re
from pathlib import Path
from typing import Any

import jsonschema

SWAGGER_PATH = Path(__file__).resolve().parent.parent.parent / "shared" / "argocd" / "swagger.json"


def _swagger_path() -> Path:
    # ../shared beside the checkout; a checkout elsewhere names the file in UPDATER_ARGOCD_SWAGGER.
    override = os.environ.get("UPDATER_ARGOCD_SWAGGER")
    return Path(override) if override else SWAGGER_PATH


@functools.cache
def definitions() -> dict[str, Any]:
    """Return the swagger's definitions, objects closed against unknown properties."""
    spec = json.loads(_swagger_path().read_text())
    return {name: _close(schema) for name, schema in spec["definitions"].items()}


@functools.cache
def operations() -> dict[tuple[str, str], dict[str, Any]]:
    """Return {(METHOD, path template): operation} from the swagger's paths."""
    spec = json.loads(_swagger_path().read_text())
    return {
        (method.upper(), path): op
        for path, item in spec["paths"].items()
        for method, op in item.items()
        if isinstance(op, dict)
    }


def _close(node: Any) -> Any:
    if isinstance(node, list):
        return [_close(v) for v in node]
    if not isinstance(node, dict):
        return node
    out = {k: _close(v) for k, v in node.items()}
    if "properties" in node and "additionalProperties" not in node:
        out["additionalProperties"] = False
    return out


def response_definition(method: str, path: str, status: int) -> str:
    """Return the definition documented for `status` of operation METHOD path (else its default)."""
    responses = operations()[(method, path)]["responses"]
    entry = responses.get(str(status)) or responses["default"]
    ref: str = entry["schema"]["$ref"]
    return ref.removeprefix("#/definitions/")


# RFC 3339 as Kubernetes writes v1Time (jsonschema checks date-time only with an optional extra).
_RFC3339 = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$")
_FORMATS = jsonschema.FormatChecker()
_FORMATS.checks("date-time")(lambda value: not isinstance(value, str) or bool(_RFC3339.match(value)))


def validate(name: str, body: Any) -> None:
    """Raise jsonschema.ValidationError when `body` is not a valid `name` document."""
    root = {"definitions": definitions(), "$ref": f"#/definitions/{name}"}
    jsonschema.Draft4Validator(root, format_checker=_FORMATS).validate(body)
