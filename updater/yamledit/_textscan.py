"""Scan a text file (a Helm template, any manifest) for template actions, image references and markers.

A Helm template is not YAML until it is rendered, so it is read as text: Go template actions
(`{{ … }}`, comments `{{/* … */}}` included) are found first and never edited; an image reference is
a word of reference characters that stands outside actions and `#` comments. A reference glued to an
action (`repo:{{ .Values.image.tag }}`) takes its tag from values, so it is reported, not edited.
"""

from __future__ import annotations

import bisect
import re
from collections.abc import Iterator
from dataclasses import dataclass

from updater.domain import imageref
from updater.yamledit._refs import MARKER, same_repository, split_reference
from updater.yamledit._tree import Lines
from updater.yamledit.model import YamlEditError

# The characters of an image reference (host, port, path, tag, digest); anything else ends one.
_WORD_CHARS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._/:@-")
# An `image:` key whose value the template builds (`image: "{{ .Values.image.repository }}:…"`).
_IMAGE_KEY = re.compile(r"""^[ \t]*(?:-[ \t]+)?["']?image["']?[ \t]*:[ \t]*(?=\S)""", re.MULTILINE)
_SNIPPET = 80


@dataclass(frozen=True)
class Action:
    """A Go template action `{{ … }}` (or comment `{{/* … */}}`): offsets of its first and past-last byte."""

    start: int
    end: int
    comment: bool = False


@dataclass(frozen=True)
class Word:
    """A run of reference characters and where it stands: plain text, a `#` comment or an action."""

    start: int
    end: int
    text: str
    where: str  # "text", "comment" (`#` or `{{/* */}}`) or "action"
    glued: bool  # touches an action: part of the word comes from the template


@dataclass(frozen=True)
class Ref:
    """An image reference `NAME[:TAG][@DIGEST]` in the text; only the bytes after `name_end` change."""

    start: int
    name_end: int
    end: int
    name: str  # the repository as written
    tag: str | None
    digest: str | None

    @property
    def old(self) -> str | None:
        """The TAG[@DIGEST] part, as `Change.old` reports it."""
        return "@".join(x for x in (self.tag, self.digest) if x) or None


@dataclass(frozen=True)
class Marked:
    """The value on a marked line: its span (inside quotes), quote style and text."""

    line: int
    start: int
    end: int
    style: str  # "" plain, "'" or '"'
    value: str
    whole: bool  # a Flux setter "ns:policy" marks a whole image reference


class Scan:
    """A text read once: its lines, its template actions and the words between them."""

    def __init__(self, text: str, source: str) -> None:
        self.text, self.source, self.lines = text, source, Lines(text)
        self.actions = find_actions(text, source, self.lines)
        self._starts = [a.start for a in self.actions]
        self.action_ends = {a.end for a in self.actions}
        self.action_starts = set(self._starts)
        self.comments = _comment_starts(text, self)

    def error(self, offset: int | None, message: str) -> YamlEditError:
        where = f"{self.source}:{self.lines.line(offset)}" if offset is not None else self.source
        return YamlEditError(f"{where}: {message}")

    def action_at(self, offset: int) -> Action | None:
        """Return the action that holds `offset`, if any."""
        index = bisect.bisect_right(self._starts, offset) - 1
        if index >= 0 and offset < self.actions[index].end:
            return self.actions[index]
        return None

    def action_between(self, start: int, end: int) -> bool:
        """True when an action starts in `start..end`."""
        index = bisect.bisect_left(self._starts, start)
        return index < len(self._starts) and self._starts[index] < end

    def in_comment(self, offset: int) -> bool:
        line = self.lines.line(offset)
        start = self.comments.get(line)
        return start is not None and offset > start

    def words_with(self, needle: str) -> Iterator[Word]:
        """Yield every run of reference characters that contains `needle`, in order."""
        text, pos, last = self.text, self.text.find(needle), -1
        while pos >= 0:
            start, end = pos, pos + len(needle)
            while start > 0 and text[start - 1] in _WORD_CHARS:
                start -= 1
            while end < len(text) and text[end] in _WORD_CHARS:
                end += 1
            if start > last:
                yield self._word(start, end)
                last = start
            pos = text.find(needle, end)

    def _word(self, start: int, end: int) -> Word:
        action = self.action_at(start)
        if action is not None:
            where = "comment" if action.comment else "action"
        else:
            where = "comment" if self.in_comment(start) else "text"
        glued = start in self.action_ends or end in self.action_starts
        return Word(start, end, self.text[start:end], where, glued)

    def snippet(self, start: int, end: int) -> str:
        """Return the text of `start..end` for a message: escaped by repr, at most a short line long."""
        text = self.text[start:end]
        return repr(text if len(text) <= _SNIPPET else text[: _SNIPPET - 1] + "…")

    def action_texts(self) -> list[tuple[int, str]]:
        """Every action's line and bytes, for verification: an edit never changes one."""
        return [(self.lines.line(a.start), self.text[a.start : a.end]) for a in self.actions]


