"""Text mode: set an image tag in a file that is not YAML (a Helm template, any text manifest).

The same locators as in YAML files (--image REPO, --marker NAME) are found by scanning
(`_textscan`); only the tag bytes are spliced, and the result is verified by scanning it again: the
same template actions byte for byte, the same references on the same lines, and only the target tags
different. A key path needs YAML and is refused before this module is reached.
"""

from __future__ import annotations

from dataclasses import dataclass

from updater.domain import imageref
from updater.infra.errors import InputError
from updater.yamledit._refs import split_reference
from updater.yamledit._scalar import DIGEST, TAG_AT_DIGEST, render, validate_value
from updater.yamledit._textscan import Marked, Ref, Scan, marked_values, references, templated
from updater.yamledit.model import Change, Found, Locator, YamlEditError


@dataclass(frozen=True)
class _Splice:
    start: int
    end: int
    text: str
    change: Change


def set_text(
    text: str,
    locator: Locator,
    value: str,
    *,
    source: str = "<text>",
    all_matches: bool = False,
    digest_anywhere: bool = True,
) -> tuple[str, list[Change]]:
    """Return the text with the tag of every located reference (or marked value) set to `value`.

    Two references to the image with different tags are refused unless `all_matches`: in a text file
    one of them may be an example or another release, and the user should say which is meant.
    """
    validate_value(value, allow_digest=True)
    scan = Scan(text, source)
    splices = _plan(scan, locator, value, all_matches=all_matches, digest_anywhere=digest_anywhere)
    new_text = text
    for splice in sorted(splices, key=lambda s: s.start, reverse=True):
        new_text = new_text[: splice.start] + splice.text + new_text[splice.end :]
    if new_text != text:
        _verify(scan, new_text, locator, splices, value)
    return new_text, [s.change for s in splices]


def get_text(text: str, locator: Locator, *, source: str = "<text>") -> list[Found]:
    """Return every value `locator` points at in a text file (a reference gives its TAG[@DIGEST])."""
    scan = Scan(text, source)
    if locator.image is not None:
        refs = _image_refs(scan, locator.image)
        return [Found(ref.name, 0, scan.lines.line(ref.start), ref.old) for ref in refs]
    found: list[Found] = []
    for marked in _marked(scan, locator):
        parts = _marked_reference(scan, marked, locator)
        old = marked.value if parts is None else _tag_part(parts)
        found.append(Found(_marker_path(locator), 0, marked.line, old))
    return found


def _plan(
    scan: Scan, locator: Locator, value: str, *, all_matches: bool, digest_anywhere: bool
) -> list[_Splice]:
    if locator.image is not None:
        refs = _image_refs(scan, locator.image)
        _refuse_ambiguous(scan, locator.image, refs, all_matches)
        return [_reference_splice(scan, ref, value, ref.name) for ref in refs]
    splices: list[_Splice] = []
    for marked in _marked(scan, locator):
        parts = _marked_reference(scan, marked, locator)
        if parts is not None:
            name, tag, digest = parts
            ref = Ref(marked.start, marked.start + len(name), marked.end, name, tag, digest)
            splices.append(_reference_splice(scan, ref, value, _marker_path(locator)))
        else:
            splices.append(_tag_splice(scan, marked, value, locator, digest_anywhere))
    return splices


# ---- locating --------------------------------------------------------------------------------------


def _image_refs(scan: Scan, repo: str) -> list[Ref]:
    """Return the references to `repo`; refuse one whose tag the template writes, or finding none."""
    try:
        imageref.parse(repo)
    except InputError as exc:
        raise YamlEditError(f"--image: {exc.message}") from None
    refs, _, _ = references(scan, repo)
    problem = templated(scan, repo)
    if problem is not None:
        raise problem
    if refs:
        return refs
    raise scan.error(
        None,
        f"no reference to {repo} found: looked for {repo}:TAG and {repo}:TAG@sha256:… "
        "outside template actions and # comments",
    )


def _refuse_ambiguous(scan: Scan, repo: str, refs: list[Ref], all_matches: bool) -> None:
    tags = {ref.old for ref in refs}
    if len(tags) < 2 or all_matches:
        return
    where = ", ".join(f"line {scan.lines.line(ref.start)} ({ref.old})" for ref in refs)
    raise scan.error(
        refs[1].start,
        f"{repo} is referenced with different tags: {where}: pass --all to set every one, "
        "or mark the line to change with '# updater: NAME' and use --marker",
    )


def _marked(scan: Scan, locator: Locator) -> list[Marked]:
    assert locator.marker is not None
    marked = marked_values(scan, locator.marker)
    if not marked:
        raise scan.error(
            None,
            f"no line marked '# updater: {locator.marker}' (or a Flux setter for it) "
            "outside template actions",
        )
    return marked


