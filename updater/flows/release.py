"""`release`: lift the hold a rollback put on an app in one environment, in one commit (or PR).

The hold lives in `flows.holds`' state file; lifting it goes through the one write path, so it lands
like any other change of the environment (its mode, its branch, one commit).
"""

from __future__ import annotations

from dataclasses import replace

from updater.config.model import Config
from updater.flows import holds
from updater.flows import plan as planning
from updater.flows.report import WriteReport
from updater.flows.write import Extra, write
from updater.infra.errors import InputError
from updater.scm.base import Backend


def release(
    config: Config,
    backend: Backend,
    env: str,
    app: str,
    *,
    dry_run: bool = False,
    wait_merged: float | None = None,
) -> WriteReport:
    """Remove the hold of `app` in `env`; an app that is not held is an input error (exit 2)."""
    item = planning.plan(config, env, [app], writing=False)[0]
    planning.check_wait_merged(config, env, wait_merged)
    hold = holds.of_env(config, backend, env).get((env, app))
    if hold is None:
        raise InputError(f"app {app!r} ({env}) is not held: nothing to release")
    extra = Extra(
        holds.lifting(env, app, item.branch),
        title=f"release {env}: {app}",
        lines=(f"- {app} ({env}): hold lifted (it was {hold.describe()})",),
        apps=(f"{app}-release",),  # its own PR head: a pending bump PR of the app stays as it is
    )
    report = write(config, backend, "release", env, [], dry_run=dry_run, wait_merged=wait_merged, extra=extra)
    note = f"{app} ({env}): hold lifted (it was {hold.describe()}); bump will update it again"
    return replace(report, notes=(note, *report.notes))
