"""`status`: the tag of every app in every environment next to the newest matching tag in its registry.

Also `current`, which reads the tag an app has in git today; promote and rollback start from it.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

from updater import plan as planning
from updater.errors import EXIT_USAGE, InputError, UpdaterError

if TYPE_CHECKING:
    from updater.bump import Registries
    from updater.config import Config, TagPolicy
    from updater.resolve import Strategy
    from updater.scm.base import Backend


@dataclass(frozen=True)
class Current:
    """The value of an app's first target: tag, digest (inline or from its digest key), where it is."""

    tag: str | None
    digest: str | None
    file: str
    line: int | None


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


def parse_value(text: str, item: planning.AppPlan, source: str) -> tuple[str | None, str | None, int | None]:
    """Return (tag, digest, line) of the plan's first target; digest from tag@sha256:... or its key."""
    from updater.yamledit import Locator, get_values

    target = item.targets[0]
    found = get_values(text, planning.locator(target), source=source)
    if not found or found[0].value is None:
        return None, None, found[0].line if found else None
    value = found[0].value
    tag, _, digest = value.partition("@")
    if "/" in tag or ":" in tag:  # an image locator may give the whole reference: keep its tag
        _, colon, tag = tag.rpartition(":")
        tag = tag if colon and "/" not in tag else ""
    if target.digest_key and not digest:
        at = Locator(key=target.digest_key, document=found[0].document)
        digests = get_values(text, at, source=source)
        digest = (digests[0].value or "") if digests else ""
    return tag or None, digest or None, found[0].line


def current(config: Config, backend: Backend, item: planning.AppPlan) -> Current:
    """Return the tag `item` has at the head of its environment's branch."""
    from updater.yamledit import YamlEditError

    target = item.targets[0]
    data = backend.read(item.branch, target.file)
    where = planning.where(config, target)
    if data is None:
        raise InputError(
            f"{where}: app {item.app!r} ({item.env}): {target.file} does not exist on branch {item.branch}: "
            "fix the path in the config (relative to the repository root)"
        )
    try:
        tag, digest, line = parse_value(data.decode("utf-8", "replace"), item, target.file)
    except YamlEditError as exc:
        raise InputError(f"{where}: app {item.app!r} ({item.env}): {exc.message}") from exc
    return Current(tag, digest, target.file, line)


def newest_strategy(strategy: Strategy, app: str, env: str) -> Strategy:
    """Return the strategy that finds the newest tag CI could have pushed: the commit left open."""
    if strategy.kind != "template" or not strategy.template:
        return replace(strategy, wait=0.0)
    template = re.sub(r"\{sha(:\d+)?\}|\{run\}|\{branch\}", "*", strategy.template)
    template = template.replace("{app}", app).replace("{env}", env)
    return replace(strategy, template=template, wait=0.0)


def status(
    config: Config, backend: Backend, envs: Sequence[str] = (), *, registries: Registries | None = None
) -> list[StatusRow]:
    """Return one row per app and environment: tag in git, newest matching tag, behind or not."""
    from updater.bump import Registries
    from updater.resolve import NoMatchingTag, TemplateVars, resolve

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
            strategy = newest_strategy(planning.strategy(_policy(config, item)), app, env)
            try:
                found = resolve(registries.get(item.image), strategy, TemplateVars(app=app, env=env))
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
    from updater.report import table

    cells = []
    for row in rows:
        state = "error: " + row.error if row.error else ("behind" if row.behind else "up to date")
        cells.append([row.app, row.env, row.tag or "-", row.newest or "-", state])
    return table(["APP", "ENV", "TAG IN GIT", "NEWEST IN REGISTRY", "STATE"], cells)
