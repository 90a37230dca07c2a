"""`updater status`: which tag runs where, and whether the registry has a newer one."""

from __future__ import annotations

import os
from typing import Any

import click

from updater.commands.github_options import auth_from_options, github_options
from updater.commands.options import ci_options
from updater.commands.session import session
from updater.flows import live as live_status
from updater.flows.status import render, status
from updater.infra.cienv import ci_branch, ci_run
from updater.infra.errors import UpdaterError


@click.command("status")
@click.option("--env", "envs", multiple=True, help="Environment to show (repeatable); default: all.")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object on stdout.")
@click.option(
    "--live", "with_live", is_flag=True, help="Add what Argo CD runs (one list call) and drift flags."
)
@ci_options
@github_options
@click.option("--config", "config_path", type=click.Path(dir_okay=False), help="Path of .updater.yaml.")
def command(
    envs: tuple[str, ...],
    as_json: bool,
    with_live: bool,
    branch: str | None,
    run: str | None,
    config_path: str | None,
    **github: Any,
) -> None:
    """Show a table of app x environment: the tag in git, the newest matching tag, behind or not."""
    import json

    with session(config_path, github=auth_from_options(**github)) as (config, backend):
        rows = status(
            config, backend, envs, branch=ci_branch(os.environ, branch), run=ci_run(os.environ, run)
        )
        images = {
            (name, env): image for name, app in config.apps.items() for env, image in app.images.items()
        }
        seen = live_status.live(config, rows, os.environ, images) if with_live else None
    if as_json:
        found = [{**row.to_json(), **(seen[i].to_json() if seen else {})} for i, row in enumerate(rows)]
        click.echo(json.dumps({"command": "status", "rows": found}, indent=2))
    else:
        click.echo(live_status.render(seen) if seen else render(rows), nl=False)
    failed = [row for row in rows if row.error]
    if failed:
        # Every row is printed first; the exit code then says the table is incomplete, and why:
        # 2 when a config or values file needs fixing, else 1 (a registry or GitHub failure).

        first = failed[0]
        more = f" (and {len(failed) - 1} more)" if len(failed) > 1 else ""
        raise UpdaterError(
            f"status of {first.app} ({first.env}): {first.error}{more}",
            exit_code=max(row.exit_code or 1 for row in failed),
        )
