"""`updater promote`: copy the tags running in one environment into another, in one commit."""

from __future__ import annotations

from typing import Any

import click

from updater.commands.github_options import auth_from_options, write_options
from updater.commands.session import session
from updater.flows.plan import with_mode
from updater.flows.promote import promote
from updater.flows.report import emit


@click.command("promote")
@click.option("--from", "source", help="Environment to copy from (default: the target's promote-from).")
@click.option("--to", "target", required=True, help="Environment to write, e.g. production.")
@click.option("--app", "apps", multiple=True, help="App to promote (repeatable); default: all of them.")
@click.option("--ignore-hold", is_flag=True, help="Write apps a rollback holds too (emergencies).")
@write_options
def command(
    source: str | None,
    target: str,
    apps: tuple[str, ...],
    ignore_hold: bool,
    dry_run: bool,
    as_json: bool,
    mode: str | None,
    wait_merged: float | None,
    config_path: str | None,
    **github: Any,
) -> None:
    """Copy each app's tag (and digest) from --from to --to, after checking the image exists."""
    with session(config_path, github=auth_from_options(**github)) as (config, backend):
        config = with_mode(config, target, mode)
        report = promote(
            config,
            backend,
            source,
            target,
            apps,
            dry_run=dry_run,
            wait_merged=wait_merged,
            ignore_hold=ignore_hold,
        )
    emit(report, as_json)
