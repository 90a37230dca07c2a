"""Where else an edited scalar is read: paths that reach it through an alias of a block around it.

Charts share an image block on purpose (`image: &img {...}` then `sidecar: {image: *img}` or
`<<: *defaults`), so an edit inside such a block is allowed and changes every use; these paths let the
report list every key whose loaded value changes, not only the one that was written.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace

from updater.domain.keypath import format_key_path
from updater.yamledit._tree import Alias, Context, Document, Mapping, Node, Scalar, Sequence
from updater.yamledit.model import Change

Path = tuple[str | int, ...]


def shared_changes(ctx: Context, change: Change, event: int | None) -> list[Change]:
    """Return one change per other path that reads the scalar of `event` (the edited one) via an alias."""
    doc = ctx.docs[change.document]
    node = _node_at_event(doc.root, event) if event is not None and doc.aliases else None
    if node is None:
        return []
    return [
        replace(
            change, path=format_key_path(list(path)), line=ctx.lines.line(offset), shared_with=change.path
        )
        for path, offset in shared_paths(doc, node)
        if format_key_path(list(path)) != change.path  # edited through that alias (--allow-aliases)
    ]


def _node_at_event(node: Node, event: int) -> Scalar | None:
    if isinstance(node, Scalar):
        return node if node.event == event else None
    children = (
        [v for _, v in node.items]
        if isinstance(node, Mapping)
        else node.items
        if isinstance(node, Sequence)
        else []
    )
    for child in children:
        found = _node_at_event(child, event)
        if found is not None:
            return found
    return None


def shared_paths(doc: Document, target: Scalar) -> list[tuple[Path, int]]:
    """Return (path, alias offset) for every place an alias makes `target` appear, in file order.

    One level: an alias of the scalar itself or of a block around it (a chain of aliases of aliases
    is not followed), and a merge `<<: [*a, *b]` counts every source a key is not overridden in.
    """
    found: list[tuple[Path, int]] = []
    uses = list(_aliases(doc.root, ()))
    for name, block in doc.anchors.items():
        inner = _find(block, target, ())
        if inner is None:
            continue
        for alias, path, owner in uses:
            if alias.anchor != name:
                continue
            if owner is None:
                found.append(((*path, *inner), alias.start))
            elif not (inner and isinstance(inner[0], str) and _has_key(owner, inner[0])):
                found.append(((*path, *inner), alias.start))  # merged: unless the mapping overrides it
    return sorted(found, key=lambda item: item[1])


def _aliases(node: Node, path: Path) -> Iterator[tuple[Alias, Path, Mapping | None]]:
    """Yield every alias with the path it stands at; for `<<: *x` the path and owner of the merge."""
    if isinstance(node, Mapping):
        for key, value in node.items:
            merge = isinstance(key, Scalar) and key.value == "<<" and not key.style
            values = value.items if merge and isinstance(value, Sequence) else [value]
            for item in values:
                if merge and isinstance(item, Alias):
                    yield item, path, node
            if merge:
                continue
            segment = key.value if isinstance(key, Scalar) else "?"
            if isinstance(value, Alias):
                yield value, (*path, segment), None
            else:
                yield from _aliases(value, (*path, segment))
    elif isinstance(node, Sequence):
        for index, value in enumerate(node.items):
            if isinstance(value, Alias):
                yield value, (*path, index), None
            else:
                yield from _aliases(value, (*path, index))


def _find(node: Node, target: Scalar, path: Path) -> Path | None:
    """Return the path of `target` inside `node` (aliases not followed), or None."""
    if node is target:
        return path
    if isinstance(node, Mapping):
        for key, value in node.items:
            segment = key.value if isinstance(key, Scalar) else "?"
            found = _find(value, target, (*path, segment))
            if found is not None:
                return found
    elif isinstance(node, Sequence):
        for index, value in enumerate(node.items):
            found = _find(value, target, (*path, index))
            if found is not None:
                return found
    return None


def _has_key(mapping: Mapping, key: str) -> bool:
    return any(isinstance(k, Scalar) and k.value == key and k.value != "<<" for k, _ in mapping.items)
