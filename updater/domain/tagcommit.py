"""Tags and the source commit they were built from, read through a tag template.

A template such as `stage-{sha:8}-*` says how CI spells a build of a commit; read backwards it says
which commit a tag was built from (`stage-1a2b3c4d-1776072918` -> `1a2b3c4d`), and filled with that
commit it gives the pattern of the same build in another family (`prod-{sha:8}-*` -> `prod-1a2b3c4d-*`).
This is what lets `promote` carry the commit from one environment to the next, not the tag string.
Pure functions over strings.
"""

from __future__ import annotations

import re

_FIELD = re.compile(r"\{(\w+)(?::(\d+))?\}")
# What an open part of a tag may hold: the tag grammar's characters.
_OPEN = "[A-Za-z0-9_.-]*"
_SHA_ANY = (7, 40)


class CommitUnknown(ValueError):
    """The template needs more of the commit than is known (e.g. `{sha}` when only 8 digits are)."""


def has_commit(template: str | None) -> bool:
    """True when the template spells the commit (`{sha}` or `{sha:N}`)."""
    return bool(template) and any(m[1] == "sha" for m in _FIELD.finditer(template or ""))


def pattern(template: str, *, app: str, env: str, sha: str | None = None) -> re.Pattern[str]:
    """Return a regex that fully matches the tags `template` spells, the commit in group `sha`.

    `{app}` and `{env}` are literal; `{branch}`, `{run}` and `*` are open; `{sha:N}` is N hex digits
    (`{sha}` 7 to 40), or the known `sha`'s first N when given.
    """
    parts: list[str] = []
    named = False
    position = 0
    for match in _FIELD.finditer(template):
        parts.append(_literal(template[position : match.start()]))
        position = match.end()
        name, width = match[1], match[2]
        if name == "app":
            parts.append(re.escape(app))
        elif name == "env":
            parts.append(re.escape(env))
        elif name == "sha":
            if sha is not None:
                body = re.escape(sha[: int(width)] if width else sha)
            else:
                low, high = (int(width), int(width)) if width else _SHA_ANY
                body = f"[0-9a-f]{{{low},{high}}}"
            parts.append(body if named else f"(?P<sha>{body})")
            named = True
        else:
            parts.append(_OPEN)
    parts.append(_literal(template[position:]))
    return re.compile("".join(parts))


def _literal(text: str) -> str:
    return _OPEN.join(re.escape(piece) for piece in text.split("*"))


def commit_of(template: str | None, tag: str, *, app: str, env: str) -> tuple[str, bool] | None:
    """Return (commit, complete) for the build `tag` names, or None.

    The commit has as many hex digits as the template spells; `complete` is True when that is the
    whole commit as CI spells it (`{sha}`, or 40 digits). None when the template does not spell the
    commit, or the tag is not one the template makes (written by hand, or under an older scheme).
    """
    if not template or not has_commit(template):
        return None
    match = pattern(template, app=app, env=env).fullmatch(tag)
    if not match:
        return None
    first = next(m for m in _FIELD.finditer(template) if m[1] == "sha")
    return match["sha"], first[2] is None or len(match["sha"]) >= 40


def render_for(template: str, sha: str, *, app: str, env: str, complete: bool = False) -> str:
    """Return `template` filled for commit `sha`, `{branch}`/`{run}` left open (`*`): a resolve template.

    `complete`: `sha` is the commit as CI spells it in `{sha}` (read from a `{sha}` field or a full
    40-digit commit), not a prefix. Raises CommitUnknown when the template needs more than is known.
    """

    def fill(match: re.Match[str]) -> str:
        name, width = match[1], match[2]
        if name == "sha":
            if width is None and complete:
                return sha
            needed = int(width) if width else 40
            if len(sha) < needed:
                raise CommitUnknown(
                    f"{template!r} needs {needed} hex digits of the commit; only {len(sha)} are known ({sha})"
                )
            return sha[:needed]
        if name == "app":
            return app
        if name == "env":
            return env
        return "*"

    return _FIELD.sub(fill, template)


def matches(template: str, tag: str, *, app: str, env: str) -> bool:
    """True when `tag` is one `template` spells (any commit, open parts anything)."""
    return pattern(template, app=app, env=env).fullmatch(tag) is not None
