"""Has Argo CD deployed our commit, and is it healthy? A pure function of one Application's JSON.

The success rule (README "Deploy: Argo CD"): the revision Argo CD compared against
(`status.sync.revision`, or any of `revisions` for a multi-source app) is our commit or a descendant
of it, `status.sync.status` is Synced, no operation is requested or running and the last one
Succeeded (and, when it names a revision of ours, it is the one Argo CD has reconciled since),
`status.health.status` is Healthy, and `status.summary.images` includes the tag we wrote. A status
from before our commit therefore never counts, however green it looks: that is the stale answer
`argocd app wait` can give (argoproj/argo-cd#10274). Whether a revision descends from our commit
needs git, so the caller looks it up (`revisions_to_check`) and passes the answers in.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

from updater.deploy.application import Application, printable
from updater.domain import imageref
from updater.infra.errors import UpdaterError

WAITING = "waiting"
SYNCED = "synced"  # our revision is synced; health not yet Healthy
HEALTHY = "healthy"
DEGRADED = "degraded"
FAILED = "failed"
NEEDS_SYNC = "needs-manual-sync"
FINAL = frozenset({HEALTHY, DEGRADED, FAILED})


@dataclass(frozen=True)
class Expectation:
    """What we wait for: our commit, and the tag we wrote for `image` (None: not checked)."""

    commit: str
    tag: str | None = None
    image: str | None = None


@dataclass(frozen=True)
class Verdict:
    """Where one Application stands: `state` (one of the constants above) and why, in words."""

    state: str
    reason: str
    ours: bool = False  # Argo CD has compared against our commit or a descendant


def revisions_to_check(app: Application, commit: str) -> set[str]:
    """Return the revisions in `app` whose ancestry (descends from `commit`?) `decide` needs."""
    found = set(app.revisions)
    if app.operation is not None:
        found.update(app.operation.revisions)
    found.discard(commit)
    return {r for r in found if r}


def decide(app: Application, want: Expectation, descends: Mapping[str, bool]) -> Verdict:
    """Return the Verdict for `app`; `descends[r]` says whether revision r is a descendant of ours."""

    def ours(revision: str) -> bool:
        return revision == want.commit or descends.get(revision, False)

    short = want.commit[:12]
    op = app.operation
    op_ours = op is not None and any(ours(r) for r in op.revisions)
    if op is not None and op_ours and op.phase in ("Failed", "Error"):
        return Verdict(FAILED, f"sync operation {op.phase}: {op.message or 'no message'}", True)
    if not any(ours(r) for r in app.revisions):
        seen = ", ".join(r[:12] for r in app.revisions) or "none"
        return Verdict(WAITING, f"Argo CD has not compared {short} yet (at {seen})")
    running = app.operation_requested or (op is not None and op.phase in ("Running", "Terminating"))
    if running:
        return Verdict(WAITING, f"sync operation running ({app.sync_status}, {app.health})", True)
    if app.sync_status != "Synced":
        if not app.automated:
            return Verdict(NEEDS_SYNC, f"{app.sync_status} at {short} and auto-sync is off: sync it", True)
        return Verdict(WAITING, f"{app.sync_status} at {short}; waiting for the automated sync", True)
    if op is not None and op.phase != "Succeeded":
        return Verdict(WAITING, f"last sync operation {op.phase or 'unknown'}", True)
    if op is not None and op_ours and _before(app.reconciled_at, op.finished_at):
        # As `argocd app wait`: the controller reconciles once after a sync before its status is true.
        return Verdict(WAITING, "waiting for the controller to reconcile after the sync", True)
    if app.health == "Degraded":
        message = printable(app.health_message) or "no message"
        return Verdict(DEGRADED, f"Degraded: {message}", True)
    if want.tag is not None and not images_include(app.images, want.tag, want.image):
        shown = printable(", ".join(app.images) or "none")
        return Verdict(SYNCED, f"Synced, but the images Argo CD reports ({shown}) lack {want.tag}", True)
    if app.health != "Healthy":
        return Verdict(SYNCED, f"Synced, health {app.health}", True)
    return Verdict(HEALTHY, f"Synced to {short}, Healthy", True)


def split_image(image: str) -> tuple[str, str | None, str | None]:
    """Return (repository, tag, digest) of an image string as Argo CD reports it."""
    name, _, digest = image.partition("@")
    slash = name.rfind("/")
    colon = name.rfind(":")
    if colon > slash:
        return name[:colon], name[colon + 1 :], digest or None
    return name, None, digest or None


def images_include(images: tuple[str, ...], tag: str, image: str | None) -> bool:
    """True when `images` run `tag` (and its digest, when the written value pins one) of `image`.

    When some reported image is `image` itself (same normalised name), that one must carry the tag;
    otherwise (values name a mirror, or the config image is an OCI layout) any image with the tag counts.
    """
    want_tag, _, want_digest = tag.partition("@")
    parsed = [split_image(i) for i in images]
    same = [p for p in parsed if image is not None and _same_repository(p[0], image)]
    for _repo, have_tag, have_digest in same or parsed:
        if have_tag == want_tag and (not want_digest or not have_digest or have_digest == want_digest):
            return True
    return False


def _same_repository(reported: str, configured: str) -> bool:
    try:
        return imageref.parse(reported).name == imageref.parse(configured).name
    except UpdaterError:
        return False


def _before(earlier: str, later: str) -> bool:
    """True when RFC 3339 time `earlier` is before `later` (False when either is absent or unreadable)."""
    try:
        a = datetime.fromisoformat(earlier.replace("Z", "+00:00"))
        b = datetime.fromisoformat(later.replace("Z", "+00:00"))
    except ValueError:
        return False
    return a < b
