"""Image references and marker comments as both editors (YAML and text) recognise them."""

from __future__ import annotations

import re

from updater.domain import imageref
from updater.infra.errors import InputError

# `# updater: NAME`, or a Flux image-automation setter `# {"$imagepolicy": "ns:policy[:tag]"}`.
MARKER = re.compile(
    r"#\s*updater:\s*(?P<name>[^\s#]+)|#\s*\{\s*\"\$imagepolicy\"\s*:\s*\"(?P<setter>[^\"]+)\"\s*\}"
)


def split_reference(value: str, *, bare: bool = False) -> tuple[str, str | None, str | None] | None:
    """Split "REPO[:TAG][@DIGEST]" into (REPO as written, TAG, DIGEST); None unless it has either.

    With `bare`, a name without tag or digest is a reference too (a marked image line).
    """
    try:
        ref = imageref.parse(value)
    except InputError:
        return None
    if ref.layout is not None or not (bare or ref.tag or ref.digest) or value != value.strip():
        return None
    suffix = (f":{ref.tag}" if ref.tag else "") + (f"@{ref.digest}" if ref.digest else "")
    return value[: len(value) - len(suffix)], ref.tag, ref.digest


def same_repository(a: str, b: str) -> bool:
    """True when two names are one repository under Docker's rules (`nginx` = docker.io/library/nginx)."""
    try:
        first, second = imageref.parse(a), imageref.parse(b)
    except InputError:
        return False
    return (first.registry, first.repository) == (second.registry, second.repository)
