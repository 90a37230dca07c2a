"""`updater deployed`: wait until Argo CD runs what git holds for an environment, for pipelines that
land changes some other way."""

from __future__ import annotations

import json
import os
from typing import Any

import click

from updater.commands.deploy_options import bar, progress, render
from updater.commands.github_options import auth_from_options, github_options
from updater.commands.options import duration_value
from updater.commands.session import session
from updater.deploy.settings import Waiting
from updater.flows.deployed import deployed
from updater.infra.errors import RemoteError


@click.command("deployed")
@click.option("--env", "env", required=True, help="Environment.")
@click.option(
    "--app", "apps", multiple=True, help="App to wait for (repeatable); default: every app of the env."
)
@click.option(
    "--wait",
    "timeout",
    callback=duration_value,
    default="10m",
    show_default=True,
    metavar="DURATION",
    help="How long to wait for every app to be Synced and Healthy.",
)
@click.option("--sync", is_flag=True, help="Sync manual-sync Applications to the commit git holds.")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object on stdout.")
@github_options
@click.option("--config", "config_path", type=click.Path(dir_okay=False), help="Path of .updater.yaml.")
def command(
    env: str,
    apps: tuple[str, ...],
    timeout: float,
    sync: bool,
    as_json: bool,
    config_path: str | None,
    **github: Any,
) -> None:
    """Wait until Argo CD has deployed the newest commit of each app's values file in ENV, Healthy."""
    with session(config_path, github=auth_from_options(**github)) as (config, backend):
        result = deployed(config, backend, env, apps, Waiting(timeout, sync), os.environ, progress, tick=bar)
    if as_json:
        click.echo(json.dumps({"command": "deployed", "env": env, "deploy": result.to_json()}, indent=2))
    else:
        click.echo(render(result.deployments), nl=False)
    if not result.ok:
        raise RemoteError(result.failure())
