"""`history`: the tags an app had over time in one environment, from its values file's git history."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from updater import plan as planning

if TYPE_CHECKING:
    from updater.config import Config
    from updater.scm.base import Backend


@dataclass(frozen=True)
class Entry:
    """A tag the app had, and the commit that wrote it."""

    tag: str
    digest: str | None
    commit: str
    author: str
    date: datetime

    def to_json(self) -> dict[str, Any]:
        return {
            "tag": self.tag,
            "digest": self.digest,
            "commit": self.commit,
            "author": self.author,
            "date": self.date.isoformat(),
        }


def history(config: Config, backend: Backend, env: str, app: str, *, limit: int = 200) -> list[Entry]:
    """Return the app's tags in `env`, newest first, one entry per change of value."""
    from updater.status import parse_value
    from updater.yamledit import YamlEditError

    item = planning.plan(config, env, [app], writing=False)[0]
    target = item.targets[0]
    entries: list[Entry] = []
    previous: str | None = None
    # Oldest first, so that each entry is the commit that introduced its value.
    for revision in reversed(backend.history(item.branch, target.file, limit)):
        if revision.content is None:
            continue
        try:
            tag, digest, _ = parse_value(revision.content.decode("utf-8", "replace"), item, target.file)
        except YamlEditError:
            continue  # the file had another shape then: that version cannot tell us the tag
        if tag is None or tag == previous:
            continue
        previous = tag
        entries.append(Entry(tag, digest, revision.commit, revision.author, revision.date))
    entries.reverse()
    return entries


def render(entries: Sequence[Entry]) -> str:
    """Return the history table: TAG, COMMIT, AUTHOR, DATE (newest first)."""
    from updater.report import table, when

    rows = [[e.tag, e.commit[:12], e.author, when(e.date)] for e in entries]
    return table(["TAG", "COMMIT", "AUTHOR", "DATE"], rows)
