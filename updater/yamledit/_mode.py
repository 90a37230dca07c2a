"""Which editor a file gets: a YAML document keeps the structural editor, any other text is scanned.

Helm templates are the common case of a target that is not YAML: one `{{- if … }}` line makes the
file unparseable until Helm renders it. `yamledit.edit` and `yamledit.find` ask here after the YAML
editor refused, so a YAML file is parsed only once.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from updater.yamledit._textscan import Scan, templated
from updater.yamledit._tree import Lines, Scalar, read
from updater.yamledit.model import Locator, TooDeep, YamlEditError


@dataclass(frozen=True)
class NotYaml:
    """Why a file is read as text: where the YAML reader stopped, and its problem."""

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


def text_mode(
    text: str, locator: Locator, source: str, refusal: YamlEditError, found: Callable[[], bool]
) -> NotYaml:
    """Return why `text` goes to text mode after the YAML editor's `refusal`; raise it for a YAML file.

    `found` says whether the YAML editor finds the locator at all (asked only for a YAML file with
    template actions, to tell "the tag comes from values" from a plain miss).
    """
    not_yaml = _not_yaml(text, source)
    if not_yaml is None:
        _refuse_templated(text, locator, source, found)
        raise refusal
    _refuse_for_text(locator, source, not_yaml, text)
    return not_yaml


@contextmanager
def in_text_mode(not_yaml: NotYaml) -> Iterator[None]:
    """End every text-mode refusal with the mode and where YAML failed, so no one says 'fix the YAML'."""
    try:
        yield
    except YamlEditError as exc:
        raise YamlEditError(f"{exc.message} ({not_yaml.short})") from None


def _not_yaml(text: str, source: str) -> NotYaml | None:
    """Return why `text` is not a YAML manifest, or None when it is one (or holds no document).

    A document that is a single plain scalar is text (a Dockerfile or `.env` file parses as one long
    string), so it is not YAML for this purpose.
    """
    lines = Lines(text)
    try:
        docs, _, _ = read(text, source, lines)
    except TooDeep:
        raise  # YAML, only too deep: the same refusal in either mode
    except YamlEditError as exc:
        return _split(exc.message, source)
    for doc in docs:
        if isinstance(doc.root, Scalar) and not doc.root.style and doc.root.value:
            return NotYaml(lines.line(doc.root.start), "plain text, not a mapping or list")
    return None


def _split(message: str, source: str) -> NotYaml:
    """Return the line and problem of the YAML reader's error message `SOURCE:LINE: invalid YAML: …`."""
    rest = message.removeprefix(f"{source}:")
    match = re.match(r"(\d+): (.*)", rest)
    line, problem = (int(match.group(1)), match.group(2)) if match else (1, rest)
    problem = re.sub(r"^invalid YAML: ", "", problem)
    problem = re.sub(r";\s*fix the file first\.?$", "", problem)
    return NotYaml(line, problem)


def _refuse_for_text(locator: Locator, source: str, not_yaml: NotYaml, text: str) -> None:
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


def _refuse_templated(text: str, locator: Locator, source: str, found: Callable[[], bool]) -> None:
    """In a YAML file that holds template actions, say where the tag comes from values, if it does."""
    if locator.image is None or "{{" not in text:
        return
    try:
        problem = templated(Scan(text, source), locator.image, found_elsewhere=found())
    except YamlEditError:
        return  # an action never closed: the YAML editor's own message stands
    if problem is not None:
        raise problem
