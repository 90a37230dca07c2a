"""Read YAML text into a light node tree that keeps every position the editor needs.

Built from ruamel.yaml's parser events (the same events and marks its composer uses) rather than from
composed nodes, because the composer folds an alias into the node it names and loses where the alias
was written; refusing to edit an aliased value must name those lines. The C parser (ruamel.yaml.clib)
is used when installed: it is an order of magnitude faster than the pure-Python one.
"""

from __future__ import annotations

import bisect
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from updater.yamledit.model import Locator, TooDeep, YamlEditError

BOM = "\ufeff"


@dataclass(eq=False)
class Scalar:
    start: int  # character offsets into the full text (BOM included)
    end: int
    value: str
    style: str  # "" plain, "'", '"', "|" or ">"
    tag: str | None
    anchor: str | None
    event: int  # index of this scalar's event in the document stream, for verification


@dataclass(eq=False)
class Alias:
    start: int
    end: int
    anchor: str


@dataclass(eq=False)
class Mapping:
    start: int
    end: int
    anchor: str | None
    flow: bool
    items: list[tuple[Node, Node]] = field(default_factory=list)
    end_event: int = -1  # index of the MappingEndEvent: where --create inserts two scalar events


@dataclass(eq=False)
class Sequence:
    start: int
    end: int
    anchor: str | None
    flow: bool
    items: list[Node] = field(default_factory=list)


Node = Scalar | Alias | Mapping | Sequence


@dataclass(eq=False)
class Document:
    index: int
    root: Node
    anchors: dict[str, Node]  # anchor name -> the node that defines it (last definition wins, as in YAML)
    aliases: list[Alias]


def has_c_parser() -> bool:
    """True when ruamel.yaml's C parser is installed."""
    from ruamel.yaml import main

    return getattr(main, "CParser", None) is not None


def parse_events(body: str, *, parser: str) -> list[Any]:
    """Return the parser events of `body` (BOM removed); parser is "c", "1.2" or "1.1" (pure Python).

    ruamel's pure-Python scanner refuses a tab used as separation (`tag:\tv1`, `tag: v1\t# c`), which
    YAML allows and libyaml reads. When it refuses one, it reads the text again with such tabs turned
    into spaces: the same length, so every mark stays right, and the same data under the spec.
    """
    from ruamel.yaml import YAML
    from ruamel.yaml.scanner import ScannerError

    yaml = YAML(typ="safe", pure=parser != "c")
    if parser == "1.1":
        yaml.version = (1, 1)
    try:
        return list(yaml.parse(body))
    except ScannerError as exc:
        if parser == "c" or "'\\t'" not in str(exc.problem):
            raise
        untabbed = SEPARATION_TAB.sub(lambda m: m.group().replace("\t", " "), body)
        if untabbed == body:
            raise
        try:
            return list(yaml.parse(untabbed))
        except ScannerError:
            raise exc from None


# Blanks holding a tab after a key's ':' (`tag:\tv1`) or before a comment or the line end (`v1\t# c`),
# on a line with text before them: separation, never indentation.
SEPARATION_TAB = re.compile(r"(?<=\S:)[ \t]*\t[ \t]*|(?<=\S)[ \t]*\t[ \t]*(?=#|\r?\n|\r|$)", re.MULTILINE)


class Lines:
    """Map character offsets to 1-based line numbers (only "\\n" ends a line, as editors count)."""

    def __init__(self, text: str) -> None:
        self.starts = [0]
        pos = text.find("\n")
        while pos >= 0:
            self.starts.append(pos + 1)
            pos = text.find("\n", pos + 1)

    def line(self, offset: int) -> int:
        return bisect.bisect_right(self.starts, offset)

    def start(self, line: int) -> int:
        return self.starts[line - 1]


def read(text: str, source: str, lines: Lines) -> tuple[list[Document], list[Any], str]:
    """Parse `text` into documents; also return the events and the parser name, for verification."""
    from ruamel.yaml.error import MarkedYAMLError, YAMLError

    parser = "c" if has_c_parser() else "1.2"
    offset = len(BOM) if text.startswith(BOM) else 0
    try:
        events = parse_events(text[offset:], parser=parser)
    except MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = lines.line(mark.index + offset) if mark is not None else 1
        problem = " ".join(str(exc.problem or exc.context or "syntax error").split())
        if parser != "c" and "'\\t'" in problem:  # libyaml may read it: say whose limit this is
            raise YamlEditError(
                f"{source}:{line}: ruamel.yaml's pure-Python reader cannot read a tab here ({problem}), "
                "which YAML may allow: install ruamel.yaml.clib, or write the line without the tab"
            ) from None
        raise YamlEditError(f"{source}:{line}: invalid YAML: {problem}; fix the file first") from None
    except YAMLError as exc:
        problem = " ".join(str(exc).split())
        raise YamlEditError(f"{source}:1: invalid YAML: {problem}; fix the file first") from None
    _check_depth(events, source, lines, offset)
    return list(_compose(events, offset)), events, parser


