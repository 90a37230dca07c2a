"""Format-exact editing of deployment files: set one value's bytes, keep every other byte, verify.

`edit` and `find` pick the editor per file: YAML documents get the structural editor (verified by
re-reading as YAML 1.1 and 1.2); other text, such as Helm templates, is scanned (verified by scanning
again). `set_value` and `get_values` are the YAML editor alone. The two live here, not in a module of
their own, to keep the import chain under the house's floor limit.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from updater.yamledit._edit import get_values, set_value
from updater.yamledit._mode import in_text_mode, text_mode
from updater.yamledit._nearby import not_a_tag, refusal, shown, tag_holders
from updater.yamledit._scalar import validate_value
from updater.yamledit._text import get_text, set_text
from updater.yamledit.model import Change, Found, Locator, YamlEditError

Mode = Literal["yaml", "text"]
_YAML_WHY = "the file is YAML: the structural editor, verified by re-reading it as YAML 1.1 and 1.2"


@dataclass(frozen=True)
class Edited:
    """What `edit` did: the new text, each change, and which editor (with why, for --explain)."""

    text: str
    changes: list[Change]
    mode: Mode
    why: str


@dataclass(frozen=True)
class Looked:
    """What `find` read: each value found, and which reader (with why, for --explain)."""

    found: list[Found]
    mode: Mode
    why: str


def edit(
    text: str,
    locator: Locator,
    value: str,
    *,
    source: str = "<text>",
    create: bool = False,
    allow_aliases: bool = False,
    digest_anywhere: bool = True,
    all_matches: bool = False,
) -> Edited:
    """Return the edit of `text` by the structural YAML editor or, for a file that is not YAML, in text mode.

    `all_matches` is for text mode, where one image with different tags is refused without it; the
    YAML editor always sets every match. Options of the YAML editor are passed on unchanged.
    """
    try:
        new_text, changes = set_value(
            text,
            locator,
            value,
            source=source,
            create=create,
            allow_aliases=allow_aliases,
            digest_anywhere=digest_anywhere,
        )
        return Edited(new_text, changes, "yaml", _YAML_WHY)
    except YamlEditError as exc:
        not_yaml = text_mode(text, locator, source, exc, lambda: _finds(text, locator, source))
    with in_text_mode(not_yaml):
        new_text, changes = set_text(
            text, locator, value, source=source, all_matches=all_matches, digest_anywhere=digest_anywhere
        )
    return Edited(new_text, changes, "text", not_yaml.why)


def find(text: str, locator: Locator, *, source: str = "<text>") -> Looked:
    """Return the values `locator` points at, read as YAML or, for a file that is not YAML, as text."""
    try:
        return Looked(get_values(text, locator, source=source), "yaml", _YAML_WHY)
    except YamlEditError as exc:
        not_yaml = text_mode(text, locator, source, exc, lambda: False)
    with in_text_mode(not_yaml):
        found = get_text(text, locator, source=source)
    return Looked(found, "text", not_yaml.why)


def _finds(text: str, locator: Locator, source: str) -> bool:
    """True when the YAML editor finds `locator` in `text` (the edit failed for another reason)."""
    try:
        return bool(get_values(text, locator, source=source))
    except YamlEditError:
        return False


__all__ = [
    "Change",
    "Edited",
    "Found",
    "Locator",
    "Looked",
    "Mode",
    "YamlEditError",
    "edit",
    "find",
    "get_values",
    "not_a_tag",
    "refusal",
    "set_value",
    "shown",
    "tag_holders",
    "validate_value",
]
