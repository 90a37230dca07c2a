"""Is a located value a tag today, and if not, which nearby key holds one (for a config's `key`).

A `key` that points at the image repository (`images.repositories.api` next to `images.tag`) would
have the repository string replaced by a tag on the first bump; these let bump and `config validate`
refuse it and name the key the user meant.
"""

from __future__ import annotations

import re

from updater.domain.keypath import KeyPathError, format_key_path, parse_key_path
from updater.yamledit._locate import _visit
from updater.yamledit._scalar import DIGEST, TAG, TAG_AT_DIGEST
from updater.yamledit._tree import Context, Lines, Scalar, read
from updater.yamledit.model import Found, Locator

# Keys that conventionally hold a tag: tag, imageTag, newTag, image_tag, version, appVersion...
_TAG_KEY = re.compile(r"(?:^|[_.-])(?:tag|version)$|[a-z0-9](?:Tag|Version)$", re.IGNORECASE)


def not_a_tag(value: str | None) -> str | None:
    """Return why `value` cannot be the tag updater replaces (e.g. "it contains '/'"), or None.

    Empty and null are fine (a tag not set yet), and so is TAG@sha256:... or a digest.
    """
    if value is None or value == "" or TAG.fullmatch(value):
        return None
    if DIGEST.fullmatch(value) or TAG_AT_DIGEST.fullmatch(value):
        return None
    for char, name in (("/", "'/'"), (":", "':'"), (" ", "a space"), ("\t", "a tab")):
        if char in value:
            return f"it contains {name}"
    if any(c.isspace() for c in value):
        return "it contains white space"
    return "it is not an OCI tag ([A-Za-z0-9_][A-Za-z0-9._-]{0,127})"


def tag_holders(text: str, *, near: str, document: int | None = None, source: str = "<text>") -> list[Found]:
    """Return the scalars under a tag-like key that hold a tag, those nearest to key path `near` first.

    Nearest: the longest common start with `near`, then the shortest path, then the earliest line.
    Only keys sharing a first segment with `near` count, unless `near` is a top-level key.
    """
    try:
        wanted = parse_key_path(near)
    except KeyPathError:
        wanted = []
    lines = Lines(text)
    docs, _, _ = read(text, source, lines)
    ctx = Context(source, text, docs, lines)
    ranked: list[tuple[int, int, int, Found]] = []
    for doc in ctx.docs:
        if document is not None and doc.index != document:
            continue
        for visit in _visit(doc.root, ()):
            node, path = visit.node, visit.path
            if not isinstance(node, Scalar) or not path or not isinstance(path[-1], str):
                continue
            if not _TAG_KEY.search(path[-1]) or not TAG.fullmatch(node.value):
                continue
            common = 0
            for mine, theirs in zip(path, wanted, strict=False):
                if mine != theirs:
                    break
                common += 1
            line = lines.line(node.start)
            found = Found(format_key_path(list(path)), doc.index, line, node.value)
            if common or len(wanted) <= 1:
                ranked.append((-common, len(path), line, found))
    ranked.sort(key=lambda item: item[:3])
    return [found for *_, found in ranked]


def refusal(text: str, file: str, locator: Locator, found: Found, who: str) -> str | None:
    """Return why the value `found` at `locator` cannot be the tag updater writes, or None when it can.

    A key whose value is not a tag (contains '/', ':' or spaces) points at something else, typically
    the image repository: writing a tag there would break the chart. The nearest key that does hold a
    tag is suggested.
    """
    reason = not_a_tag(found.value)
    if reason is None or locator.key is None:
        return None
    hint = "point key at the scalar that holds the tag"
    holders = tag_holders(text, near=found.path, document=found.document, source=file)
    if holders:
        hint = f"did you mean key {holders[0].path} (line {holders[0].line})?"
    return (
        f"{file}:{found.line}: {who}: key {found.path} holds {shown(found.value or '')}, "
        f"which is not a tag ({reason}): {hint}"
    )


def shown(value: str, limit: int = 80) -> str:
    """Return `value` double-quoted for a message: control characters escaped, long values cut."""
    text = "".join(c if c.isprintable() else ascii(c)[1:-1] for c in value)
    return '"' + (text if len(text) <= limit else text[: limit - 1] + "…") + '"'
