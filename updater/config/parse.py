"""Read `.updater.yaml` into plain data, checked against `schema`, keeping every node's position.

Errors are one line: "FILE:LINE:COL: KEY: what is wrong; what to do". ruamel.yaml is imported here
only, and this module only from inside `updater.config.loader`, so `updater --help` never loads it.
"""

from __future__ import annotations

import difflib
import functools
import math
import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from updater.config.model import ConfigError
from updater.config.schema import ListOf, MapOf, Obj, OneOf, Scalar, Spec
from updater.domain.keypath import format_key_path

if TYPE_CHECKING:  # ruamel.yaml itself is imported when a config is parsed, not with this module
    from ruamel.yaml import YAML
    from ruamel.yaml.nodes import Node, ScalarNode

Path_ = tuple[str | int, ...]  # where a node sits: ("apps", "web", "targets", 0, "key")

_TAG = "tag:yaml.org,2002:"
_KIND_OF_TAG = {"str": "string", "bool": "boolean", "int": "integer", "float": "number", "null": "null"}
_EXPECTED = {
    "string": "a string",
    "boolean": "true or false",
    "integer": "an integer",
    "number": "a number",
    "list": "a list",
    "mapping": "a mapping",
}


@dataclass(frozen=True)
class Mark:
    line: int  # 1-based
    column: int  # 1-based


@dataclass
class Loaded:
    """The checked data, and where each node is: `marks[path]` is its key (or list item) position."""

    file: str
    data: dict[str, Any]
    marks: dict[Path_, Mark] = field(default_factory=dict)
    value_marks: dict[Path_, Mark] = field(default_factory=dict)
    # The entries of each mapping with its `<<` merges applied, by node identity: an anchored mapping
    # merged at ten places is expanded once, not once per place (and so on down every level).
    merged: dict[int, list[tuple[ScalarNode, Node]]] = field(default_factory=dict)

    def mark(self, path: Path_) -> Mark:
        """Return the position of `path`, or of its nearest ancestor that has one."""
        while path and path not in self.marks:
            path = path[:-1]
        return self.marks.get(path, Mark(1, 1))

    def error(
        self, path: Path_, message: str, *, at_value: bool = False, at: Mark | None = None
    ) -> ConfigError:
        """Return a ConfigError for the node at `path` ("FILE:LINE:COL: KEY: message")."""
        mark = at or (self.value_marks.get(path) if at_value else None) or self.mark(path)
        return ConfigError(f"{self.file}:{mark.line}:{mark.column}: {dotted(path)}: {message}")


def dotted(path: Path_) -> str:
    """Return `path` the way a user would write it: apps.web.targets[0].key."""
    return format_key_path(list(path)) if path else "(top level)"


def _id(node: Node) -> str:
    """Return the node's kind ("scalar", "sequence", "mapping") without importing ruamel's classes."""
    return str(getattr(node, "id", ""))


def _mark(node: Node) -> Mark:
    return Mark(node.start_mark.line + 1, node.start_mark.column + 1)


@functools.cache
def _yaml() -> YAML:
    """Return the pure-Python YAML 1.2 loader: libyaml (1.1) would read `[localhost:5000]` differently."""
    from ruamel.yaml import YAML

    return YAML(typ="safe", pure=True)


def compose(file: str, text: str) -> Node | None:
    """Return the YAML node tree of `text`; a syntax error becomes a ConfigError at its position."""
    from ruamel.yaml.error import MarkedYAMLError
    from ruamel.yaml.reader import ReaderError

    try:
        node: Node | None = _yaml().compose(text)
    except MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        where = f"{file}:{mark.line + 1}:{mark.column + 1}" if mark else file
        parts = [str(part) for part in (exc.context, exc.problem) if part] or ["invalid YAML"]
        problem = " ".join(", ".join(parts).split())
        raise ConfigError(f"{where}: YAML syntax error: {problem}; fix the YAML syntax") from None
    except ReaderError as exc:  # a control character: the reader gives an offset, not a mark
        before = text[: exc.position]
        line, column = before.count("\n") + 1, exc.position - before.rfind("\n")
        code = exc.character if isinstance(exc.character, int) else ord(exc.character)
        message = f"{file}:{line}:{column}: control character U+{code:04X} is not allowed in YAML; remove it"
        raise ConfigError(message) from None
    return node


# A config nests a handful of levels; the checks below recurse per level (and per `<<` merge), so
# deeper input is refused with its line before anything recurses, not left to Python's stack.
MAX_DEPTH = 100
MAX_MERGE_DEPTH = 50


