"""The shapes a registry's answers must have, checked before anything is read from them.

A registry is untrusted input. Every JSON answer is parsed with a bounded nesting depth (a 100,000-deep
array would otherwise end in RecursionError) and checked against the OCI specs:

- distribution spec (https://github.com/opencontainers/distribution-spec/blob/main/spec.md),
  "Listing Tags": `{"name": "<name>", "tags": ["<tag>", ...]}`; "Pulling manifests": the
  `Docker-Content-Digest` header is the digest of the returned manifest, and a manifest's `mediaType`
  must match the `Content-Type` it was served with;
- image spec descriptor.md "Digests": `algorithm ":" encoded`, algorithm components `[a-z0-9]+` joined
  by `[+._-]`, encoded `[a-zA-Z0-9=_-]+`; the registered algorithms are sha256 (64 lower-case hex
  digits), sha512 (128) and blake3 (64);
- image spec manifest.md / image-index.md: `schemaVersion` 2, a `config` descriptor and `layers`, or
  `manifests` (descriptors with an optional `platform` of strings).

A malformed answer raises `Malformed` with a message that shows the offending value escaped and cut
short (`shown`), never raw: a header may carry escape codes or 6,000 characters.
"""

from __future__ import annotations

import hashlib
import json
import re
from typing import Any

OCI_INDEX = "application/vnd.oci.image.index.v1+json"
OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
DOCKER_LIST = "application/vnd.docker.distribution.manifest.list.v2+json"
DOCKER_MANIFEST = "application/vnd.docker.distribution.manifest.v2+json"
INDEX_TYPES = frozenset({OCI_INDEX, DOCKER_LIST})
MANIFEST_TYPES = frozenset({OCI_MANIFEST, DOCKER_MANIFEST})
MAX_JSON_DEPTH = 32  # manifests nest 4 levels deep; annotations and labels are flat strings

_DIGEST = re.compile(r"[a-z0-9]+(?:[+._-][a-z0-9]+)*:[a-zA-Z0-9=_-]+")
# The image spec's registered algorithms; a digest by any other cannot be checked, so it is refused.
_HEX_LENGTH = {"sha256": 64, "sha512": 128, "blake3": 64}
_STRINGS = re.compile(rb'"(?:[^"\\]|\\.)*"', re.DOTALL)
_BRACKETS = re.compile(rb"[\[\]{}]")


class Malformed(ValueError):
    """A registry answer that does not have the shape the specs give it."""


def shown(value: object, limit: int = 40) -> str:
    """Return `value` for a message: JSON-escaped (no control characters), cut after `limit` characters."""
    text = value if isinstance(value, str) else repr(value)
    cut = json.dumps(text[:limit])
    return cut if len(text) <= limit else f'{cut[:-1]}..." ({len(text)} characters)'


def load_json(content: bytes, what: str) -> Any:
    """Return the JSON value in `content`; Malformed when it is not JSON or nests too deeply."""
    depth = 0
    deepest = 0
    for bracket in _BRACKETS.findall(_STRINGS.sub(b'""', content)):
        depth += 1 if bracket in b"[{" else -1
        deepest = max(deepest, depth)
    if deepest > MAX_JSON_DEPTH:
        raise Malformed(f"{what} nests deeper than {MAX_JSON_DEPTH} levels")
    try:
        return json.loads(content)
    except (ValueError, RecursionError):
        raise Malformed(f"{what} is not JSON") from None


def digest(value: object, what: str) -> str:
    """Return `value` if it is a digest by a registered algorithm, of the right length; else Malformed."""
    if isinstance(value, str) and _DIGEST.fullmatch(value):
        algorithm, _, encoded = value.partition(":")
        length = _HEX_LENGTH.get(algorithm)
        if length is not None and len(encoded) == length and re.fullmatch(r"[a-f0-9]+", encoded):
            return value
    raise Malformed(f"{what} is not a valid digest: {shown(value)}")


