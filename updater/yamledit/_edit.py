"""set_value and get_values: locate, splice the new bytes into the original text, verify by re-reading."""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cache
from typing import Any, NamedTuple

from updater.domain.keypath import format_key_path
from updater.yamledit._locate import Target, locate
from updater.yamledit._refs import split_reference
from updater.yamledit._scalar import DIGEST, TAG_AT_DIGEST, plain_reads_as_string, render, validate_value
from updater.yamledit._shared import shared_changes
from updater.yamledit._tree import (
    BOM,
    Context,
    Lines,
    Mapping,
    Node,
    Scalar,
    Sequence,
    event_key,
    parse_events,
    read,
)
from updater.yamledit.model import Change, Found, Locator

_NULLS = frozenset(("", "~", "null", "Null", "NULL"))
_STR_TAGS = (None, "!", "tag:yaml.org,2002:str")


@dataclass(frozen=True)
class _Edit:
    start: int
    end: int
    text: str
    change: Change
    event: int  # event index of the edited scalar, or of the MappingEndEvent before which a key is added
    value: str  # what the scalar must read back as
    created: str | None = None  # the key, when --create adds one


def set_value(
    text: str,
    locator: Locator,
    value: str,
    *,
    source: str = "<text>",
    create: bool = False,
    allow_aliases: bool = False,
    digest_anywhere: bool = True,
) -> tuple[str, list[Change]]:
    """Return the text with the located scalar(s) set to `value`, and what changed.

    Only the bytes of each target scalar change; the result is re-read with two YAML parsers (YAML 1.1
    and 1.2) and must load to the original data except the targets, which read back as `value`.

    An image reference `REPO:TAG@sha256:...` found by --image or a marker keeps its digest only when a
    new one is given (`TAG@sha256:...`). A bare new tag is refused there, as it is for a `tag:` whose
    `digest:` sibling is set: dropping the digest would silently unpin the image, and keeping it would
    deploy the old image under the new tag's name.

    With `digest_anywhere` False (`updater set`), a `sha256:` digest or `TAG@sha256:` reference is
    taken only where the place holds one: an image reference, a tag with a `digest:` sibling or found
    by --image, a `digest:` key, or a value that already is a digest (or TAG@digest). A config that
    records the digest inline (bump) says so itself and keeps the default.
    """
    validate_value(value, allow_digest=True)
    lines = Lines(text)
    docs, events, parser = read(text, source, lines)
    ctx = Context(source, text, docs, lines)
    targets = locate(ctx, locator, create=create, allow_aliases=allow_aliases)
    edits: list[_Edit] = []
    seen: set[int] = set()
    for target in targets:
        if target.node is not None and id(target.node) in seen:
            continue
        if target.node is not None:
            seen.add(id(target.node))
        if not allow_aliases:
            _refuse_aliased(ctx, target)
        if not digest_anywhere and (DIGEST.fullmatch(value) or TAG_AT_DIGEST.fullmatch(value)):
            _refuse_misplaced_digest(ctx, target, locator, value)
        edits.extend(_plan(ctx, target, value))
    new_text = text
    for edit in sorted(edits, key=lambda e: e.start, reverse=True):
        if edit.change.changed:
            new_text = new_text[: edit.start] + edit.text + new_text[edit.end :]
    live = [e for e in edits if e.change.changed]
    if live:
        _verify(ctx, new_text, events, parser, live)
    return new_text, [
        change
        for edit in edits
        for change in [
            edit.change,
            *shared_changes(ctx, edit.change, edit.event if edit.created is None else None),
        ]
    ]


def get_values(text: str, locator: Locator, *, source: str = "<text>") -> list[Found]:
    """Return every value `locator` points at (an image reference gives its TAG[@DIGEST] part)."""
    lines = Lines(text)
    docs, _, _ = read(text, source, lines)
    ctx = Context(source, text, docs, lines)
    found: list[Found] = []
    for target in locate(ctx, locator, create=False, allow_aliases=True):
        node = target.node
        assert node is not None
        old = _old_value(node)
        if target.reference and old is not None:
            old = _reference_tag(old)
        line = lines.line(_value_span(ctx, target, node)[0])
        found.append(Found(_path(target), target.document, line, old))
    return found


