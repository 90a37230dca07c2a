"""`updater rollback`: write an earlier tag of an app back, found in git history."""

from __future__ import annotations

from typing import Any

import click

from updater.commands.github_options import auth_from_options, write_options
from updater.commands.session import session
from updater.flows.plan import with_mode
from updater.flows.report import emit
from updater.flows.rollback import rollback


@click.command("rollback")
@click.option("--env", "env", required=True, help="Environment to roll back.")
@click.option("--app", "app", required=True, help="App to roll back.")
@click.option("--to", "to", help="The earlier tag to write (must be in the app's history).")
@click.option("--steps", type=click.IntRange(min=1), help="How many tag changes to go back (default 1).")
@write_options
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
    **github: Any,
) -> None:
    """Write the tag APP had before (or --to TAG) into ENV, through the same one-commit path as bump."""
    with session(config_path, github=auth_from_options(**github)) as (config, backend):
        config = with_mode(config, env, mode)
        report = rollback(
            config, backend, env, app, to=to, steps=steps, dry_run=dry_run, wait_merged=wait_merged
        )
    emit(report, as_json)
