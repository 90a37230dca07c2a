"""`bump`: resolve each app's new tag and write every target in ONE commit (through `flows.write`)."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from updater.config.model import Config
from updater.flows import plan as planning
from updater.flows.registries import Registries, every_image, missing_error
from updater.flows.report import WriteReport
from updater.flows.write import NewValue, ci_variables, write
from updater.infra.errors import InputError
from updater.resolve import Resolution, Strategy, TemplateVars, downgrade_reason, resolve
from updater.scm.base import Backend


def bump(
    config: Config,
    backend: Backend,
    env: str,
    apps: Sequence[str] = (),
    *,
    sha: str | None = None,
    branch: str | None = None,
    run: str | None = None,
    override: Callable[[Strategy], Strategy] | None = None,
    registries: Registries | None = None,
    dry_run: bool = False,
    allow_downgrade: bool = False,
    wait_merged: float | None = None,
    progress: Callable[[str], None] | None = None,
) -> WriteReport:
    """Resolve the new tag of each app in `env` and write them all in one commit."""
    plans = planning.plan(config, env, apps)
    planning.check_wait_merged(config, env, wait_merged)
    registries = registries or Registries(config)
    values: list[NewValue] = []
    resolutions: dict[str, tuple[Strategy, Resolution]] = {}
    missing: list[tuple[str, str]] = []  # (IMAGE:TAG, app) of every image lacking its tag
    for item in plans:
        strategy = planning.strategy(item.policy)
        if override is not None:
            strategy = override(strategy)
        variables = TemplateVars(**ci_variables(sha, item.app, env, branch=branch, run=run))
        resolution = resolve(registries.get(item.image), strategy, variables, progress=progress)
        resolutions[item.app] = (strategy, resolution)
        images, lacking = every_image(registries, item.images, resolution.tag, resolution.digest)
        missing += [(reference, item.app) for reference in lacking]
        values.append(NewValue(item, resolution.tag, resolution.digest, images))
    if missing:
        raise missing_error("bump", env, missing)

    def refuse_downgrade(value: NewValue, current: str) -> None:
        if allow_downgrade:
            return
        strategy, resolution = resolutions[value.plan.app]
        reason = downgrade_reason(registries.get(value.plan.image), strategy, current, resolution)
        if reason:
            raise InputError(
                f"{value.plan.app} ({env}): refusing a downgrade: {reason}; "
                "pass --allow-downgrade to write it"
            )

    return write(
        config,
        backend,
        "bump",
        env,
        values,
        check=refuse_downgrade,
        dry_run=dry_run,
        source=sha,
        wait_merged=wait_merged,
    )
