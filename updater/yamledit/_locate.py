"""Find the scalars a Locator points at: by key path, by image repository, or by marker comment."""

from __future__ import annotations

import difflib
from collections.abc import Iterator
from dataclasses import dataclass

from updater.domain import imageref
from updater.domain.keypath import format_key_path, parse_key_path
from updater.infra.errors import InputError
from updater.yamledit._refs import MARKER, same_repository, split_reference
from updater.yamledit._tree import Alias, Context, Document, Mapping, Node, Scalar, Sequence
from updater.yamledit.model import Locator, YamlEditError

Path = tuple[str | int, ...]


@dataclass(frozen=True)
class Target:
    """One place to write: an existing scalar, or (node None) a key to create in `parent`."""

    document: int
    path: Path
    node: Scalar | None
    key: Node | None  # the mapping key of `node`, where an empty value is filled in after its ':'
    parent: Mapping | Sequence | None
    in_flow: bool
    reference: bool = False  # the scalar is a whole image reference REPO:TAG[@DIGEST]; only TAG changes
    digest: Target | None = None  # the `digest:` sibling of a `tag:` found by image


def locate(ctx: Context, locator: Locator, *, create: bool, allow_aliases: bool) -> list[Target]:
    """Return every target of `locator` (never empty: a miss is an error naming what exists)."""
    given = [x for x in (locator.key, locator.image, locator.marker) if x is not None]
    if len(given) != 1:
        raise YamlEditError("give exactly one of a key path, --image or --marker")
    if not ctx.docs:
        raise ctx.error(None, "holds no YAML document")
    if locator.key is not None:
        return [_by_key(ctx, locator, create=create, allow_aliases=allow_aliases)]
    if locator.image is not None:
        try:
            imageref.parse(locator.image)
        except InputError as exc:
            raise YamlEditError(f"--image: {exc.message}") from None
    targets = _by_image(ctx, locator) if locator.image is not None else _by_marker(ctx, locator)
    if not targets:
        raise ctx.error(None, f"no value found for {locator.describe()}")
    return targets


# ---- key paths -------------------------------------------------------------------------------------


def _by_key(ctx: Context, locator: Locator, *, create: bool, allow_aliases: bool) -> Target:
    assert locator.key is not None
    try:
        segments = tuple(parse_key_path(locator.key))
    except ValueError as exc:
        raise YamlEditError(f"invalid key path {locator.key!r}: {exc}") from None
    found: list[Target] = []
    misses: list[YamlEditError] = []
    for doc in ctx.documents(locator):
        try:
            found.append(_walk(ctx, doc, segments, create=create, allow_aliases=allow_aliases))
        except _Miss as miss:
            misses.append(miss.error)
    if len(found) > 1:
        where = ", ".join(f"{t.document} (line {_line(ctx, t)})" for t in found)
        raise ctx.error(None, f"{locator.key} is in documents {where}: pick one with --document N")
    if found:
        return found[0]
    raise misses[0]


def _line(ctx: Context, target: Target) -> int:
    node = target.node or target.parent
    return ctx.lines.line(node.start) if node is not None else 1


class _Miss(Exception):
    def __init__(self, error: YamlEditError) -> None:
        self.error = error


def _walk(ctx: Context, doc: Document, segments: Path, *, create: bool, allow_aliases: bool) -> Target:
    """Follow `segments` from the document root to a scalar (or to where --create adds it)."""
    node: Node = doc.root
    key: Node | None = None
    parent: Mapping | Sequence | None = None
    for depth, seg in enumerate(segments):
        shown = format_key_path(list(segments[:depth])) or "the document root"
        node = _through_alias(ctx, doc, node, shown, allow_aliases)
        if isinstance(node, Mapping) and isinstance(seg, str):
            parent = node
            entry = _lookup_once(ctx, node, seg, format_key_path(list(segments[: depth + 1])))
            if entry is None:
                _merged(ctx, doc, node, seg, format_key_path(list(segments[: depth + 1])))
                if depth == len(segments) - 1 and create and not node.flow:
                    return Target(doc.index, segments, None, None, node, False)
                raise _Miss(_missing(ctx, node, seg, shown, last=depth == len(segments) - 1))
            key, node = entry
        elif isinstance(node, Sequence) and isinstance(seg, int):
            parent = node
            if seg >= len(node.items):
                raise _Miss(ctx.error(node.start, f"{shown} has {len(node.items)} items, no [{seg}]"))
            key, node = None, node.items[seg]
        else:
            kind = _kind(node)
            want = "a sequence ([N])" if isinstance(seg, int) else f"a mapping (key {seg!r})"
            raise _Miss(ctx.error(node.start, f"{shown} is {kind}, not {want}"))
    shown = format_key_path(list(segments))
    node = _through_alias(ctx, doc, node, shown, allow_aliases)
    if not isinstance(node, Scalar):
        raise ctx.error(
            node.start, f"{shown} is {_kind(node)} where a scalar is expected: give the full key path"
        )
    in_flow = parent is not None and parent.flow
    return Target(doc.index, segments, node, key, parent, in_flow)