def _marked_reference(
    scan: Scan, marked: Marked, locator: Locator
) -> tuple[str, str | None, str | None] | None:
    """Return the marked value split as an image reference, or None for a bare tag (as in YAML)."""
    whole = marked.whole or "/" in marked.value
    parts = split_reference(marked.value, bare=whole)
    if whole and parts is None:
        raise scan.error(
            marked.start, f"the value marked {locator.marker} is not an image reference: {marked.value!r}"
        )
    return parts


def _tag_part(parts: tuple[str, str | None, str | None]) -> str | None:
    return "@".join(x for x in parts[1:] if x) or None


def _marker_path(locator: Locator) -> str:
    return f"marker {locator.marker}"


# ---- splicing --------------------------------------------------------------------------------------


def _reference_splice(scan: Scan, ref: Ref, value: str, path: str) -> _Splice:
    """Return the splice of a reference's TAG[@DIGEST]; refuse to unpin a pinned digest."""
    if DIGEST.fullmatch(value):
        suffix = f"@{value}"
    elif ref.digest and "@" not in value:
        raise scan.error(
            ref.start,
            f"{scan.text[ref.start : ref.end]} pins a digest: "
            "give TAG@sha256:DIGEST so the digest matches the new tag",
        )
    else:
        suffix = f":{value}"
    line = scan.lines.line(ref.start)
    return _Splice(ref.name_end, ref.end, suffix, Change(path, 0, line, ref.old, value))


def _tag_splice(scan: Scan, marked: Marked, value: str, locator: Locator, digest_anywhere: bool) -> _Splice:
    """Return the splice of a marked bare tag, in its quote style (plain falls back to "…" as in YAML)."""
    old = marked.value
    bare = DIGEST.fullmatch(value) is not None
    pinned = TAG_AT_DIGEST.fullmatch(value) is not None
    holds = DIGEST.fullmatch(old) if bare else TAG_AT_DIGEST.fullmatch(old)
    if not digest_anywhere and (bare or pinned) and not holds:
        raise scan.error(
            marked.start,
            f"the value marked {locator.marker} holds {old!r}, not "
            f"{'a digest' if bare else 'an image reference'}: {value} fits only an image reference "
            "or a value that already holds one; give a tag",
        )
    written = render(value, marked.style, flow=False) if not marked.style else value
    retyped = old == value and written != old
    change = Change(_marker_path(locator), 0, marked.line, old, value, retyped)
    return _Splice(marked.start, marked.end, written, change)


# ---- verification ----------------------------------------------------------------------------------


def _verify(scan: Scan, new_text: str, locator: Locator, splices: list[_Splice], value: str) -> None:
    """Scan `new_text` again; refuse unless only the target values differ from `scan`'s text."""
    first = min(splices, key=lambda s: s.start)
    try:
        after = Scan(new_text, scan.source)
        problem = _difference(scan, after, locator, splices, value)
    except YamlEditError as exc:
        problem = exc.message
    if problem is not None:
        raise scan.error(
            first.start,
            f"the text edit of {first.change.path} did not verify ({problem}); nothing was written. "
            "Please report this file",
        )


def _difference(
    before: Scan, after: Scan, locator: Locator, splices: list[_Splice], value: str
) -> str | None:
    """Return what differs beyond the targets between two scans, or None."""
    if after.action_texts() != before.action_texts():
        return "a template action changed"
    old_lines = before.text.splitlines(keepends=True)
    new_lines = after.text.splitlines(keepends=True)
    if len(old_lines) != len(new_lines):
        return "the number of lines changed"
    edited = {s.change.line for s in splices}
    if any(o != n for i, (o, n) in enumerate(zip(old_lines, new_lines, strict=True), 1) if i not in edited):
        return "a line without a target changed"
    if locator.image is not None:
        old_refs, _, old_inside = references(before, locator.image)
        new_refs, glued, inside = references(after, locator.image)
        if glued or len(new_refs) != len(old_refs) or len(inside) != len(old_inside):
            return "the references found differ"
        for old, new in zip(old_refs, new_refs, strict=True):
            if (before.lines.line(old.start), old.name) != (after.lines.line(new.start), new.name):
                return "a reference moved"
            if new.old != value:
                return f"{new.name} reads {new.old!r}, not {value!r}"
        return None
    assert locator.marker is not None
    old_marked = marked_values(before, locator.marker)
    new_marked = marked_values(after, locator.marker)
    if [m.line for m in old_marked] != [m.line for m in new_marked]:
        return "the marked lines differ"
    for was, now in zip(old_marked, new_marked, strict=True):
        bare = was.whole or "/" in was.value
        reference = split_reference(was.value, bare=bare) is not None
        parts = split_reference(now.value, bare=bare) if reference else None
        if reference and parts is None:
            return f"the value marked {locator.marker} is no longer an image reference"
        got = _tag_part(parts) if parts is not None else now.value
        if got != value:
            return f"the value marked {locator.marker} reads {got!r}, not {value!r}"
    return None