def _old_value(node: Scalar) -> str | None:
    return None if not node.style and node.tag is None and node.value in _NULLS else node.value


def _reference_tag(reference: str) -> str | None:
    parts = split_reference(reference, bare=True)
    assert parts is not None
    _, tag, digest = parts
    return "@".join(x for x in (tag, digest) if x) or None


def _refuse_aliased(ctx: Context, target: Target) -> None:
    """Refuse a target scalar that is anchored and aliased elsewhere: the edit would change every use.

    A containing block that is anchored and reused (`image: *image`, `<<: *defaults`) is how charts
    share an image on purpose, so editing inside it is allowed; the change reaches every use.
    """
    doc = ctx.docs[target.document]
    anchors = {target.node.anchor} if target.node is not None and target.node.anchor is not None else set()
    uses = sorted({ctx.lines.line(a.start) for a in doc.aliases if a.anchor in anchors})
    if uses:
        node = target.node or target.parent
        assert node is not None
        names = ", ".join(f"&{a}" for a in sorted(anchors))
        raise ctx.error(
            node.start,
            f"{format_key_path(list(target.path))} is shared through {names}, used as an alias at "
            f"line{'s' if len(uses) > 1 else ''} {', '.join(map(str, uses))}: "
            "edit a copy, or pass --allow-aliases to change every use",
        )


def _refuse_misplaced_digest(ctx: Context, target: Target, locator: Locator, value: str) -> None:
    """Refuse a digest (or TAG@digest) for a place that holds a plain tag: it would not deploy."""
    bare = DIGEST.fullmatch(value) is not None
    old = _old_value(target.node) if target.node is not None else None
    if target.reference or target.digest is not None:
        return
    if bare and (target.path[-1:] == ("digest",) or (old is not None and DIGEST.fullmatch(old))):
        return
    if not bare and (locator.image is not None or (old is not None and TAG_AT_DIGEST.fullmatch(old))):
        return
    node = target.node or target.parent
    raise ctx.error(
        node.start if node is not None else None,
        f"{_path(target)} holds "
        + (f"{old!r}" if old is not None else "no value")
        + f", not {'a digest' if bare else 'an image reference'}: {value} fits only an image reference "
        "(--image, --marker), a digest: key or a value that already holds one; give a tag",
    )


def _plan(ctx: Context, target: Target, value: str) -> list[_Edit]:
    """Return the splices for one target (two when a `digest:` sibling receives the digest)."""
    node = target.node
    if node is None:
        return [_create(ctx, target, value)]
    if target.reference:
        return [_splice(ctx, target, _new_reference(ctx, target, node, value), reported=value)]
    sibling = target.digest
    if sibling is None:
        return [_splice(ctx, target, value)]
    pinned = TAG_AT_DIGEST.fullmatch(value)
    if pinned:
        return [_splice(ctx, target, pinned.group("tag")), _splice(ctx, sibling, pinned.group("digest"))]
    if DIGEST.fullmatch(value):
        return [_splice(ctx, sibling, value)]
    if sibling.node is not None and _old_value(sibling.node):
        raise ctx.error(
            sibling.node.start,
            f"{_path(target)} has a digest set next to it: "
            "give TAG@sha256:DIGEST so the digest is updated too",
        )
    return [_splice(ctx, target, value)]


def _path(target: Target) -> str:
    return format_key_path(list(target.path))


def _new_reference(ctx: Context, target: Target, node: Scalar, value: str) -> str:
    """Return the new REPO:TAG[@DIGEST] string for an image reference; refuse to unpin a digest."""
    parts = split_reference(node.value, bare=True)
    assert parts is not None
    repo, _, old_digest = parts
    if DIGEST.fullmatch(value):
        return f"{repo}@{value}"
    if old_digest and "@" not in value:
        raise ctx.error(
            node.start,
            f"{_path(target)} pins a digest ({node.value}): "
            "give TAG@sha256:DIGEST so the digest matches the new tag",
        )
    return f"{repo}:{value}"