def content_digest(content: bytes, algorithm: str) -> str | None:
    """Return the digest of `content` by `algorithm`, or None for an algorithm we cannot compute."""
    if algorithm not in hashlib.algorithms_available:  # blake3
        return None
    return f"{algorithm}:{hashlib.new(algorithm, content).hexdigest()}"


def tags_page(value: Any) -> list[str]:
    """Return the `tags` of a tags-list page; Malformed unless it is an object whose tags are strings.

    A missing or null `tags` is an empty page (some registries answer so for a repository without tags).
    """
    if not isinstance(value, dict):
        raise Malformed(f"the tags list is a JSON {_kind(value)}, not an object")
    tags = value.get("tags")
    if tags is None:
        return []
    if not isinstance(tags, list):
        raise Malformed(f'"tags" is a JSON {_kind(tags)}, not a list of strings')
    for tag in tags:
        if not isinstance(tag, str):
            raise Malformed(f'"tags" holds a JSON {_kind(tag)} ({shown(tag)}), not a string')
    return tags


def manifest(value: Any, content_type: str | None, what: str) -> dict[str, Any]:
    """Return the manifest or index `value` after checking its shape; Malformed otherwise."""
    if not isinstance(value, dict):
        raise Malformed(f"{what} is a JSON {_kind(value)}, not an object")
    if value.get("schemaVersion") != 2:
        raise Malformed(f"{what} has schemaVersion {shown(value.get('schemaVersion'))}, not 2")
    media_type = value.get("mediaType")
    served = (content_type or "").split(";", 1)[0].strip().lower()
    if media_type is not None:
        if not isinstance(media_type, str):
            raise Malformed(f"{what}: mediaType is a JSON {_kind(media_type)}, not a string")
        if served in INDEX_TYPES | MANIFEST_TYPES and served != media_type:
            raise Malformed(f"{what}: mediaType {shown(media_type)} is not its Content-Type {shown(served)}")
    if is_index(value):
        entries = value.get("manifests")
        if not isinstance(entries, list):
            raise Malformed(f"{what}: manifests is a JSON {_kind(entries)}, not a list")
        for entry in entries:
            _descriptor(entry, f"{what}: an entry of manifests")
            platform = entry.get("platform")
            if platform is not None and not (
                isinstance(platform, dict)
                and all(isinstance(platform.get(k, ""), str) for k in ("os", "architecture", "variant"))
            ):
                raise Malformed(f"{what}: a platform is not an object of strings: {shown(platform)}")
        return value
    _descriptor(value.get("config"), f"{what}: config")
    layers = value.get("layers")
    if not isinstance(layers, list):
        raise Malformed(f"{what}: layers is a JSON {_kind(layers)}, not a list")
    for layer in layers:
        _descriptor(layer, f"{what}: a layer")
    return value


def config(value: Any, what: str) -> dict[str, Any]:
    """Return the image config `value`; Malformed unless an object whose `created` is a string if given."""
    if not isinstance(value, dict):
        raise Malformed(f"{what} is a JSON {_kind(value)}, not an object")
    created = value.get("created")
    if created is not None and not isinstance(created, str):
        raise Malformed(f"{what}: created is a JSON {_kind(created)}, not a string")
    return value


def is_index(value: dict[str, Any]) -> bool:
    """True for an image index / manifest list (by mediaType, or by shape when it has none)."""
    return value.get("mediaType") in INDEX_TYPES or (
        "manifests" in value and "config" not in value and "layers" not in value
    )


def _descriptor(value: Any, what: str) -> None:
    if not isinstance(value, dict):
        raise Malformed(f"{what} is a JSON {_kind(value)}, not a descriptor object")
    if not isinstance(value.get("mediaType"), str):
        raise Malformed(f"{what} has no mediaType string")
    digest(value.get("digest"), f"{what}'s digest")
    size = value.get("size")
    if not isinstance(size, int) or isinstance(size, bool) or size < 0:
        raise Malformed(f"{what} has size {shown(size)}, not a byte count")


def _kind(value: object) -> str:
    names = {dict: "object", list: "array", str: "string", bool: "boolean", int: "number", float: "number"}
    return "null" if value is None else names.get(type(value), type(value).__name__)
