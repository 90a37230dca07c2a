"""`updater rollback`: write an earlier tag of an app back, found in git history."""

from __future__ import annotations

import os
from typing import Any

import click

from updater.commands.deploy_options import bar, deploy_options, finish, progress, waiting
from updater.commands.github_options import auth_from_options, write_options
from updater.commands.session import session
from updater.flows import deployed
from updater.flows.plan import with_mode
from updater.flows.rollback import rollback


@click.command("rollback")
@click.option("--env", "env", required=True, help="Environment to roll back.")
@click.option("--app", "app", required=True, help="App to roll back.")
@click.option("--to", "to", help="The earlier tag to write (must be in the app's history).")
@click.option("--steps", type=click.IntRange(min=1), help="How many tag changes to go back (default 1).")
@write_options
@deploy_options
def command(
    env: str,
    app: str,
    to: str | None,
    steps: int | None,
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
    """Write the tag APP had before (or --to TAG) into ENV, through the same one-commit path as bump."""
    how = waiting({"wait_deployed": wait_deployed, "sync": sync, "rollback_on_failure": rollback_on_failure})
    with session(config_path, github=auth_from_options(**github)) as (config, backend):
        config = with_mode(config, env, mode)
        if how is not None:
            deployed.check(config, env, dry_run=dry_run, wait_merged=wait_merged, environ=os.environ)
        report = rollback(
            config, backend, env, app, to=to, steps=steps, dry_run=dry_run, wait_merged=wait_merged
        )

        def wait() -> deployed.DeployReport:
            assert how is not None
            return deployed.after_write(config, backend, report, how, os.environ, progress, tick=bar)

        finish(report, as_json, wait if how else None)
