"""Generate YAML text whose every scalar position is known, to test the editor against an oracle.

`render` writes a tree of values the way people write values files (block or flow collections,
indented or flush sequences, three quote styles, comments, blank lines, CRLF, BOM) and records the
exact character span of every scalar, so a test can check an edit touched nothing else. `load` is
the oracle's reader.
"""

from __future__ import annotations

import json
import warnings
from dataclasses import dataclass, field, replace
from typing import Any

Path = tuple[str | int, ...]


@dataclass(frozen=True)
class Scalar:
    """A scalar; `style` is "" plain (only for values that are safe plain), "'", '"', "|" or ">"
    (block scalars, never targets: no span), or "\n": plain over several lines in block context
    (words that are safe plain, one per line; written on one line inside flow collections)."""

    value: str
    style: str = ""
    tagged: bool = False  # written `!!str VALUE`
    anchor: str | None = None


@dataclass(frozen=True)
class Map:
    items: tuple[tuple[str, Node], ...]
    flow: bool = False
    anchor: str | None = None
    key_style: str = ""  # "", "'" or '"': how this mapping's keys are written


@dataclass(frozen=True)
class Seq:
    items: tuple[Node, ...]
    flow: bool = False
    anchor: str | None = None


@dataclass(frozen=True)
class Alias:
    anchor: str


Node = Scalar | Map | Seq | Alias


@dataclass(frozen=True)
class Layout:
    indent: int = 2
    indent_sequences: bool = True
    newline: str = "\n"
    bom: bool = False
    final_newline: bool = True
    comment_every: int = 0  # a trailing comment on every Nth scalar line (0: none)
    blank_every: int = 0  # a blank line and a comment line before every Nth entry (0: none)


@dataclass
class Rendered:
    text: str
    spans: dict[Path, tuple[int, int]] = field(default_factory=dict)  # scalar path -> [start, end)


def scalar_text(node: Scalar) -> str:
    """Return the scalar as written in its style (a block scalar inside flow: double-quoted)."""
    if node.style == "'":
        return "'" + node.value.replace("'", "''") + "'"
    if node.style in ('"', "|", ">"):
        return json.dumps(node.value, ensure_ascii=False)
    return node.value


def properties(node: Node) -> str:
    """Return the `&anchor` and `!!str` written before a node, each followed by a space."""
    tagged = isinstance(node, Scalar) and node.tagged
    anchor = None if isinstance(node, Alias) else node.anchor
    return (f"&{anchor} " if anchor else "") + ("!!str " if tagged else "")


def key_text(key: str, style: str) -> str:
    return scalar_text(Scalar(key, style))


def node_at(root: Node, path: Path) -> Node:
    """Return the node at `path` (aliases are not followed: paths never go through them)."""
    node = root
    for segment in path:
        if isinstance(node, Map):
            node = dict(node.items)[str(segment)]
        else:
            assert isinstance(node, Seq) and isinstance(segment, int)
            node = node.items[segment]
    return node