# Real values files nest a dozen levels; the readers here recurse per level, and Python's stack does not
# reach far past a few hundred: deeper is refused with the line where it starts, before any recursion.
MAX_DEPTH = 100


def _check_depth(events: list[Any], source: str, lines: Lines, offset: int) -> None:
    depth = 0
    for event in events:
        name = type(event).__name__
        if name in ("MappingStartEvent", "SequenceStartEvent"):
            depth += 1
            if depth > MAX_DEPTH:
                line = lines.line(event.start_mark.index + offset)
                raise TooDeep(
                    f"{source}:{line}: nested more than {MAX_DEPTH} levels deep; "
                    "values files this deep are not supported"
                )
        elif name in ("MappingEndEvent", "SequenceEndEvent"):
            depth -= 1


def _compose(events: list[Any], offset: int) -> Iterator[Document]:
    it = iter(enumerate(events))
    index = 0
    for _, event in it:
        if type(event).__name__ == "DocumentStartEvent":
            anchors: dict[str, Node] = {}
            aliases: list[Alias] = []
            root = _node(it, next(it), offset, anchors, aliases)
            yield Document(index, root, anchors, aliases)
            index += 1


def _node(
    it: Iterator[tuple[int, Any]],
    current: tuple[int, Any],
    offset: int,
    anchors: dict[str, Node],
    aliases: list[Alias],
) -> Node:
    """Build one node from `current` and the events that follow it (recursive descent)."""
    number, event = current
    kind = type(event).__name__
    start = event.start_mark.index + offset
    node: Node
    if kind == "AliasEvent":
        node = Alias(start, event.end_mark.index + offset, event.anchor)
        aliases.append(node)
        return node
    if kind == "ScalarEvent":
        node = Scalar(
            start,
            event.end_mark.index + offset,
            event.value,
            event.style or "",
            event.tag,
            event.anchor,
            number,
        )
    elif kind == "MappingStartEvent":
        node = Mapping(start, start, event.anchor, bool(event.flow_style))
        for key_event in _children(it, "MappingEndEvent", node, offset):
            key = _node(it, key_event, offset, anchors, aliases)
            node.items.append((key, _node(it, next(it), offset, anchors, aliases)))
    else:
        node = Sequence(start, start, event.anchor, bool(event.flow_style))
        for item_event in _children(it, "SequenceEndEvent", node, offset):
            node.items.append(_node(it, item_event, offset, anchors, aliases))
    if event.anchor is not None:
        anchors[event.anchor] = node
    return node


def _children(
    it: Iterator[tuple[int, Any]], end_kind: str, node: Mapping | Sequence, offset: int
) -> Iterable[tuple[int, Any]]:
    for number, event in it:
        if type(event).__name__ == end_kind:
            node.end = event.end_mark.index + offset
            if isinstance(node, Mapping):
                node.end_event = number
            return
        yield number, event


def event_key(event: Any) -> tuple[Any, ...]:
    """Return what an event contributes to the loaded data (no positions, no quote style).

    Two streams with equal keys load to equal data under any resolver: a scalar's type depends only
    on its tag, whether it was plain, and its value.
    """
    kind = type(event).__name__
    if kind == "ScalarEvent":
        tag = None if event.tag in (None, "!") else event.tag
        return (kind, event.anchor, tag, not event.style, event.value)
    if kind in ("MappingStartEvent", "SequenceStartEvent"):
        return (kind, event.anchor, None if event.tag in (None, "!") else event.tag)
    if kind == "AliasEvent":
        return (kind, event.anchor)
    return (kind,)


class Context:
    """What every locator needs: the file's name, documents and line numbers."""

    def __init__(self, source: str, text: str, docs: list[Document], lines: Lines) -> None:
        self.source, self.text, self.docs, self.lines = source, text, docs, lines

    def error(self, offset: int | None, message: str) -> YamlEditError:
        where = f"{self.source}:{self.lines.line(offset)}" if offset is not None else self.source
        return YamlEditError(f"{where}: {message}")

    def documents(self, locator: Locator) -> list[Document]:
        if locator.document is None:
            return self.docs
        if not 0 <= locator.document < len(self.docs):
            raise self.error(
                None, f"--document {locator.document} does not exist: the file has {len(self.docs)}"
            )
        return [self.docs[locator.document]]