def _through_alias(ctx: Context, doc: Document, node: Node, shown: str, allow_aliases: bool) -> Node:
    if not isinstance(node, Alias):
        return node
    target = doc.anchors.get(node.anchor)
    if target is None:  # the parser leaves undefined aliases to the composer, which we do not run
        raise ctx.error(node.start, f"alias *{node.anchor} is not defined")
    if not allow_aliases:
        raise ctx.error(
            node.start,
            f"{shown} is the alias *{node.anchor}, defined at line {ctx.lines.line(target.start)}: "
            "edit it there, or pass --allow-aliases to change every use",
        )
    return target


def _lookup(node: Mapping, seg: str) -> tuple[Node, Node] | None:
    for key, value in node.items:
        if isinstance(key, Scalar) and key.value == seg and key.tag != "tag:yaml.org,2002:merge":
            return key, value
    return None


def _lookup_once(ctx: Context, node: Mapping, seg: str, shown: str) -> tuple[Node, Node] | None:
    """Return the entry for `seg`; refuse a key written twice, as loaders keep the last silently."""
    entries = [
        (key, value)
        for key, value in node.items
        if isinstance(key, Scalar) and key.value == seg and key.tag != "tag:yaml.org,2002:merge"
    ]
    if len(entries) > 1:
        lines = [ctx.lines.line(key.start) for key, _ in entries]
        raise ctx.error(
            entries[-1][0].start,
            f"{shown} is set {len(entries)} times in one mapping (lines {', '.join(map(str, lines))}); "
            "readers take the last or refuse the file: remove the others first",
        )
    return entries[0] if entries else None


def _merged(ctx: Context, doc: Document, node: Mapping, seg: str, shown: str) -> None:
    """Refuse a key that the mapping only inherits through `<<:`, naming where it is defined."""
    for key, value in node.items:
        if not (isinstance(key, Scalar) and key.value == "<<" and not key.style):
            continue
        sources = value.items if isinstance(value, Sequence) else [value]
        for source in sources:
            resolved = doc.anchors.get(source.anchor) if isinstance(source, Alias) else source
            entry = _lookup(resolved, seg) if isinstance(resolved, Mapping) else None
            if entry is not None:
                raise ctx.error(
                    key.start,
                    f"{shown} is inherited through '<<' from line {ctx.lines.line(entry[1].start)}: "
                    "change it there, or add the key here with --create",
                )


def _missing(ctx: Context, node: Mapping, seg: str, shown: str, *, last: bool) -> YamlEditError:
    keys = [k.value for k, _ in node.items if isinstance(k, Scalar)]
    close = difflib.get_close_matches(seg, keys, n=3, cutoff=0.5)
    hint = f"; did you mean {', '.join(close)}?" if close else f"; it has: {', '.join(keys[:8]) or 'no keys'}"
    if last:
        hint += " (or pass --create to add it)" if not node.flow else ""
    return ctx.error(node.start, f"{shown} has no key {seg!r}{hint}")


def _kind(node: Node) -> str:
    if isinstance(node, Mapping):
        return "a mapping"
    if isinstance(node, Sequence):
        return "a sequence"
    if isinstance(node, Alias):
        return "an alias"
    return "a scalar"


# ---- walking the whole tree ------------------------------------------------------------------------


@dataclass(frozen=True)
class _Visit:
    node: Node
    path: Path
    key: Node | None
    parent: Mapping | Sequence | None


def _visit(node: Node, path: Path) -> Iterator[_Visit]:
    """Yield every value node with its path (keys are not visited; aliases are not followed)."""
    if isinstance(node, Mapping):
        for key, value in node.items:
            segment = key.value if isinstance(key, Scalar) else "?"
            yield _Visit(value, (*path, segment), key, node)
            yield from _visit(value, (*path, segment))
    elif isinstance(node, Sequence):
        for index, value in enumerate(node.items):
            yield _Visit(value, (*path, index), None, node)
            yield from _visit(value, (*path, index))


