"""`history`: the tags an app had over time in one environment, from its values file's git history.

The reading itself is `flows.read.history` (rollback starts from it too); this module renders it.
"""

from __future__ import annotations

from collections.abc import Sequence

from updater.flows.read import Entry, history
from updater.flows.report import table, when

__all__ = ["Entry", "history", "render"]


def render(entries: Sequence[Entry]) -> str:
    """Return the history table: TAG, COMMIT, AUTHOR, DATE (newest first)."""
    rows = [[e.tag, e.commit[:12], e.author, when(e.date)] for e in entries]
    return table(["TAG", "COMMIT", "AUTHOR", "DATE"], rows)
