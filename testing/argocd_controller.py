"""Argo CD's application controller, simulated over a real bare git repository.

What is modelled, and where Argo CD documents or implements it:
- Reconciliation: the controller compares the live state with the manifests at the head of
  `spec.source.targetRevision` every `timeout.reconciliation` (180 s by default), or at once when the
  app is refreshed (https://argo-cd.readthedocs.io/en/stable/faq/#how-often-does-argo-cd-check-for-changes-to-my-git-or-helm-repository,
  https://argo-cd.readthedocs.io/en/stable/user-guide/auto_sync/). `status.sync.revision` is the
  revision last COMPARED against (the branch head), so it moves on before any sync has happened;
  `status.sync.status` is Synced only when the live images equal the ones at that revision.
- Automated sync: an OutOfSync app with `syncPolicy.automated` gets one sync operation per new
  revision (a failed auto-sync is not retried for the same revision); `selfHeal` also re-syncs when
  the cluster drifts from an unchanged revision (user-guide/auto_sync "Automatic Self-Healing").
  Without `automated` the app stays OutOfSync until someone syncs it (POST .../sync).
- Operations: `operation` is set while a sync runs and cleared when it ends; `status.operationState`
  keeps phase Running → Succeeded/Failed, startedAt/finishedAt and `syncResult.revision`; a
  successful sync appends to `status.history` (server/application/application.go Sync,
  controller/appcontroller.go; `argocd app wait` waits on the same fields, cmd/argocd/commands/app.go
  checkAppWaitConditions). A second sync while one runs fails with "another operation is already in
  progress" (util/argo/argo.go ErrAnotherOperationInProgress, gRPC FailedPrecondition → HTTP 400).
- Health: after a sync changes images the app is Progressing for `health_delay`, then Healthy, or
  Degraded when a deployed tag matches `degraded_tags` (a Deployment that exceeded its progress
  deadline, https://argo-cd.readthedocs.io/en/stable/operator-manual/health/).
- `status.summary.images`: the images of the live resources, here the images the values files named at
  the synced revision (ImageSource: a repository plus the key path of its tag in a values file).
"""

from __future__ import annotations

import re
import subprocess
import threading
import time
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.error import YAMLError

DESTINATION = {"server": "https://kubernetes.default.svc", "name": "in-cluster"}
CHART_REPO = "https://charts.example.test"


class OperationInProgress(Exception):
    """A sync was requested while another operation runs."""


class UnknownRevision(Exception):
    """A sync named a revision the repository does not have."""


@dataclass(frozen=True)
class ImageSource:
    """A container image whose tag lives at `key` (dot-separated) of values file `file` (repo root)."""

    repository: str
    file: str
    key: str


@dataclass(frozen=True)
class AppSpec:
    """One Application: where its source lives and how it syncs."""

    name: str
    path: str
    value_files: tuple[str, ...]
    images: tuple[ImageSource, ...]
    project: str = "default"
    namespace: str = "argocd"
    target_revision: str = "main"
    automated: bool = True
    self_heal: bool = False
    labels: Mapping[str, str] = field(default_factory=dict)
    multi_source: bool = False  # chart from a Helm repo, values from git (spec.sources, sync.revisions)


@dataclass
class _Operation:
    revision: str
    automated: bool
    started: float
    due: float


@dataclass
class AppState:
    spec: AppSpec
    uid: str
    created: float
    live_images: list[str] = field(default_factory=list)
    sync_status: str = "Unknown"
    compared: str = ""
    health: str = "Missing"
    health_message: str = ""
    health_since: float = 0.0
    health_due: float | None = None
    operation: _Operation | None = None
    op_state: dict[str, Any] | None = None
    history: list[dict[str, Any]] = field(default_factory=list)
    last_auto: str | None = None
    reconciled: float | None = None
    next_reconcile: float = 0.0
    version: int = 1