def _splice(ctx: Context, target: Target, scalar: str, *, reported: str | None = None) -> _Edit:
    """Return the splice that rewrites the target scalar as `scalar` in its own quote style.

    `reported` is the Change's new value when it differs from the scalar (an image reference
    reports the tag it was given); its old value is then the reference's TAG[@DIGEST].
    """
    node = target.node
    assert node is not None
    path = _path(target)
    if node.style in ("|", ">"):
        raise ctx.error(
            node.start, f"{path} is a block scalar ({node.style}): write it as a plain value first"
        )
    if node.tag not in _STR_TAGS:
        raise ctx.error(
            node.start, f"{path} has the tag {node.tag}: only untagged or !!str values can be set"
        )
    old = _old_value(node)
    if target.reference and old is not None:
        old = _reference_tag(old)
    start, end = _value_span(ctx, target, node)
    rendered = render(scalar, node.style, flow=target.in_flow)
    if start == end and not node.style:  # an empty value: the text goes after its ':' or properties
        rendered = " " + rendered
    retyped = not node.style and node.value == scalar and not plain_reads_as_string(scalar)
    new = scalar if reported is None else reported
    change = Change(path, target.document, ctx.lines.line(start), old, new, retyped)
    return _Edit(start, end, rendered, change, node.event, scalar)


def _value_span(ctx: Context, target: Target, node: Scalar) -> tuple[int, int]:
    """Return where the scalar's own text is, after its properties; an empty value's is after ':'."""
    start = _after_properties(ctx.text, node)
    if start == node.end and not node.style and node.anchor is None and node.tag is None:
        start = _after_colon(ctx, target, node)
        return start, start
    return start, node.end


def _after_properties(text: str, node: Scalar) -> int:
    """Return where the scalar's own text starts, after any `&anchor` and `!tag` in front of it."""
    pos = node.start
    while pos < node.end and text[pos] in "&!":
        while pos < node.end and text[pos] not in " \t\r\n":
            pos += 1
        while pos < node.end and text[pos] in " \t\r\n":
            pos += 1
    return pos


def _after_colon(ctx: Context, target: Target, node: Scalar) -> int:
    """Return the offset just after the ':' of an empty value (`tag:`), where the value goes."""
    if target.key is not None:
        pos = target.key.end
        while ctx.text[pos : pos + 1] in (" ", "\t"):
            pos += 1
        if ctx.text[pos : pos + 1] == ":":
            return pos + 1
    raise ctx.error(
        node.start, f"{_path(target)} is an empty value this editor cannot fill in: write a value first"
    )


def _create(ctx: Context, target: Target, value: str) -> _Edit:
    """Return the insertion of `KEY: VALUE` after the parent mapping's last entry, at its indentation."""
    path = _path(target)
    parent = target.parent
    assert isinstance(parent, Mapping)
    key = target.path[-1]
    assert isinstance(key, str)
    text = ctx.text
    if not parent.items:
        raise ctx.error(parent.start, f"{path}: the parent mapping is empty, so its indentation is unknown")
    first = parent.items[0][0]
    column = first.start - ctx.lines.start(ctx.lines.line(first.start))
    indent = text[first.start - column : first.start]
    if indent.strip(" ") and indent != BOM:
        raise ctx.error(first.start, f"{path}: keys here do not start their own line; add the key by hand")
    indent = " " * len(indent.replace(BOM, ""))
    end = _last_end(parent)
    newline = "\r\n" if "\r\n" in text else "\n"
    written_key = (
        key
        if plain_reads_as_string(key) and key.replace("-", "").replace("_", "").isalnum()
        else json.dumps(key)
    )
    entry = f"{indent}{written_key}: {render(value, '', flow=False)}"
    if end > 0 and text[end - 1] == "\n":
        pos, insert = end, entry + newline
    else:
        eol = text.find("\n", end)
        pos, insert = (eol + 1, entry + newline) if eol >= 0 else (len(text), newline + entry)
    line = ctx.lines.line(pos) + (0 if insert.startswith(entry) else 1)
    return _Edit(
        pos, pos, insert, Change(path, target.document, line, None, value), parent.end_event, value, key
    )


