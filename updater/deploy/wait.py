"""Wait until Argo CD has deployed our commit to each Application and it is healthy.

The first read of each app asks for a refresh (`?refresh=normal`): Argo CD reconciles at once and
answers with the refreshed app, instead of noticing the commit at its next git poll (3 minutes by
default). Later reads are plain GETs, polled with a growing interval (0.5 s up to 5 s, back to 0.5 s
on every change), and the refresh is repeated every 30 s while Argo CD has not compared our commit.
Each app is judged by `decide` (the pure success rule). A manual-sync app is synced to our commit
when the caller allows it (`sync`), at most three times, each only after a read showed that no
operation for our revision had started: the POST is never resent blindly.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from updater.deploy.application import Application, printable
from updater.deploy.argocd import ArgoCD
from updater.deploy.decide import (
    FINAL,
    HEALTHY,
    NEEDS_SYNC,
    SYNCED,
    Expectation,
    Verdict,
    decide,
    revisions_to_check,
)

TIMEOUT = "timeout"
POLL_MIN, POLL_MAX, REFRESH_EVERY, MAX_SYNCS = 0.5, 5.0, 30.0, 3

# (our commit, a revision) -> does the revision descend from our commit? Answered with git.
Ancestry = Callable[[str, str], bool]


@dataclass(frozen=True)
class Watch:
    """One Application to wait for: updater's app and env, Argo CD's name, and what we expect."""

    app: str
    env: str
    name: str
    want: Expectation
    namespace: str = ""
    project: str = ""


@dataclass
class Deployment:
    """How the wait ended for one app: the last verdict and what Argo CD last said."""

    watch: Watch
    verdict: Verdict = field(default_factory=lambda: Verdict("waiting", "not read yet"))
    app: Application | None = None
    synced_after: float | None = None
    healthy_after: float | None = None
    syncs: int = 0

    @property
    def ok(self) -> bool:
        return self.verdict.state == HEALTHY

    def to_json(self) -> dict[str, Any]:
        app = self.app
        return {
            "app": self.watch.app,
            "env": self.watch.env,
            "application": self.watch.name,
            "state": self.verdict.state,
            "reason": self.verdict.reason,
            "commit": self.watch.want.commit,
            "tag": self.watch.want.tag,
            "revision": ",".join(app.revisions) if app else None,
            "sync": app.sync_status if app else None,
            "health": app.health if app else None,
            "images": list(app.images) if app else [],
            "synced_after": _round(self.synced_after),
            "healthy_after": _round(self.healthy_after),
            "sync_requested": self.syncs > 0,
        }


def wait(
    client: ArgoCD,
    watches: Sequence[Watch],
    *,
    timeout: float,
    sync: bool,
    ancestry: Ancestry,
    progress: Callable[[str], None],
    tick: Callable[[float, float, int], None] | None = None,
    clock: Callable[[], float] = time.monotonic,
    sleep: Callable[[float], None] = time.sleep,
) -> list[Deployment]:
    """Poll every watched app until each is final (or needs a sync we may not do) or `timeout` passes.

    `progress` gets one line per app per state change; `tick`, if given, is called before each pause.
    """
    start = clock()
    known: dict[tuple[str, str], bool] = {}

    def descends(commit: str, revision: str) -> bool:
        if (commit, revision) not in known:
            known[(commit, revision)] = ancestry(commit, revision)
        return known[(commit, revision)]

    results = [Deployment(w) for w in watches]
    pending = list(results)
    refreshed: dict[str, float] = {}
    interval = POLL_MIN
    while pending:
        changed = False
        for item in list(pending):
            w = item.watch
            now = clock()
            refresh = not item.verdict.ours and now - refreshed.get(w.name, -REFRESH_EVERY) >= REFRESH_EVERY
            if refresh:
                refreshed[w.name] = now
            app = client.get(w.name, namespace=w.namespace, project=w.project, refresh=refresh)
            answers = {r: descends(w.want.commit, r) for r in revisions_to_check(app, w.want.commit)}
            verdict = decide(app, w.want, answers)
            elapsed = clock() - start
            if verdict.state in (SYNCED, HEALTHY) and item.synced_after is None:
                item.synced_after = elapsed
            if verdict.state == HEALTHY:
                item.healthy_after = elapsed
            if verdict != item.verdict:
                changed = True
                progress(f"argocd: {w.app} ({w.env}, {printable(w.name)}): {verdict.state}: {verdict.reason}")
            item.app, item.verdict = app, verdict
            if verdict.state == NEEDS_SYNC and sync and item.syncs < MAX_SYNCS:
                item.syncs += 1
                client.sync(w.name, w.want.commit, namespace=w.namespace, project=w.project)
                target = f"{printable(w.name)} to {w.want.commit[:12]}"
                progress(f"argocd: {w.app} ({w.env}): asked Argo CD to sync {target}")
                changed = True
                continue
            if verdict.state in FINAL or verdict.state == NEEDS_SYNC:
                pending.remove(item)
        if not pending:
            break
        left = timeout - (clock() - start)
        if left <= 0:
            for item in pending:
                reason = f"not deployed after {timeout:g}s: {item.verdict.reason}"
                item.verdict = Verdict(TIMEOUT, reason, item.verdict.ours)
            break
        interval = POLL_MIN if changed else min(POLL_MAX, interval * 1.5)
        if tick is not None:  # (seconds waited, the deadline, apps still pending): a progress bar
            tick(timeout - left, timeout, len(pending))
        sleep(min(interval, left))
    return results


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 1)
