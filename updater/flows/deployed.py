"""`deployed` and `--wait-deployed`: wait until Argo CD runs what git says; roll back when it does not.

After a write (bump, promote, rollback) the commit to wait for is the one that landed (commit mode), or
the newest commit that touched the app's values file on the environment's branch (after an auto-merge,
or when nothing changed); `updater deployed` uses the latter for every app. The tag to find in Argo
CD's images is the one git now holds. The decision itself is `updater.deploy.decide`; the ancestry
question it needs is put to the scm backend (`descends`).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from updater.config.deploy import require_deploy
from updater.config.model import Config
from updater.deploy.argocd import ArgoCD
from updater.deploy.decide import Expectation
from updater.deploy.settings import DeploySettings, Waiting
from updater.deploy.wait import Ancestry, Deployment, Watch, wait
from updater.flows import holds
from updater.flows import plan as planning
from updater.flows.read import current
from updater.flows.registries import Registries
from updater.flows.report import AppResult, WriteReport
from updater.flows.write import Extra, NewValue, write
from updater.infra.errors import InputError
from updater.scm.base import Backend

Progress = Callable[[str], None]
Tick = Callable[[float, float, int], None]


@dataclass(frozen=True)
class DeployReport:
    """Per app: how the wait ended; and the rollback written when it failed (if asked for)."""

    env: str
    deployments: tuple[Deployment, ...]
    rollback: WriteReport | None = None

    @property
    def ok(self) -> bool:
        return all(d.ok for d in self.deployments)

    def to_json(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "apps": [d.to_json() for d in self.deployments],
            "rollback": self.rollback.to_json() if self.rollback else None,
        }

    def failure(self) -> str:
        """Return one line naming each app that is not deployed, its state and Argo CD's words."""
        parts = [
            f"{d.watch.app} ({d.watch.env}, {d.watch.name}): {d.verdict.state}: {d.verdict.reason}"
            for d in self.deployments
            if not d.ok
        ]
        text = "not deployed: " + "; ".join(parts)
        if self.rollback is not None:
            back = ", ".join(f"{a.app} {a.old} -> {a.new}" for a in self.rollback.apps if a.changed)
            where = self.rollback.commit or self.rollback.pr_url or "no change needed"
            text += f"; rolled back ({back or 'nothing to change'}) in {where}"
        return text


def ancestry(backend: Backend, branch: str) -> Ancestry:
    """Return the ancestry check for `branch` through the backend (files: the same commit only)."""
    return lambda commit, revision: backend.descends(branch, commit, revision)


def last_commit(backend: Backend, item: planning.AppPlan) -> str:
    """Return the newest commit on the app's branch that touched its (first) values file."""
    revisions = backend.history(item.branch, item.targets[0].file, 1)
    if not revisions:
        raise InputError(
            f"{item.app} ({item.env}): no commit of {item.targets[0].file} on {item.branch} to wait for "
            "(the Argo CD wait needs git history: scm.provider git or github)"
        )
    return revisions[0].commit


def check(
    config: Config, env: str, *, dry_run: bool, wait_merged: float | None, environ: Mapping[str, str]
) -> None:
    """Refuse, before anything is written, a wait that could not work (exit 2, nothing changed)."""
    if dry_run:
        raise InputError("--wait-deployed waits for a change that lands: drop --dry-run")
    if config.scm.provider == "files":  # no commit, so nothing whose ancestry Argo CD's revision could show
        raise InputError(
            "--wait-deployed waits for a commit, and scm.provider files makes none: "
            "set scm.provider to git or github in .updater.yaml"
        )
    mode = planning.environment(config, env).mode
    if mode == "pull-request" or (mode == "auto-merge" and wait_merged is None):
        raise InputError(
            f"--wait-deployed needs the change on the branch Argo CD reads, but {env} uses mode {mode}: "
            "use --mode commit, or --mode auto-merge with --wait-merged"
        )
    ArgoCD(require_deploy(config).server, environ).close()  # the URL and the token variable, checked now