def stamp(t: float) -> str:
    """Return `t` as Kubernetes writes times (RFC 3339, seconds, UTC)."""
    return datetime.fromtimestamp(t, tz=timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


class Controller:
    """The application controller for every app of one bare repository; thread-safe."""

    def __init__(
        self,
        bare: Path,
        apps: list[AppSpec],
        *,
        reconcile_interval: float = 180.0,
        sync_delay: float = 1.0,
        health_delay: float = 1.0,
        degraded_tags: str | None = None,
        failed_tags: str | None = None,
        refresh_lag: float = 0.0,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.bare = bare
        self.repo_url = f"file://{bare}"
        self.interval = reconcile_interval
        self.sync_delay = sync_delay
        self.health_delay = health_delay
        self.degraded = re.compile(degraded_tags) if degraded_tags else None
        self.failed = re.compile(failed_tags) if failed_tags else None
        self.clock = clock
        # > 0: a refresh is only queued, the controller reconciles that much later (a busy controller,
        # the stale answer of argoproj/argo-cd#10274); 0: it reconciles before answering, as the API does.
        self.refresh_lag = refresh_lag
        self.lock = threading.RLock()
        self.reconciles = 0
        now = clock()
        self.apps: dict[tuple[str, str], AppState] = {}
        for spec in apps:
            state = AppState(spec=spec, uid=str(uuid.uuid4()), created=now)
            # Start deployed and healthy at the current head, as an app that has run for a while.
            head = self.resolve(spec.target_revision)
            state.live_images = self.images_at(spec, head)
            state.health, state.health_since = "Healthy", now
            state.op_state = self._finished_state(state, _Operation(head, True, now, now), "Succeeded", "")
            state.history.append(self._history_entry(state, head, now, 0))
            state.last_auto = head
            self._reconcile(state, now)
            self.apps[(spec.namespace, spec.name)] = state

    # --- git ------------------------------------------------------------------------------------

    def resolve(self, revision: str) -> str:
        """Return the commit `revision` (branch, tag or SHA) names in the bare repo."""
        result = subprocess.run(
            ["git", "rev-parse", "--verify", "--quiet", f"{revision}^{{commit}}"],
            cwd=self.bare,
            capture_output=True,
            text=True,
        )
        if result.returncode != 0:
            raise UnknownRevision(f"unable to resolve '{revision}' to a commit SHA")
        return result.stdout.strip()

    def images_at(self, spec: AppSpec, commit: str) -> list[str]:
        """Return the images the values files name at `commit` (what a sync would run)."""
        images = []
        for source in spec.images:
            shown = subprocess.run(
                ["git", "show", f"{commit}:{source.file}"], cwd=self.bare, capture_output=True
            )
            if shown.returncode != 0:
                continue
            try:
                node: Any = YAML(typ="safe", pure=True).load(shown.stdout)
            except YAMLError:
                continue
            for part in source.key.split("."):
                node = node.get(part) if isinstance(node, dict) else None
            if isinstance(node, (str, int, float)) and str(node):
                images.append(f"{source.repository}:{node}")
        return sorted(images)

    # --- what clients and tests do ----------------------------------------------------------------

    def state(self, namespace: str, name: str) -> AppState | None:
        with self.lock:
            self.advance()
            return self.apps.get((namespace, name))

    def refresh(self, state: AppState) -> None:
        """Reconcile now (GET ...?refresh=normal|hard returns after this)."""
        with self.lock:
            self.advance()
            if self.refresh_lag > 0:
                state.next_reconcile = min(state.next_reconcile, self.clock() + self.refresh_lag)
            else:
                self._reconcile(state, self.clock())

    def sync(self, state: AppState, revision: str) -> None:
        """Start a manual sync to `revision` (default: the target revision's head)."""
        with self.lock:
            self.advance()
            if state.operation is not None:
                raise OperationInProgress("another operation is already in progress")
            commit = self.resolve(revision or state.spec.target_revision)
            self._start(state, commit, automated=False, t=self.clock())

    def patch_live(self, namespace: str, name: str, images: list[str]) -> None:
        """Change what runs in the cluster by hand (kubectl set image); the controller notices at once."""
        with self.lock:
            self.advance()
            state = self.apps[(namespace, name)]
            state.live_images = sorted(images)
            self._reconcile(state, self.clock())

    def advance(self) -> None:
        """Play every event (operation end, health change, periodic reconcile) due by now, in order."""
        with self.lock:
            now = self.clock()
            for state in self.apps.values():
                while True:
                    due = [
                        (state.operation.due if state.operation else None, self._finish),
                        (state.health_due, self._settle),
                        (state.next_reconcile, self._reconcile),
                    ]
                    ready = [(t, fn) for t, fn in due if t is not None and t <= now]
                    if not ready:
                        break
                    t, fn = min(ready, key=lambda item: item[0])
                    fn(state, t)

    # --- the controller's steps -------------------------------------------------------------------

    def _reconcile(self, state: AppState, t: float) -> None:
        self.reconciles += 1
        spec = state.spec
        head = self.resolve(spec.target_revision)
        desired = self.images_at(spec, head)
        state.compared = head
        state.sync_status = "Synced" if desired == state.live_images else "OutOfSync"
        if state.sync_status == "OutOfSync" and spec.automated and state.operation is None:
            drifted = state.op_state is not None and state.op_state["syncResult"]["revision"] == head
            if head != state.last_auto or (spec.self_heal and drifted):
                self._start(state, head, automated=True, t=t)
        state.reconciled = t
        state.next_reconcile = t + self.interval
        state.version += 1

    def _start(self, state: AppState, commit: str, *, automated: bool, t: float) -> None:
        state.operation = _Operation(commit, automated, t, t + self.sync_delay)
        if automated:
            state.last_auto = commit
        state.op_state = {
            "operation": self._operation_doc(state.operation),
            "phase": "Running",
            "message": "one or more tasks are running",
            "startedAt": stamp(t),
            "syncResult": {"revision": commit, **self._source_doc(state.spec, commit)},
        }
        state.version += 1

    def _finish(self, state: AppState, t: float) -> None:
        op = state.operation
        assert op is not None
        state.operation = None
        images = self.images_at(state.spec, op.revision)
        bad = [image for image in images if self.failed and self.failed.search(image.rpartition(":")[2])]
        if bad:
            message = f"one or more objects failed to apply, reason: admission webhook denied image {bad[0]}"
            state.op_state = self._finished_state(state, op, "Failed", message, t)
        else:
            changed = images != state.live_images
            state.live_images = images
            state.op_state = self._finished_state(
                state, op, "Succeeded", "successfully synced (all tasks run)", t
            )
            state.history.append(self._history_entry(state, op.revision, t, len(state.history)))
            if changed:
                state.health, state.health_message, state.health_since = "Progressing", "", t
                state.health_due = t + self.health_delay
        self._reconcile(state, t)

    def _settle(self, state: AppState, t: float) -> None:
        state.health_due = None
        bad = [i for i in state.live_images if self.degraded and self.degraded.search(i.rpartition(":")[2])]
        if bad:
            state.health = "Degraded"
            state.health_message = f'Deployment "{state.spec.name}" exceeded its progress deadline'
        else:
            state.health, state.health_message = "Healthy", ""
        state.health_since = t
        state.version += 1

    # --- documents --------------------------------------------------------------------------------

    def _source_doc(self, spec: AppSpec, commit: str) -> dict[str, Any]:
        if spec.multi_source:
            return {"revisions": [commit, "1.2.3"], "sources": self.sources(spec)}
        return {"source": self.sources(spec)[0]}

    def sources(self, spec: AppSpec) -> list[dict[str, Any]]:
        """Return the spec's source(s): our repo (path, helm valueFiles); a chart repo when multi-source."""
        ours = {
            "repoURL": self.repo_url,
            "path": spec.path,
            "targetRevision": spec.target_revision,
            "helm": {"valueFiles": list(spec.value_files)},
        }
        if spec.multi_source:
            return [ours, {"repoURL": CHART_REPO, "chart": spec.name, "targetRevision": "1.2.3"}]
        return [ours]

    def _operation_doc(self, op: _Operation) -> dict[str, Any]:
        initiated = {"automated": True} if op.automated else {"username": "admin"}
        return {"sync": {"revision": op.revision}, "initiatedBy": initiated}

    def _finished_state(
        self, state: AppState, op: _Operation, phase: str, message: str, t: float | None = None
    ) -> dict[str, Any]:
        doc = {
            "operation": self._operation_doc(op),
            "phase": phase,
            "startedAt": stamp(op.started),
            "finishedAt": stamp(op.due if t is None else t),
            "syncResult": {"revision": op.revision, **self._source_doc(state.spec, op.revision)},
        }
        if message:
            doc["message"] = message
        return doc

    def _history_entry(self, state: AppState, commit: str, t: float, index: int) -> dict[str, Any]:
        entry: dict[str, Any] = {"id": index, "deployStartedAt": stamp(t), "deployedAt": stamp(t)}
        if state.spec.multi_source:
            entry.update(revisions=[commit, "1.2.3"], sources=self.sources(state.spec))
        else:
            entry.update(revision=commit, source=self.sources(state.spec)[0])
        return entry
