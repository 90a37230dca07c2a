"""Hostile registries on 127.0.0.1: the real registry behind the proxy, with answers that lie or crawl.

Each function returns a `tamper` hook for `testing.registry_proxy.start_proxy`: the real registry
answers every request, and the hook replaces the answers a test aims at, so everything else stays
what CNCF distribution really sends. What a well-behaved registry sends instead is in the OCI
distribution spec (https://github.com/opencontainers/distribution-spec/blob/main/spec.md):

- "Listing Tags": `{"name": "<name>", "tags": ["<tag1>", ...]}`, each tag matching
  `[a-zA-Z0-9_][a-zA-Z0-9._-]{0,127}` ("Pulling manifests", the `<reference>` grammar).
- "Pulling manifests": `Docker-Content-Digest` is the digest of the returned manifest, a valid digest
  (OCI image spec, descriptor.md "Digests": `algorithm:encoded`, sha256 = 64 lower-case hex digits).
- "Pushing Manifests": implementations "SHOULD expect to be able to support manifest pushes of at
  least 4 megabytes"; nothing there lets an answer be endless or take forever.
- Blob GETs may be redirected (307) to other storage; a redirect to nowhere or in a loop is hostile.

`push_later` pushes a tag (or a whole new repository) into the real registry N seconds from now, the
way CI finishes a build while `updater resolve --wait` polls.
"""

from __future__ import annotations

import itertools
import json
import threading
import time
from collections.abc import Callable, Iterator
from datetime import datetime

from testing.registry import push_image
from testing.registry_proxy import Exchange, Reply

Tamper = Callable[[Exchange], Reply | None]
JSON = [("Content-Type", "application/json")]


def trickle(kinds: frozenset[str], pace: float = 1.0) -> Tamper:
    """Send the real answer to `kinds` one byte every `pace` seconds, status line and headers included."""

    def tamper(ex: Exchange) -> Reply | None:
        if ex.kind not in kinds:
            return None
        body = [bytes([b]) for b in ex.body]
        headers = [(n, v) for n, v in ex.headers if n.lower() not in ("connection", "transfer-encoding")]
        headers = [(n, v) for n, v in headers if n.lower() != "content-length"]
        headers.append(("Content-Length", str(len(ex.body))))
        return Reply(ex.status, headers, body, pace=pace, whole=True)

    return tamper


def endless(kinds: frozenset[str], declared: int | None = None, seconds: float = 120.0) -> Tamper:
    """Answer `kinds` with 200 and a JSON body that never ends (it stops after `seconds`, a safety net).

    `declared` sends that Content-Length (a lie much larger than any cap); None sends none, so the
    body runs until the connection closes.
    """

    def body() -> Iterator[bytes]:
        yield b'{"tags": ["'
        chunk = b"a" * 65536
        stop = time.monotonic() + seconds
        while time.monotonic() < stop:
            yield chunk

    def tamper(ex: Exchange) -> Reply | None:
        if ex.kind not in kinds:
            return None
        headers = list(JSON)
        if declared is not None:
            headers.append(("Content-Length", str(declared)))
        return Reply(200, headers, body())

    return tamper


def tags_body(payload: bytes) -> Tamper:
    """Answer every tags page with `payload` (wrong JSON types, invalid tags, deep nesting)."""

    def tamper(ex: Exchange) -> Reply | None:
        if ex.kind != "tags" or ex.status != 200:
            return None
        return Reply(200, list(JSON), payload)

    return tamper


def extra_tags(*tags: str) -> Tamper:
    """Add `tags` (which no real registry would accept on push) to the real first tags page."""

    def tamper(ex: Exchange) -> Reply | None:
        if ex.kind != "tags" or ex.status != 200 or "last=" in ex.query:
            return None
        listing = json.loads(ex.body)
        listing["tags"] = [*listing.get("tags", []), *tags]
        headers = [(n, v) for n, v in ex.headers if n.lower() != "content-length"]
        return Reply(200, headers, json.dumps(listing).encode())

    return tamper


def digest_header(value: str, kinds: frozenset[str] = frozenset({"manifest_head", "manifest_get"})) -> Tamper:
    """Send `value` as Docker-Content-Digest on manifest answers, everything else unchanged."""

    def tamper(ex: Exchange) -> Reply | None:
        if ex.kind not in kinds or ex.status != 200:
            return None
        replaced = ("docker-content-digest", "content-length")
        headers = [(n, v) for n, v in ex.headers if n.lower() not in replaced]
        headers.append(("Docker-Content-Digest", value))
        headers.append(("Content-Length", str(len(ex.body))))
        return Reply(200, headers, ex.body if ex.method == "GET" else b"")

    return tamper


def redirect(kinds: frozenset[str], to: Callable[[Exchange], str]) -> Tamper:
    """Answer `kinds` with 307 to `to(exchange)`: elsewhere, back to itself (a loop), or a bad scheme."""

    def tamper(ex: Exchange) -> Reply | None:
        if ex.kind not in kinds:
            return None
        return Reply(307, [("Location", to(ex)), ("Content-Length", "0")], b"")

    return tamper


def redirect_loop(kinds: frozenset[str]) -> Tamper:
    """Redirect `kinds` to the same path with a new query each time: never the same URL twice."""
    counter = itertools.count()
    return redirect(kinds, lambda ex: f"{ex.path}?hop={next(counter)}")


def deep_array(depth: int) -> bytes:
    """A tags page whose `tags` is `depth` nested arrays: valid JSON that recursion cannot parse."""
    return b'{"tags": ' + b"[" * depth + b"]" * depth + b"}"


def push_later(
    registry_url: str, repository: str, tags: list[str], *, after: float, created: datetime
) -> threading.Timer:
    """Push an image under `tags` `after` seconds from now (the repository is created if new)."""
    timer = threading.Timer(
        after, push_image, args=(registry_url, repository, tags), kwargs={"created": created}
    )
    timer.daemon = True
    timer.start()
    return timer


__all__ = [
    "deep_array",
    "digest_header",
    "endless",
    "extra_tags",
    "push_later",
    "redirect",
    "redirect_loop",
    "tags_body",
    "trickle",
]
