"""`history`: the tags an app had over time in one environment, and what each change was.

The tag changes come from `flows.read.history` (rollback starts from it too), each with its kind read
from the trailer updater writes (`Updater-Command: bump|promote|rollback|release`; anything else is a
manual edit). Releases change no tag: they are read from the holds file's history (`flows.holds`).

Both lists come newest first and are merged by commit date. Dates have one-second resolution, so a
release and the bump after it often share one (CI, scripts): only on such a tie is the backend asked
which commit descends from the other, so the common case costs no extra call.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from updater.config.model import Config
from updater.flows import holds
from updater.flows import plan as planning
from updater.flows.read import Entry, change_kind
from updater.flows.read import history as tag_history
from updater.flows.report import table, when
from updater.infra.errors import InputError
from updater.scm.base import Backend

__all__ = ["Descends", "Entry", "history", "newest_first", "render"]

# (commit, revision) -> True when revision is commit or a descendant of it.
Descends = Callable[[str, str], bool]


def history(config: Config, backend: Backend, env: str, app: str, *, limit: int = 200) -> list[Entry]:
    """Return the app's tag changes in `env` and the releases of its holds, newest first."""
    entries = tag_history(config, backend, env, app, limit=limit)
    item = planning.plan(config, env, [app], writing=False)[0]
    releases = _releases(backend, item.branch, env, app, limit)
    return newest_first(
        entries, releases, lambda commit, revision: backend.descends(item.branch, commit, revision)
    )


def newest_first(changes: Sequence[Entry], releases: Sequence[Entry], descends: Descends) -> list[Entry]:
    """Return tag changes and releases (each newest first) as one list, newest first.

    A merge, not a sort: each list keeps its own order (git's), and only a release and a tag change
    are ever compared, so ancestry is asked at most once per tie.
    """
    merged: list[Entry] = []
    i = j = 0
    while i < len(changes) and j < len(releases):
        if _newer(changes[i], releases[j], descends):
            merged.append(changes[i])
            i += 1
        else:
            merged.append(releases[j])
            j += 1
    return [*merged, *changes[i:], *releases[j:]]


def _newer(change: Entry, release: Entry, descends: Descends) -> bool:
    """True when the tag change came after the release: a later date, or on a tie a descendant of it.

    Otherwise the release goes first: it descends from the change, or neither descends from the other
    (then the old rule: a release follows the rollback that placed its hold).
    """
    if change.date != release.date:
        return change.date > release.date
    return change.commit != release.commit and descends(release.commit, change.commit)


def _releases(backend: Backend, branch: str, env: str, app: str, limit: int) -> list[Entry]:
    """Return one entry per commit that lifted a hold of the app (the held tag as its tag), newest first."""
    found: list[Entry] = []
    held: holds.Hold | None = None
    for revision in reversed(backend.history(branch, holds.HOLDS_FILE, limit)):
        try:
            now = holds.parse(revision.content, branch).get((env, app))
        except InputError:
            continue  # a version nobody could read held nothing we can name
        if held is not None and now is None:
            kind = change_kind(revision.message)
            kind = "release" if kind == "manual edit" else kind
            found.append(Entry(held.to_tag, None, revision.commit, revision.author, revision.date, kind))
        held = now
    found.reverse()
    return found


def render(entries: Sequence[Entry]) -> str:
    """Return the history table: TAG, CHANGE, COMMIT, AUTHOR, DATE (newest first)."""
    rows = [[e.tag, e.kind, e.commit[:12], e.author, when(e.date)] for e in entries]
    return table(["TAG", "CHANGE", "COMMIT", "AUTHOR", "DATE"], rows)
