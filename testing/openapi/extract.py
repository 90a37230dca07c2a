"""Vendor the few GitHub REST response schemas the loopback server returns.

Run once (or to refresh): `npm pack @octokit/openapi`, unpack it, then
`python testing/openapi/extract.py package/generated/api.github.com.json`. It writes
`testing/openapi/github-rest.json`: for each operation the server implements, the schema name of
each response status, and the closure of those component schemas, copied verbatim (MIT, see LICENSE).
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path
from typing import Any

# (method, path template) for every REST operation testing/github_server.py implements.
OPERATIONS = [
    ("post", "/repos/{owner}/{repo}/git/blobs"),
    ("post", "/repos/{owner}/{repo}/git/trees"),
    ("post", "/repos/{owner}/{repo}/git/commits"),
    ("post", "/repos/{owner}/{repo}/git/refs"),
    ("patch", "/repos/{owner}/{repo}/git/refs/{ref}"),
    ("delete", "/repos/{owner}/{repo}/git/refs/{ref}"),
    ("get", "/repos/{owner}/{repo}/git/blobs/{file_sha}"),
    ("patch", "/repos/{owner}/{repo}/issues/{issue_number}"),
    ("post", "/repos/{owner}/{repo}/pulls/{pull_number}/requested_reviewers"),
    ("put", "/repos/{owner}/{repo}/pulls/{pull_number}/merge"),
    ("get", "/repos/{owner}/{repo}/installation"),
    ("get", "/repos/{owner}/{repo}/compare/{basehead}"),
    ("post", "/app/installations/{installation_id}/access_tokens"),
]
PREFIX = "#/components/schemas/"


def _refs(node: Any) -> set[str]:
    """Return the component schema names referenced anywhere under node."""
    found: set[str] = set()
    if isinstance(node, dict):
        ref = node.get("$ref")
        if isinstance(ref, str) and ref.startswith(PREFIX):
            found.add(ref[len(PREFIX) :])
        for value in node.values():
            found |= _refs(value)
    elif isinstance(node, list):
        for value in node:
            found |= _refs(value)
    return found


def main(spec_path: str) -> None:
    spec = json.loads(Path(spec_path).read_text())
    components = spec["components"]
    operations: dict[str, dict[str, str | None]] = {}
    wanted: set[str] = set()
    for method, path in OPERATIONS:
        op = spec["paths"][path][method]
        statuses: dict[str, str | None] = {}
        for status, response in op["responses"].items():
            if "$ref" in response:
                response = components["responses"][response["$ref"].rsplit("/", 1)[1]]
            schema = response.get("content", {}).get("application/json", {}).get("schema")
            name = None
            if schema is not None:
                ref = schema.get("$ref", "")
                name = ref[len(PREFIX) :] if ref.startswith(PREFIX) else None
                if name is None:  # an inline schema: store it under a synthetic name
                    name = re.sub(r"[^a-z0-9]+", "-", f"inline {method} {path} {status}").strip("-")
                    components["schemas"][name] = schema
                wanted.add(name)
            statuses[status] = name
        operations[f"{method.upper()} {path}"] = statuses
    closure: set[str] = set()
    todo = list(wanted)
    while todo:
        name = todo.pop()
        if name in closure:
            continue
        closure.add(name)
        todo.extend(_refs(components["schemas"][name]) - closure)
    out = {
        "source": f"@octokit/openapi {spec['info']['version']} api.github.com.json (MIT, see LICENSE)",
        "openapi": spec["openapi"],
        "operations": operations,
        "components": {"schemas": {name: components["schemas"][name] for name in sorted(closure)}},
    }
    target = Path(__file__).with_name("github-rest.json")
    target.write_text(json.dumps(out, indent=1, sort_keys=True) + "\n")
    print(f"wrote {target}: {len(operations)} operations, {len(closure)} schemas")


if __name__ == "__main__":
    main(sys.argv[1])