def check_depth(file: str, text: str) -> None:
    """Refuse `text` if its mappings and lists nest more than MAX_DEPTH levels (FILE:LINE:COL)."""
    from ruamel.yaml.error import YAMLError

    depth = 0
    try:
        for event in _yaml().parse(text):
            name = type(event).__name__
            if name in ("MappingStartEvent", "SequenceStartEvent"):
                depth += 1
                if depth > MAX_DEPTH:
                    mark = event.start_mark
                    raise ConfigError(
                        f"{file}:{mark.line + 1}:{mark.column + 1}: nested more than {MAX_DEPTH} "
                        "levels deep; a config never needs that many"
                    )
            elif name in ("MappingEndEvent", "SequenceEndEvent"):
                depth -= 1
    except YAMLError:
        return  # compose reports the syntax error with its position


def load_data(file: str, text: str, spec: Obj) -> Loaded:
    """Return the data of `text` checked against `spec`, with positions."""
    check_depth(file, text)
    node = compose(file, text)
    loaded = Loaded(file, {})
    if node is None:
        raise ConfigError(f"{file}:1:1: (top level): the file is empty; start with 'version: 1'")
    loaded.marks[()] = loaded.value_marks[()] = _mark(node)
    loaded.data = _check(loaded, node, spec, ())
    return loaded


def _scalar_kind(node: Node) -> str:
    return _KIND_OF_TAG.get(str(node.tag).removeprefix(_TAG), "string")


def _scalar_value(node: Node) -> Any:
    kind = _scalar_kind(node)
    if kind == "string":
        return node.value
    return _yaml().constructor.construct_object(node, deep=True)


def _describe(node: Node) -> str:
    if _id(node) == "mapping":
        return "a mapping"
    if _id(node) == "sequence":
        return "a list"
    kind = _scalar_kind(node)
    if kind == "null":
        return "nothing"
    if kind == "string":
        return f'"{node.value}"'
    return str(node.value)


def _type_error(loaded: Loaded, node: Node, expected: list[str], path: Path_) -> ConfigError:
    wanted = " or ".join(dict.fromkeys(_EXPECTED[kind] for kind in expected))
    message = f"expected {wanted}, got {_describe(node)}"
    if _id(node) == "scalar" and "string" in expected and _scalar_kind(node) != "null":
        message += f'; quote it: "{node.value}"'
    return loaded.error(path, message, at_value=True)


def _kinds(spec: Spec) -> list[str]:
    if isinstance(spec, Scalar):
        return [spec.kind]
    if isinstance(spec, ListOf):
        return ["list"]
    if isinstance(spec, (MapOf, Obj)):
        return ["mapping"]
    return [kind for option in spec.options for kind in _kinds(option)]


def _check(loaded: Loaded, node: Node, spec: Spec, path: Path_) -> Any:
    """Return the plain value of `node` if it fits `spec`, else raise a ConfigError at it."""
    loaded.value_marks[path] = _mark(node)
    if isinstance(spec, OneOf):
        for option in spec.options:
            if _fits(node, option):
                return _check(loaded, node, option, path)
        raise _type_error(loaded, node, _kinds(spec), path)
    if not _fits(node, spec):
        raise _type_error(loaded, node, _kinds(spec), path)
    if isinstance(spec, Scalar):
        return _check_scalar(loaded, node, spec, path)
    if isinstance(spec, ListOf):
        return _check_list(loaded, node, spec, path)
    return _check_mapping(loaded, node, spec, path)


def _fits(node: Node, spec: Spec) -> bool:
    """Tell whether `node` has the right kind for `spec` (an empty value counts as an empty mapping)."""
    if isinstance(spec, OneOf):
        return any(_fits(node, option) for option in spec.options)
    if isinstance(spec, Scalar):
        if _id(node) != "scalar":
            return False
        kind = _scalar_kind(node)
        return kind == spec.kind or (spec.kind == "number" and kind == "integer")
    if isinstance(spec, ListOf):
        return _id(node) == "sequence"
    empty = _id(node) == "scalar" and _scalar_kind(node) == "null"
    return _id(node) == "mapping" or (empty and isinstance(spec, Obj) and not spec.required)


def _check_scalar(loaded: Loaded, node: Node, spec: Scalar, path: Path_) -> Any:
    from ruamel.yaml.error import MarkedYAMLError

    try:
        value = _scalar_value(node)
    except (MarkedYAMLError, ValueError):  # an explicit tag that does not fit, e.g. !!int x
        raise loaded.error(
            path, f"cannot read {node.value!r} as {node.tag}; remove the tag", at_value=True
        ) from None
    if spec.enum and value not in spec.enum:
        choices = ", ".join(
            str(choice).lower() if isinstance(choice, bool) else str(choice) for choice in spec.enum
        )
        message = f"{_describe(node)} is not one of: {choices}"
        if len(spec.enum) == 1:
            message = f"must be {choices}, got {_describe(node)}"
        close = difflib.get_close_matches(str(value), [str(choice) for choice in spec.enum], n=1)
        raise loaded.error(path, message + (f'; did you mean "{close[0]}"?' if close else ""), at_value=True)
    if spec.pattern and not re.search(spec.pattern, value):
        expected = spec.description.rstrip(".")
        raise loaded.error(path, f"{_describe(node)} is not valid; expected {expected}", at_value=True)
    if spec.kind == "number" and not math.isfinite(value):  # .nan, .inf: a wait that never ends
        raise loaded.error(
            path, f"{node.value} is not a finite number; give e.g. 30, or 30s, 10m, 1h", at_value=True
        )
    if spec.minimum is not None and value < spec.minimum:
        raise loaded.error(path, f"{value} is below the minimum {spec.minimum:g}", at_value=True)
    return value


