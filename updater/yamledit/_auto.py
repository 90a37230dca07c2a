"""Pick the editor per file: a YAML document keeps the structural editor, any other text is scanned.

Helm templates are the common case of a target that is not YAML: one `{{- if … }}` line makes the
file unparseable until Helm renders it. Callers (set, bump, status, validate) call `edit` or `find`
and get the mode back, to say which one was used.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Literal

from updater.yamledit._edit import get_values, set_value
from updater.yamledit._text import get_text, set_text, templated
from updater.yamledit._textscan import Scan
from updater.yamledit._tree import Lines, Scalar, read
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


@dataclass(frozen=True)
class _NotYaml:
    line: int
    problem: str

    @property
    def why(self) -> str:
        return (
            f"not YAML (line {self.line}: {self.problem}): text mode, edited by scanning for the "
            "reference and verified by scanning again (every {{ … }} action kept byte for byte)"
        )

    @property
    def short(self) -> str:
        return f"text mode: not YAML at line {self.line}"


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
        not_yaml = _text_mode(text, locator, source, exc)
    with _in_text_mode(not_yaml):
        new_text, changes = set_text(
            text, locator, value, source=source, all_matches=all_matches, digest_anywhere=digest_anywhere
        )
    return Edited(new_text, changes, "text", not_yaml.why)


def find(text: str, locator: Locator, *, source: str = "<text>") -> Looked:
    """Return the values `locator` points at, read as YAML or, for a file that is not YAML, as text."""
    try:
        return Looked(get_values(text, locator, source=source), "yaml", _YAML_WHY)
    except YamlEditError as exc:
        not_yaml = _text_mode(text, locator, source, exc)
    with _in_text_mode(not_yaml):
        found = get_text(text, locator, source=source)
    return Looked(found, "text", not_yaml.why)


def _text_mode(text: str, locator: Locator, source: str, refusal: YamlEditError) -> _NotYaml:
    """Return why `text` goes to text mode after the YAML editor's `refusal`; raise it for a YAML file."""
    not_yaml = _not_yaml(text, source)
    if not_yaml is None:
        _refuse_templated(text, locator, source)
        raise refusal
    _refuse_for_text(locator, source, not_yaml, text)
    return not_yaml


@contextmanager
def _in_text_mode(not_yaml: _NotYaml) -> Iterator[None]:
    """End every text-mode refusal with the mode and where YAML failed, so no one says 'fix the YAML'."""
    try:
        yield
    except YamlEditError as exc:
        raise YamlEditError(f"{exc.message} ({not_yaml.short})") from None


def _not_yaml(text: str, source: str) -> _NotYaml | None:
    """Return why `text` is not a YAML manifest, or None when it is one (or holds no document).

    A document that is a single plain scalar is text (a Dockerfile or `.env` file parses as one long
    string), so it is not YAML for this purpose.
    """
    lines = Lines(text)
    try:
        docs, _, _ = read(text, source, lines)
    except YamlEditError as exc:
        return _split(exc.message, source)
    for doc in docs:
        if isinstance(doc.root, Scalar) and not doc.root.style and doc.root.value:
            return _NotYaml(lines.line(doc.root.start), "plain text, not a mapping or list")
    return None


def _split(message: str, source: str) -> _NotYaml:
    """Return the line and problem of the YAML reader's error message `SOURCE:LINE: invalid YAML: …`."""
    rest = message.removeprefix(f"{source}:")
    match = re.match(r"(\d+): (.*)", rest)
    line, problem = (int(match.group(1)), match.group(2)) if match else (1, rest)
    problem = re.sub(r"^invalid YAML: ", "", problem)
    problem = re.sub(r";\s*fix the file first\.?$", "", problem)
    return _NotYaml(line, problem)


def _refuse_for_text(locator: Locator, source: str, not_yaml: _NotYaml, text: str) -> None:
    """Refuse what only YAML supports (a key path, --document) before scanning the text."""
    if locator.key is not None:
        if "{{" in text:
            raise YamlEditError(
                f"{source}:{not_yaml.line}: a template, not YAML ({not_yaml.problem}): a key path needs a "
                "YAML document; use --image REPO or --marker NAME to edit the file as text"
            )
        raise YamlEditError(
            f"{source}:{not_yaml.line}: invalid YAML: {not_yaml.problem}: a key path needs a YAML document; "
            "fix the file, or use --image REPO or --marker NAME to edit it as text"
        )
    if locator.document is not None:
        raise YamlEditError(
            f"{source}: --document applies to YAML files; this one is read as text "
            f"(not YAML at line {not_yaml.line}): leave it out"
        )


def _refuse_templated(text: str, locator: Locator, source: str) -> None:
    """In a YAML file that holds template actions, say where the tag comes from values, if it does."""
    if locator.image is None or "{{" not in text:
        return
    try:
        found = bool(get_values(text, locator, source=source))
    except YamlEditError:
        found = False
    try:
        problem = templated(Scan(text, source), locator.image, found_elsewhere=found)
    except YamlEditError:
        return  # an action never closed: the YAML editor's own message stands
    if problem is not None:
        raise problem
