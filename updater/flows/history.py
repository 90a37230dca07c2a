"""`history`: the tags an app had over time in one environment, and what each change was.

The tag changes come from `flows.read.history` (rollback starts from it too), each with its kind read
from the trailer updater writes (`Updater-Command: bump|promote|rollback|release`; anything else is a
manual edit). Releases change no tag: they are read from the holds file's history (`flows.holds`).
"""

from __future__ import annotations

from collections.abc import Sequence

from updater.config.model import Config
from updater.flows import holds
from updater.flows import plan as planning
from updater.flows.read import Entry, change_kind
from updater.flows.read import history as tag_history
from updater.flows.report import table, when
from updater.infra.errors import InputError
from updater.scm.base import Backend

__all__ = ["Entry", "history", "render"]


def history(config: Config, backend: Backend, env: str, app: str, *, limit: int = 200) -> list[Entry]:
    """Return the app's tag changes in `env` and the releases of its holds, newest first."""
    entries = tag_history(config, backend, env, app, limit=limit)
    item = planning.plan(config, env, [app], writing=False)[0]
    # Newest first by commit time (one-second resolution); on a tie a release goes first, as it always
    # follows the rollback that placed its hold. The sort is stable: tag changes keep git's order.
    releases = _releases(backend, item.branch, env, app, limit)
    return sorted(releases + entries, key=lambda e: e.date, reverse=True)


def _releases(backend: Backend, branch: str, env: str, app: str, limit: int) -> list[Entry]:
    """Return one entry per commit that lifted a hold of the app (the held tag as its tag)."""
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
    return found


def render(entries: Sequence[Entry]) -> str:
    """Return the history table: TAG, CHANGE, COMMIT, AUTHOR, DATE (newest first)."""
    rows = [[e.tag, e.kind, e.commit[:12], e.author, when(e.date)] for e in entries]
    return table(["TAG", "CHANGE", "COMMIT", "AUTHOR", "DATE"], rows)