def find_actions(text: str, source: str, lines: Lines) -> list[Action]:
    """Return every `{{ … }}` action in order, skipping `}}` inside Go strings and comments.

    An action that is never closed is refused: Helm would refuse the template too, and nothing after
    it could be told apart from template code.
    """
    actions: list[Action] = []
    pos = text.find("{{")
    while pos >= 0:
        end = _action_end(text, pos + 2)
        body = pos + 4 if text.startswith("- ", pos + 2) else pos + 2
        if end < 0:
            raise YamlEditError(
                f"{source}:{lines.line(pos)}: the template action '{{{{' here is never closed with '}}}}': "
                "fix the template first"
            )
        actions.append(Action(pos, end, text.startswith("/*", body)))
        pos = text.find("{{", end)
    return actions


def _action_end(text: str, pos: int) -> int:
    """Return the offset just past the `}}` closing the action whose body starts at `pos`, or -1."""
    body = pos + 2 if text.startswith("- ", pos) else pos
    if text.startswith("/*", body):  # a comment: `*/` then the closing delimiter
        close = text.find("*/", body + 2)
        if close < 0:
            return -1
        pos = close + 2
    n = len(text)
    while pos < n:
        char = text[pos]
        if char == "}" and text.startswith("}}", pos):
            return pos + 2
        if char in "\"'`":
            pos = _string_end(text, pos, char)
            if pos < 0:
                return -1
            continue
        pos += 1
    return -1


def _string_end(text: str, pos: int, quote: str) -> int:
    """Return the offset past a Go string, raw string or rune literal starting at `pos`, or -1."""
    if quote == "`":
        close = text.find("`", pos + 1)
        return close + 1 if close >= 0 else -1
    pos += 1
    while pos < len(text):
        char = text[pos]
        if char == "\\":
            pos += 2
            continue
        if char == quote:
            return pos + 1
        if char == "\n":  # Go strings end at the line; let the action's own scan go on
            return pos
        pos += 1
    return -1


def _comment_starts(text: str, scan: Scan) -> dict[int, int]:
    """Return line -> offset of the `#` that starts a comment there, as YAML reads one.

    A comment starts at a `#` at the line start or after a blank, outside template actions and
    outside a quoted string (`"a #b"`, `'#fff'`).
    """
    found: dict[int, int] = {}
    pos = text.find("#")
    while pos >= 0:
        line = scan.lines.line(pos)
        if (
            (pos == 0 or text[pos - 1] in " \t\n\r")
            and scan.action_at(pos) is None
            and not _quoted(text, scan, scan.lines.start(line), pos)
        ):
            found[line] = pos
            eol = text.find("\n", pos)
            pos = text.find("#", eol) if eol >= 0 else -1
            continue
        pos = text.find("#", pos + 1)
    return found


def _quoted(text: str, scan: Scan, start: int, pos: int) -> bool:
    """True when `pos` lies inside a quoted string that opens on its line (actions skipped)."""
    return _open_quote(text, scan, start, pos) is not None


def _opening_quote(text: str, scan: Scan, start: int, close: int) -> int | None:
    """Return where the string that the quote at `close` ends was opened, on its line, or None."""
    opening = _open_quote(text, scan, start, close)
    return opening if opening is not None and text[opening] == text[close] else None


def _open_quote(text: str, scan: Scan, start: int, pos: int) -> int | None:
    """Return the offset of the quote of the string open at `pos` (scanning from `start`), or None."""
    quote, opening = "", None
    i = start
    while i < pos:
        action = scan.action_at(i)
        if action is not None:
            i = action.end
            continue
        char = text[i]
        if not quote:
            if char in "\"'" and (i == start or text[i - 1] in " \t[{,:=("):
                quote, opening = char, i
        elif quote == '"' and char == "\\":
            i += 1
        elif char == quote:
            if quote == "'" and text[i + 1 : i + 2] == "'" and i + 1 < pos:  # '' escapes a quote
                i += 1
            else:
                quote, opening = "", None
        i += 1
    return opening


# ---- image references ------------------------------------------------------------------------------


def references(scan: Scan, repo: str) -> tuple[list[Ref], list[Word], list[Word]]:
    """Return the references to `repo` outside actions and comments, the words that join `repo` to
    an action (its tag or name comes from the template), and references to it inside actions.
    """
    refs: list[Ref] = []
    glued: list[Word] = []
    inside: list[Word] = []
    # Normalisation only adds a registry or `library/`: the last path component is always written.
    needle = imageref.parse(repo).repository.rsplit("/", 1)[-1]
    for word in scan.words_with(needle):
        if word.where == "comment":
            continue
        if word.where == "action":
            parts = split_reference(word.text)
            if parts and same_repository(parts[0], repo):
                inside.append(word)
            continue
        if word.glued:
            if _names(word.text, repo):
                glued.append(word)
            continue
        parts = split_reference(word.text)
        if parts and same_repository(parts[0], repo):
            name, tag, digest = parts
            refs.append(Ref(word.start, word.start + len(name), word.end, name, tag, digest))
    return refs, glued, inside