def _check_list(loaded: Loaded, node: Node, spec: ListOf, path: Path_) -> list[Any]:
    if len(node.value) < spec.min_items:
        raise loaded.error(path, "the list is empty; give at least one item", at_value=True)
    items = []
    for index, item in enumerate(node.value):
        item_path: Path_ = (*path, index)
        loaded.marks[item_path] = _mark(item)
        items.append(_check(loaded, item, spec.item, item_path))
    return items


def _entries(loaded: Loaded, node: Node, path: Path_, depth: int = 0) -> list[tuple[ScalarNode, Node]]:
    """Return the (key, value) pairs of a mapping, with `<<` merges applied and duplicates refused.

    Each mapping is merged once per load (see Loaded.merged); `<<` chains deeper than
    MAX_MERGE_DEPTH (or a mapping that merges itself) are refused.
    """
    if _id(node) != "mapping":
        return []  # an empty value standing for an empty mapping
    if id(node) in loaded.merged:
        return loaded.merged[id(node)]
    if depth > MAX_MERGE_DEPTH:
        message = (
            f"<< merges nest more than {MAX_MERGE_DEPTH} levels (or a mapping merges itself); flatten them"
        )
        raise loaded.error(path, message, at=_mark(node))
    own: dict[str, tuple[ScalarNode, Node]] = {}
    merged: dict[str, tuple[ScalarNode, Node]] = {}
    for key, value in node.value:
        if key.tag == _TAG + "merge":
            sources = value.value if _id(value) == "sequence" else [value]
            for source in sources:
                if _id(source) != "mapping":
                    message = (
                        "<< merges a mapping (or a list of mappings); point it at an &anchor of a mapping"
                    )
                    raise loaded.error(path, message, at=_mark(source))
                for pair in _entries(loaded, source, path, depth + 1):
                    merged.setdefault(pair[0].value, pair)
            continue
        if _id(key) != "scalar" or _scalar_kind(key) not in ("string", "integer", "boolean"):
            raise loaded.error(path, f"{_describe(key)} cannot be a key; use a plain name")
        if key.value in own:
            first = _mark(own[key.value][0]).line
            message = f"duplicate key (first at line {first}); remove one"
            raise loaded.error((*path, key.value), message, at=_mark(key))
        own[key.value] = (key, value)
    entries = list({**merged, **own}.values())
    loaded.merged[id(node)] = entries
    return entries


def _check_mapping(loaded: Loaded, node: Node, spec: MapOf | Obj, path: Path_) -> dict[str, Any]:
    entries = _entries(loaded, node, path)
    for key, _ in entries:
        key_path: Path_ = (*path, key.value)
        loaded.marks[key_path] = _mark(key)
    if isinstance(spec, MapOf):
        if len(entries) < spec.min_items:
            raise loaded.error(path, "the mapping is empty; add at least one entry")
        out = {}
        for key, value in entries:
            if spec.key_pattern and not re.search(spec.key_pattern, key.value):
                message = "is not a valid name; use letters, digits, '-', '_' or '.'"
                raise loaded.error((*path, key.value), message)
            out[key.value] = _check(loaded, value, spec.value, (*path, key.value))
        return out
    for key, _ in entries:
        if key.value not in spec.fields:
            raise loaded.error((*path, key.value), _unknown_key(key.value, list(spec.fields)))
    present = {key.value for key, _ in entries}
    for name in spec.required:
        if name not in present:
            description = spec.fields[name].description
            raise loaded.error(path, f'add the required key "{name}" ({description.rstrip(".")})')
    return {
        key.value: _check(loaded, value, spec.fields[key.value], (*path, key.value)) for key, value in entries
    }


def _unknown_key(name: str, known: list[str]) -> str:
    kebab = re.sub(r"(?<=[a-z0-9])(?=[A-Z])", "-", name).lower().replace("_", "-")  # promoteFrom, digest_key
    close = [kebab] if kebab in known else difflib.get_close_matches(name, known, n=1, cutoff=0.6)
    if close:
        return f'unknown key; did you mean "{close[0]}"?'
    return f"unknown key; expected one of: {', '.join(known)}"
