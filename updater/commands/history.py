"""`updater history`: the tags an app had in one environment, with commit, author and date."""

from __future__ import annotations

from typing import Any

import click

from updater.commands.github_options import auth_from_options, github_options
from updater.commands.session import session
from updater.flows.history import history, render


@click.command("history")
@click.option("--env", "env", required=True, help="Environment.")
@click.option("--app", "app", required=True, help="App.")
@click.option(
    "--limit", type=click.IntRange(min=1), default=200, show_default=True, help="Commits to look at."
)
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object on stdout.")
@github_options
@click.option("--config", "config_path", type=click.Path(dir_okay=False), help="Path of .updater.yaml.")
def command(env: str, app: str, limit: int, as_json: bool, config_path: str | None, **github: Any) -> None:
    """List APP's tags in ENV over time, newest first."""
    import json

    with session(config_path, github=auth_from_options(**github)) as (config, backend):
        entries = history(config, backend, env, app, limit=limit)
    if as_json:
        payload = {"command": "history", "env": env, "app": app, "entries": [e.to_json() for e in entries]}
        click.echo(json.dumps(payload, indent=2))
    else:
        click.echo(render(entries), nl=False)