def after_write(
    config: Config,
    backend: Backend,
    report: WriteReport,
    how: Waiting,
    environ: Mapping[str, str],
    progress: Progress,
    registries: Registries | None = None,
    tick: Tick | None = None,
) -> DeployReport:
    """Wait for the apps a write covered; with `rollback_on_failure`, write the old tags back on failure."""
    plans = {p.app: p for p in planning.plan(config, report.env, [a.app for a in report.apps], writing=False)}
    mode = config.environments[report.env].mode
    landed = report.commit if report.changed and mode == "commit" else None
    watches = []
    for result in report.apps:
        item = plans[result.app]
        commit = landed or last_commit(backend, item)
        watches.append(_watch(require_deploy(config), item, commit, result.new))
    outcome = _wait(config, backend, report.env, watches, how, environ, progress, tick)
    if outcome.ok or not how.rollback_on_failure:
        return outcome
    back = _roll_back(config, backend, report, outcome, registries or Registries(config))
    return DeployReport(outcome.env, outcome.deployments, back)


def deployed(
    config: Config,
    backend: Backend,
    env: str,
    apps: Sequence[str],
    how: Waiting,
    environ: Mapping[str, str],
    progress: Progress,
    tick: Tick | None = None,
) -> DeployReport:
    """Wait until Argo CD has deployed what git holds for each app of `env` (the wait alone)."""
    deploy = require_deploy(config)
    watches = []
    for item in planning.plan(config, env, apps, writing=False):
        tag = current(config, backend, item).tag
        watches.append(_watch(deploy, item, last_commit(backend, item), tag))
    return _wait(config, backend, env, watches, how, environ, progress, tick)


def _watch(deploy: DeploySettings, item: planning.AppPlan, commit: str, tag: str | None) -> Watch:
    ref = deploy.ref(item.app, item.env)
    want = Expectation(commit, tag, item.image)
    return Watch(item.app, item.env, ref.name, want, ref.namespace, ref.project)


def _wait(
    config: Config,
    backend: Backend,
    env: str,
    watches: list[Watch],
    how: Waiting,
    environ: Mapping[str, str],
    progress: Progress,
    tick: Tick | None,
) -> DeployReport:
    branch = config.environments[env].branch or ""
    client = ArgoCD(require_deploy(config).server, environ)
    try:
        results = wait(
            client,
            watches,
            timeout=how.timeout,
            sync=how.sync,
            ancestry=ancestry(backend, branch),
            progress=progress,
            tick=tick,
        )
    finally:
        client.close()
    return DeployReport(env, tuple(results))


def _roll_back(
    config: Config, backend: Backend, report: WriteReport, outcome: DeployReport, registries: Registries
) -> WriteReport | None:
    """Write each failed app's previous tag back, all in ONE commit through the shared write path."""
    failed = {d.watch.app for d in outcome.deployments if not d.ok}
    olds: list[AppResult] = [a for a in report.apps if a.app in failed and a.changed and a.old]
    if not olds:
        return None
    plans = {p.app: p for p in planning.plan(config, report.env, [a.app for a in olds])}
    values = []
    for result in olds:
        item = plans[result.app]
        assert result.old is not None
        digest = registries.get(item.image).digest(result.old) if item.record_digest else None
        values.append(NewValue(item, result.old, digest))
    # A rollback that holds: the next automatic bump must not write the failed tag again.
    author = config.commit.author.name if config.commit.author else None
    placed = [holds.new_hold(report.env, r.app, r.new, r.old, author) for r in olds if r.old]
    branch = plans[olds[0].app].branch
    extra = Extra(
        holds.placing(placed, branch),
        lines=tuple(
            f"  hold: {h.describe()}, until `updater release --env {report.env} --app {h.app}`"
            for h in placed
        ),
    )
    return write(config, backend, "rollback", report.env, values, source=None, extra=extra)