def _last_end(node: Node) -> int:
    """Return where the last scalar inside a block collection ends (its end mark may lie further on)."""
    if isinstance(node, Mapping) and node.items and not node.flow:
        return _last_end(node.items[-1][1])
    if isinstance(node, Sequence) and node.items and not node.flow:
        return _last_end(node.items[-1])
    return node.end


# ---- verification ----------------------------------------------------------------------------------


def _verify(ctx: Context, new_text: str, before: list[Any], parser: str, edits: list[_Edit]) -> None:
    """Re-read `new_text` as YAML 1.1 and 1.2 and compare with the original events; raise on any doubt.

    With the C parser (libyaml, a YAML 1.1 parser) the second reading is ruamel's pure-Python YAML 1.2
    parser; without it, ruamel's pure-Python parser reads the text once as 1.2 and once as 1.1.
    """
    base = [event_key(e) for e in before]
    expected: list[tuple[Any, ...] | _Target] = list(base)
    for edit in sorted(edits, key=lambda e: e.event, reverse=True):
        if edit.created is None:
            expected[edit.event] = _Target(base[edit.event], edit.value)
        else:
            created = ("ScalarEvent", None, None)
            expected[edit.event : edit.event] = [_Target(created, edit.created), _Target(created, edit.value)]
    for reading in (parser, "1.2" if parser == "c" else "1.1"):
        problem = _compare(new_text.removeprefix(BOM), reading, expected)
        if problem is None:
            continue
        edit = edits[0]
        as_is = _compare(ctx.text.removeprefix(BOM), reading, list(base))
        if as_is is not None:  # the second reader disagrees with the first on the untouched file
            raise ctx.error(
                edit.start,
                f"{as_is.replace('the result', 'this file')}, which YAML {_reading_name(parser)} reads: "
                "a limitation of one reader, not necessarily invalid YAML; every edit is verified with "
                "both, so nothing was written: write that line another way",
            )
        raise ctx.error(
            edit.start,
            f"the edit of {edit.change.path} did not verify ({problem}); nothing was written. "
            "Please report this file",
        )


class _Target(NamedTuple):
    """An event that must be a scalar with the old event's anchor and tag, reading as `value`."""

    before: tuple[Any, ...]
    value: str


def _compare(body: str, reading: str, expected: list[tuple[Any, ...] | _Target]) -> str | None:
    """Return why `body` does not load to `expected` under `reading`, or None when it does."""
    from ruamel.yaml.error import YAMLError

    try:
        events = parse_events(body, parser=reading)
    except YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}" if mark is not None else ""
        problem = " ".join(str(getattr(exc, "problem", None) or exc).split())
        return f"YAML {_reading_name(reading)} cannot read the result: {problem}{where}"
    if len(events) != len(expected):
        return f"YAML {_reading_name(reading)} reads a different structure"
    for event, want in zip(events, expected, strict=True):
        got = event_key(event)
        if isinstance(want, _Target):
            if got[:3] != want.before[:3]:
                return f"YAML {_reading_name(reading)} reads the target with another anchor or tag"
            if got[4] != want.value:
                return f"YAML {_reading_name(reading)} reads {got[-1]!r}, not {want.value!r}"
            plain = got[3] and got[2] is None
            if plain and not (plain_reads_as_string(want.value) and _resolves_to_str(want.value)):
                return f"{want.value!r} would not read as a string"
        elif got != want:
            return f"YAML {_reading_name(reading)} reads other data than before"
    return None


def _reading_name(reading: str) -> str:
    return "1.1 (libyaml)" if reading == "c" else f"{reading} (ruamel.yaml)"


@cache
def _resolves_to_str(value: str) -> bool:
    """True when ruamel's YAML 1.1 and 1.2 resolvers both type plain `value` as a string."""
    from ruamel.yaml.nodes import ScalarNode
    from ruamel.yaml.resolver import VersionedResolver

    for version in ((1, 1), (1, 2)):
        resolver = VersionedResolver(version=version)
        if resolver.resolve(ScalarNode, value, (True, False)) != "tag:yaml.org,2002:str":
            return False
    return True
