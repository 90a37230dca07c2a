"""`updater release`: lift the hold a rollback put on an app, so that bump updates it again."""

from __future__ import annotations

from typing import Any

import click

from updater.commands.github_options import auth_from_options, write_options
from updater.commands.session import session
from updater.flows.plan import with_mode
from updater.flows.release import release
from updater.flows.report import emit


@click.command("release")
@click.option("--env", "env", required=True, help="Environment where the app is held.")
@click.option("--app", "app", required=True, help="App to release.")
@write_options
def command(
    env: str,
    app: str,
    dry_run: bool,
    as_json: bool,
    mode: str | None,
    wait_merged: float | None,
    config_path: str | None,
    **github: Any,
) -> None:
    """Lift APP's hold in ENV (recorded by rollback in .updater/holds.yaml): one commit."""
    with session(config_path, github=auth_from_options(**github)) as (config, backend):
        config = with_mode(config, env, mode)
        report = release(config, backend, env, app, dry_run=dry_run, wait_merged=wait_merged)
    emit(report, as_json)