def _target(doc: Document, visit: _Visit, *, reference: bool = False, digest: Target | None = None) -> Target:
    assert isinstance(visit.node, Scalar)
    in_flow = visit.parent is not None and visit.parent.flow
    return Target(
        doc.index,
        visit.path,
        visit.node,
        visit.key,
        visit.parent,
        in_flow,
        reference,
        digest,
    )


# ---- images ----------------------------------------------------------------------------------------


def _scalar_value(mapping: Mapping, key: str) -> str | None:
    entry = _lookup(mapping, key)
    return entry[1].value if entry is not None and isinstance(entry[1], Scalar) else None


def _by_image(ctx: Context, locator: Locator) -> list[Target]:
    assert locator.image is not None
    repo = locator.image
    targets: list[Target] = []
    for doc in ctx.documents(locator):
        for visit in _visit(doc.root, ()):
            node = visit.node
            if isinstance(node, Scalar) and node.style not in ("|", ">"):
                parts = split_reference(node.value)
                if parts and same_repository(parts[0], repo):
                    targets.append(_target(doc, visit, reference=True))
            if not isinstance(node, Mapping):
                continue
            tag_key = _image_mapping_tag_key(node, repo)
            if tag_key is None:
                continue
            entry = _lookup_once(ctx, node, tag_key, format_key_path([*visit.path, tag_key]))
            if entry is not None and isinstance(entry[1], Scalar):
                tag_visit = _Visit(entry[1], (*visit.path, tag_key), entry[0], node)
                digest = _lookup(node, "digest")
                sibling = None
                if digest is not None and isinstance(digest[1], Scalar):
                    sibling = _target(doc, _Visit(digest[1], (*visit.path, "digest"), digest[0], node))
                targets.append(_target(doc, tag_visit, digest=sibling))
    return targets


def _image_mapping_tag_key(node: Mapping, repo: str) -> str | None:
    """Return the key holding the tag when `node` describes `repo` (Helm, Bitnami, kustomize shapes)."""
    repository = _scalar_value(node, "repository")
    registry = _scalar_value(node, "registry")
    if repository and (
        same_repository(repository, repo) or (registry and same_repository(f"{registry}/{repository}", repo))
    ):
        return "tag"
    image = _scalar_value(node, "image")
    if image and same_repository(image, repo):
        return "tag"
    name = _scalar_value(node, "name")
    new_name = _scalar_value(node, "newName")
    if name and (same_repository(name, repo) or (new_name is not None and same_repository(new_name, repo))):
        return "newTag"
    return None


# ---- markers ---------------------------------------------------------------------------------------


def _by_marker(ctx: Context, locator: Locator) -> list[Target]:
    assert locator.marker is not None
    wanted = locator.marker
    marked_lines: dict[int, bool] = {}  # line -> marks a whole image reference (Flux "ns:policy")
    for match in MARKER.finditer(ctx.text):
        name, setter = match.group("name"), match.group("setter")
        if name == wanted or setter in (wanted, f"{wanted}:tag"):
            marked_lines[ctx.lines.line(match.start())] = setter == wanted and wanted.count(":") == 1
    targets: list[Target] = []
    for doc in ctx.documents(locator):
        by_line: dict[int, _Visit] = {}
        for visit in _visit(doc.root, ()):
            if isinstance(visit.node, Scalar):
                line = ctx.lines.line(visit.node.end)
                if line in marked_lines and _comment_follows(ctx.text, visit.node.end):
                    by_line[line] = visit  # the last value on the line is the one the comment marks
        for line, visit in by_line.items():
            # A tag cannot contain "/" or ":", so a marked value with one is an image reference:
            # only its tag changes (or one is added), the repository stays.
            value = visit.node.value if isinstance(visit.node, Scalar) else ""
            whole = marked_lines[line] or "/" in value
            reference = split_reference(value, bare=whole) is not None
            if whole and not reference:
                raise ctx.error(
                    visit.node.start, f"the value marked {wanted} is not an image reference: {value!r}"
                )
            targets.append(_target(doc, visit, reference=reference))
    return targets


def _comment_follows(text: str, offset: int) -> bool:
    """True when only flow punctuation and blanks separate `offset` from a marker comment."""
    end = text.find("\n", offset)
    rest = text[offset : end if end >= 0 else len(text)]
    return bool(MARKER.match(rest.lstrip(" \t,}]")))
