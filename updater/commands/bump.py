"""`updater bump`: write each app's newly resolved tag into one environment, in one commit."""

from __future__ import annotations

import os
import sys
from typing import Any

import click

from updater.commands.deploy_options import bar, deploy_options, finish, progress, waiting
from updater.commands.github_options import GITHUB_PARAMS, auth_from_options, write_options
from updater.commands.options import (
    ci_options,
    registry_options_from_options,
    strategy_from_options,
    strategy_given,
    strategy_options,
)
from updater.commands.session import session
from updater.flows import deployed
from updater.flows.bump import bump
from updater.flows.plan import with_mode
from updater.flows.registries import Registries, registry_options
from updater.infra.errors import InputError
from updater.resolve import Strategy, commit_sha


@click.command("bump")
@click.option("--env", "env", required=True, help="Environment to bump, e.g. staging.")
@click.option("--app", "apps", multiple=True, help="App to bump (repeatable); default: every app of the env.")
@click.option("--all", "all_apps", is_flag=True, help="Bump every app that has files in the environment.")
@strategy_options
@ci_options
@click.option("--allow-downgrade", is_flag=True, help="Write a tag older than the current one.")
@write_options
@deploy_options
def command(
    env: str,
    apps: tuple[str, ...],
    all_apps: bool,
    dry_run: bool,
    as_json: bool,
    allow_downgrade: bool,
    branch: str | None,
    run: str | None,
    mode: str | None,
    wait_merged: float | None,
    config_path: str | None,
    **options: Any,
) -> None:
    """Resolve each app's new immutable tag and write it into ENV's values files: ONE commit.

    The tag strategy comes from the config (environment `tag`, or the app's own); strategy flags
    given here override it for this run.
    """
    if apps and all_apps:
        raise InputError("give --app NAME (repeatable) or --all, not both")
    how = waiting(options)

    def override(base: Strategy) -> Strategy:
        return strategy_from_options(base, **options)

    github = auth_from_options(**{name: options.pop(name) for name in GITHUB_PARAMS})
    with session(config_path, github=github) as (config, backend):
        config = with_mode(config, env, mode)
        if how is not None:
            deployed.check(config, env, dry_run=dry_run, wait_merged=wait_merged, environ=os.environ)
        source = commit_sha(options.get("sha"), cwd=str(config.root))
        registries = Registries(config, registry_options_from_options(registry_options(config), **options))
        report = bump(
            config,
            backend,
            env,
            apps,
            sha=source,
            branch=branch,
            run=run,
            override=override if strategy_given(**options) else None,
            registries=registries,
            dry_run=dry_run,
            allow_downgrade=allow_downgrade,
            wait_merged=wait_merged,
            progress=_progress,
        )

        def wait() -> deployed.DeployReport:
            assert how is not None
            return deployed.after_write(config, backend, report, how, os.environ, progress, tick=bar)

        finish(report, as_json, wait if how else None)


def _progress(message: str) -> None:
    if sys.stderr.isatty():
        click.echo(message, err=True)
