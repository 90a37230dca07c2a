"""Whatever a user writes, `load` returns a Config or raises ONE ConfigError line: never a traceback."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from ruamel.yaml import YAML

from tests.test_config_cli import FULL
from updater.config import ConfigError, load

WORDS = [
    "staging", "production", "image", "values", "key", "tag", "strategy", "template", "digest",
    "targets", "file", "env", "marker", "image-locator", "overrides", "branch", "mode", "include",
    "../x.yaml", "/abs.yaml", "a.b", "image..tag", "{sha:7}", "{nope}", "true", "commit", "semver",
]  # fmt: skip
scalars = st.one_of(
    st.sampled_from(WORDS), st.text(max_size=8), st.integers(-3, 3), st.booleans(), st.none(), st.floats(0, 5)
)
values = st.recursive(
    scalars,
    lambda inner: st.one_of(
        st.lists(inner, max_size=3), st.dictionaries(st.sampled_from(WORDS), inner, max_size=3)
    ),
    max_leaves=8,
)


def _paths(data: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    out = [prefix]
    if isinstance(data, dict):
        for key, value in data.items():
            out += _paths(value, (*prefix, key))
    elif isinstance(data, list):
        for index, value in enumerate(data):
            out += _paths(value, (*prefix, index))
    return out


BASE_DATA = YAML(typ="safe", pure=True).load(FULL)
PATHS = _paths(BASE_DATA)[1:]


def _replace(data: Any, path: tuple[Any, ...], value: Any) -> Any:
    if not path:
        return value
    head, rest = path[0], path[1:]
    if isinstance(data, dict):
        return {**data, head: _replace(data[head], rest, value)}
    return [_replace(item, rest, value) if i == head else item for i, item in enumerate(data)]


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(path=st.sampled_from(PATHS), value=values)
def test_mutated_full_config_never_crashes(tmp_path: Path, path: tuple[Any, ...], value: Any) -> None:
    buffer = io.StringIO()
    YAML(typ="safe", pure=True).dump(_replace(BASE_DATA, path, value), buffer)
    config_path = tmp_path / ".updater.yaml"
    config_path.write_text(buffer.getvalue())
    try:
        load(config_path)
    except ConfigError as exc:
        assert exc.message.startswith(f"{config_path}:")
        assert "\n" not in exc.message


TOKENS = [
    *WORDS,
    ":",
    " ",
    "\n",
    "  ",
    "- ",
    "{",
    "}",
    "[",
    "]",
    ",",
    "&a",
    "*a",
    "<<",
    "!!int",
    "'",
    '"',
    "#",
]
TOKENS += ["\t", "\x07", "\ufeff", "---", "? ", "%YAML 1.1\n"]


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(st.sampled_from(TOKENS), max_size=40))
def test_random_text_never_crashes(tmp_path: Path, tokens: list[str]) -> None:
    config_path = tmp_path / ".updater.yaml"
    config_path.write_text("version: 1\n" + "".join(tokens))
    try:
        load(config_path)
    except ConfigError as exc:
        assert exc.message.startswith(f"{config_path}:")
        assert "\n" not in exc.message
