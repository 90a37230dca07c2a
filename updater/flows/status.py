"""`status`: the tag of every app in every environment next to the newest matching tag in its registry.

The tag in git comes from `flows.read.current`, which promote and rollback share.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any

from updater.config.model import Config, TagPolicy
from updater.flows import plan as planning
from updater.flows.read import current
from updater.flows.registries import Registries
from updater.flows.report import table
from updater.infra.errors import EXIT_USAGE, UpdaterError
from updater.resolve import NoMatchingTag, Strategy, TemplateVars, resolve
from updater.scm.base import Backend


@dataclass(frozen=True)
class StatusRow:
    app: str
    env: str
    image: str
    tag: str | None
    newest: str | None
    behind: bool | None
    error: str | None = None
    exit_code: int = 0  # of the error: 1 remote (registry, git, GitHub), 2 config or input

    def to_json(self) -> dict[str, Any]:
        return {
            "app": self.app,
            "env": self.env,
            "image": self.image,
            "tag": self.tag,
            "newest": self.newest,
            "behind": self.behind,
            "error": self.error,
        }


def newest_strategy(
    strategy: Strategy, app: str, env: str, *, branch: str | None = None, run: str | None = None
) -> Strategy:
    """Return the strategy that finds the newest tag CI could have pushed: the commit left open.

    `{branch}` and `{run}` are filled in when known (--branch, CI's variables), else left open too.
    """
    if strategy.kind != "template" or not strategy.template:
        return replace(strategy, wait=0.0)
    known = TemplateVars(app=app, env=env, branch=branch, run=run)
    template = re.sub(r"\{sha(:\d+)?\}", "*", strategy.template)
    for name in ("branch", "run"):
        if getattr(known, name) is None:
            template = template.replace("{" + name + "}", "*")
    template = re.sub(r"\*+", "*", template)
    return replace(strategy, template=template, wait=0.0)


def status(
    config: Config,
    backend: Backend,
    envs: Sequence[str] = (),
    *,
    registries: Registries | None = None,
    branch: str | None = None,
    run: str | None = None,
) -> list[StatusRow]:
    """Return one row per app and environment: tag in git, newest matching tag, behind or not."""
    registries = registries or Registries(config)
    names = list(envs) or list(config.environments)
    for name in names:
        planning.environment(config, name)
    rows = []
    for app in config.apps:
        for env in names:
            item = planning.app_plan(config, app, env)
            if item is None:
                continue
            try:
                now = current(config, backend, item)
            except UpdaterError as exc:
                rows.append(StatusRow(app, env, item.image, None, None, None, exc.message, exc.exit_code))
                continue
            strategy = newest_strategy(
                planning.strategy(_policy(config, item)), app, env, branch=branch, run=run
            )
            variables = TemplateVars(app=app, env=env, branch=branch, run=run)
            try:
                found = resolve(registries.get(item.image), strategy, variables)
            except NoMatchingTag:
                error = "no matching tag in the registry"
                rows.append(StatusRow(app, env, item.image, now.tag, None, None, error, EXIT_USAGE))
                continue
            except UpdaterError as exc:
                rows.append(StatusRow(app, env, item.image, now.tag, None, None, exc.message, exc.exit_code))
                continue
            rows.append(StatusRow(app, env, item.image, now.tag, found.tag, now.tag != found.tag))
    return rows


def _policy(config: Config, item: planning.AppPlan) -> TagPolicy:
    """Return the policy that says what is newest; an env fed only by promotion uses its source's."""
    source = config.environments[item.env].promote_from
    if item.policy.kind == "template" and not item.policy.template and source:
        origin = planning.app_plan(config, item.app, source)
        if origin is not None:
            return origin.policy
    return item.policy


def render(rows: Sequence[StatusRow]) -> str:
    """Return the status table: APP, ENV, TAG IN GIT, NEWEST, STATE."""
    cells = []
    for row in rows:
        state = "error: " + row.error if row.error else ("behind" if row.behind else "up to date")
        cells.append([row.app, row.env, row.tag or "-", row.newest or "-", state])
    return table(["APP", "ENV", "TAG IN GIT", "NEWEST IN REGISTRY", "STATE"], cells)