def templated(scan: Scan, repo: str, *, found_elsewhere: bool = False) -> YamlEditError | None:
    """Return why `repo`'s tag cannot be set in this text because the template writes it, or None.

    A reference glued to an action (`repo:{{ .Values.image.tag }}`) always counts; where no literal
    reference exists (and the YAML editor found none, `found_elsewhere`), so do a reference inside
    an action and an `image:` built from actions.
    """
    refs, glued, inside = references(scan, repo)
    if glued:
        word = glued[0]
        after = scan.action_at(word.end)  # `repo:{{ … }}`: the template writes the tag
        before = scan.action_at(word.start - 1) if word.start else None  # `{{ … }}/repo:tag`
        start = before.start if before else word.start
        end = after.end if after else word.end
        if after is None:
            return scan.error(
                word.start,
                f"{repo} is written with a registry or name the template fills in "
                f"({scan.snippet(start, end)}): edit the line by hand, or target the values file",
            )
        return scan.error(
            word.start,
            f"{repo} is written with a tag the template fills in ({scan.snippet(start, end)}): "
            "the tag comes from values: target the values file",
        )
    if refs or found_elsewhere:
        return None
    if inside:
        return scan.error(
            inside[0].start,
            f"{repo} stands only inside a template action ({inside[0].text!r}), which is never edited: "
            "move the tag to the values file, or edit the line by hand",
        )
    built = built_images(scan)
    if built:
        offset, snippet = built[0]
        return scan.error(
            offset,
            f"no literal {repo}:TAG here; the image is built by the template ({snippet}): "
            "the tag comes from values: target the values file",
        )
    return None


def _names(word: str, repo: str) -> bool:
    """True when a word glued to an action names `repo`: `repo:`, `repo:prefix-`, `/repo:tag`."""
    name = word.strip("/:")
    slash = name.rfind("/")
    colon = name.rfind(":")
    if colon > slash:
        name = name[:colon]
    return bool(name) and same_repository(name, repo)


def built_images(scan: Scan) -> list[tuple[int, str]]:
    """Return (offset, snippet) of every `image:` whose value contains a template action."""
    found: list[tuple[int, str]] = []
    for match in _IMAGE_KEY.finditer(scan.text):
        start = match.end()
        end = scan.text.find("\n", start)
        end = len(scan.text) if end < 0 else end
        comment = scan.comments.get(scan.lines.line(start))
        if comment is not None and comment >= start:
            end = min(end, comment)
        if scan.action_between(start, end):
            found.append((start, scan.snippet(start, end).rstrip()))
    return found


# ---- markers ---------------------------------------------------------------------------------------


def marked_values(scan: Scan, wanted: str) -> list[Marked]:
    """Return the value on every line marked `# updater: NAME` (or with a Flux setter) for `wanted`.

    The value is the last one before the comment, as in YAML files: a quoted string, or a word of
    reference characters. A value that a template action gives is refused (the tag comes from values).
    """
    found: list[Marked] = []
    for match in MARKER.finditer(scan.text):
        name, setter = match.group("name"), match.group("setter")
        if not (name == wanted or setter in (wanted, f"{wanted}:tag")):
            continue
        hash_at = match.start()
        if scan.comments.get(scan.lines.line(hash_at)) != hash_at:
            continue  # inside an action, a string, or a comment that starts earlier on the line
        whole = setter == wanted and wanted.count(":") == 1
        found.append(_value_before(scan, hash_at, whole, wanted))
    return found


def _value_before(scan: Scan, hash_at: int, whole: bool, wanted: str) -> Marked:
    text = scan.text
    line = scan.lines.line(hash_at)
    line_start = scan.lines.start(line)
    end = hash_at
    while end > line_start and text[end - 1] in " \t,]}":
        if end in scan.action_ends:
            break
        end -= 1
    if end in scan.action_ends:
        raise _from_values(scan, line_start, hash_at, f"the value marked {wanted}")
    if end > line_start and text[end - 1] in "\"'":
        quote = text[end - 1]
        opening = _opening_quote(text, scan, line_start, end - 1)
        if opening is None:
            raise scan.error(hash_at, f"the value marked {wanted} has no opening {quote}")
        value = text[opening + 1 : end - 1]
        if "{{" in value:
            raise _from_values(scan, line_start, hash_at, f"the value marked {wanted}")
        return Marked(line, opening + 1, end - 1, quote, value, whole)
    start = end
    while start > line_start and text[start - 1] in _WORD_CHARS:
        start -= 1
    value = text[start:end]
    if start in scan.action_ends:
        raise _from_values(scan, line_start, hash_at, f"the value marked {wanted}")
    if not value or value.endswith(":"):
        raise scan.error(hash_at, f"the line marked {wanted} holds no value before the comment")
    return Marked(line, start, end, "", value, whole)


def _from_values(scan: Scan, start: int, end: int, what: str) -> YamlEditError:
    while start < end and scan.text[start] in " \t":
        start += 1
    while end > start and scan.text[end - 1] in " \t":
        end -= 1
    return scan.error(
        start,
        f"{what} is written by the template ({scan.snippet(start, end)}): "
        "the tag comes from values: target the values file",
    )
