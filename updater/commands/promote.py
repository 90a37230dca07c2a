"""`updater promote`: copy the tags running in one environment into another, in one commit."""

from __future__ import annotations

import os
from typing import Any

import click

from updater.commands.deploy_options import bar, deploy_options, finish, progress, waiting
from updater.commands.github_options import auth_from_options, write_options
from updater.commands.options import duration_value
from updater.commands.session import session
from updater.flows import deployed
from updater.flows.plan import with_mode
from updater.flows.promote import promote


@click.command("promote")
@click.option("--from", "source", help="Environment to copy from (default: the target's promote-from).")
@click.option("--to", "target", required=True, help="Environment to write, e.g. production.")
@click.option("--app", "apps", multiple=True, help="App to promote (repeatable); default: all of them.")
@click.option(
    "--wait",
    callback=duration_value,
    metavar="DURATION",
    help="Wait up to DURATION (90s, 5m) for the target's build of the source commit to appear.",
)
@click.option("--force", is_flag=True, help="Write the tag even where the target's tag policy would not.")
@write_options
@deploy_options
def command(
    source: str | None,
    target: str,
    apps: tuple[str, ...],
    wait: float | None,
    force: bool,
    dry_run: bool,
    as_json: bool,
    mode: str | None,
    wait_merged: float | None,
    config_path: str | None,
    wait_deployed: float | None,
    sync: bool,
    rollback_on_failure: bool,
    **github: Any,
) -> None:
    """Write into --to the build each app runs in --from: the target's build of the same source commit
    when the target's tag policy spells builds differently (resolved in the target image), else the
    same tag; every image must have it."""
    how = waiting({"wait_deployed": wait_deployed, "sync": sync, "rollback_on_failure": rollback_on_failure})
    with session(config_path, github=auth_from_options(**github)) as (config, backend):
        config = with_mode(config, target, mode)
        if how is not None:
            deployed.check(config, target, dry_run=dry_run, wait_merged=wait_merged, environ=os.environ)
        report = promote(
            config,
            backend,
            source,
            target,
            apps,
            dry_run=dry_run,
            wait_merged=wait_merged,
            force=force,
            wait=wait,
        )

        def wait_deployed_apps() -> deployed.DeployReport:
            assert how is not None
            return deployed.after_write(config, backend, report, how, os.environ, progress, tick=bar)

        finish(report, as_json, wait_deployed_apps if how else None)