def render(root: Map, layout: Layout) -> Rendered:
    """Return the YAML text of `root` and the span of every scalar in it."""
    out = Rendered("\ufeff" if layout.bom else "")
    counter = [0]

    def emit(text: str) -> None:
        out.text += text

    def newline(with_comment: bool = True) -> None:
        counter[0] += 1
        if with_comment and layout.comment_every and counter[0] % layout.comment_every == 0:
            emit(f"  # note {counter[0]}\t✓")
        emit(layout.newline)

    def flow(node: Node, path: Path) -> None:
        if isinstance(node, Alias):
            emit(f"*{node.anchor}")
            return
        emit(properties(node))
        if isinstance(node, Scalar):
            start = len(out.text)
            if node.style == "\n":
                emit(node.value)
            else:
                emit(scalar_text(node) or "''" if path and isinstance(path[-1], int) else scalar_text(node))
            if node.style not in ("|", ">"):
                out.spans.setdefault(path, (start, len(out.text)))
        elif isinstance(node, Map):
            emit("{")
            for i, (key, value) in enumerate(node.items):
                emit(", " if i else "")
                emit(f"{key_text(key, node.key_style)}:")
                if isinstance(value, Scalar) and value.value == "" and not value.style:
                    out.spans[(*path, key)] = (len(out.text), len(out.text))  # `{key: }`
                emit(" ")
                flow(value, (*path, key))
            emit("}")
        else:
            emit("[")
            for i, value in enumerate(node.items):
                emit(", " if i else "")
                flow(value, (*path, i))
            emit("]")

    def entry_gap(depth: int) -> None:
        counter[0] += 1
        if layout.blank_every and counter[0] % layout.blank_every == 0:
            emit(layout.newline + " " * depth + "# a comment line" + layout.newline)

    def block_value(node: Node, path: Path, depth: int) -> None:
        """Write the value after `key:` or `- `: inline for scalars and flow, else on the next lines."""
        if isinstance(node, Alias):
            emit(f" *{node.anchor}")
            newline()
        elif isinstance(node, Scalar):
            if node.value == "" and not node.style and not node.tagged and not node.anchor:
                out.spans[path] = (len(out.text), len(out.text))  # `key:` with nothing after it
                newline()
                return
            inner = " " * (depth + layout.indent)
            emit(" " + properties(node))
            if node.style in ("|", ">"):  # a block scalar: one line per line (|) or per word (>)
                parts = node.value.rstrip("\n").split("\n" if node.style == "|" else " ")
                emit(node.style)
                newline(with_comment=False)
                emit("".join(inner + part + layout.newline for part in parts))
                return
            if node.style == "\n":  # plain over several lines; a comment would end it
                start = len(out.text)
                emit((layout.newline + inner).join(node.value.split(" ")))
                out.spans[path] = (start, len(out.text))
            else:
                flow(replace(node, anchor=None, tagged=False), path)
            newline()
        elif node.flow or not node.items:
            emit(" ")
            flow(node if node.items else replace(node, flow=True), path)
            newline()
        else:
            emit(" " + properties(node) if node.anchor else "")
            newline(with_comment=False)
            inner = depth + layout.indent
            if isinstance(node, Seq) and not layout.indent_sequences:
                inner = depth
            block(node, path, inner)

    def block(node: Map | Seq, path: Path, depth: int) -> None:
        if isinstance(node, Map):
            for key, value in node.items:
                entry_gap(depth)
                emit(" " * depth + f"{key_text(key, node.key_style)}:")
                block_value(value, (*path, key), depth)
        else:
            for i, value in enumerate(node.items):
                entry_gap(depth)
                emit(" " * depth + "-")
                if isinstance(value, Map) and value.items and not value.flow and not value.anchor:
                    # "- key: v" with the rest of the mapping aligned under the first key
                    first, *rest = value.items
                    emit(" " + key_text(first[0], value.key_style) + ":")
                    block_value(first[1], (*path, i, first[0]), depth + 2)
                    for key, item in rest:
                        emit(" " * (depth + 2) + f"{key_text(key, value.key_style)}:")
                        block_value(item, (*path, i, key), depth + 2)
                elif isinstance(value, Scalar) and value.value == "" and not value.style and not value.anchor:
                    emit(" ''")  # an empty plain item would be null; keep sequences simple
                    out.spans[(*path, i)] = (len(out.text) - 2, len(out.text))
                    newline()
                else:
                    block_value(value, (*path, i), depth + 2)

    block(root, (), 0)
    if not layout.final_newline and out.text.endswith(layout.newline):
        out.text = out.text[: -len(layout.newline)]
    return out


def load(text: str, version: tuple[int, int]) -> list[Any]:
    """Load every document of `text` as plain data under YAML `version`, for comparing before/after.

    YAML 1.2 is read by ruamel's pure-Python parser; YAML 1.1 by libyaml (ruamel.yaml.clib, itself a
    YAML 1.1 parser, and much faster) when installed, else by the pure-Python parser in 1.1 mode.
    Both resolve scalars with ruamel's resolver for that version.
    """
    from ruamel.yaml import YAML

    yaml = YAML(typ="safe", pure=version != (1, 1))
    yaml.version = version
    yaml.allow_duplicate_keys = True
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # ruamel warns about YAML 1.1 floats without a dot
        return list(yaml.load_all(text))
