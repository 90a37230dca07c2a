"""`updater config validate` and `updater config schema`."""

from __future__ import annotations

import json
import os
from pathlib import Path

import click

from updater import config
from updater.commands.session import remote_url, session
from updater.config import schema as config_schema
from updater.flows.deploy_check import check_applications
from updater.infra.errors import InputError


@click.group("config")
def command() -> None:
    """Validate .updater.yaml or print its JSON Schema."""


@command.command("validate")
@click.option(
    "--config",
    "config_path",
    type=click.Path(path_type=Path, dir_okay=False),
    help="Config file (default: .updater.yaml found from the current directory up to the git root).",
)
@click.option(
    "--deep",
    is_flag=True,
    help="Also ask Argo CD that each Application exists and reads our repo, branch and file.",
)
def validate(config_path: Path | None, deep: bool) -> None:
    """Check the config; print "FILE: ok (N apps, M environments)" or the first error (exit 2).

    A config below the repository root adds "; paths relative to ROOT" inside the parentheses.
    """
    path = config_path if config_path is not None else config.find_config(Path.cwd())
    loaded = config.load(path)
    apps = len(loaded.apps)
    envs = len(loaded.environments)
    # Paths are relative to the repository root: say which, when it is not the config's own folder.
    root = "" if loaded.root == path.resolve().parent else f"; paths relative to {loaded.root}"
    click.echo(f"{path}: ok ({apps} app{'s' * (apps != 1)}, {envs} environment{'s' * (envs != 1)}{root})")
    if deep and loaded.deploy is not None:
        _deep_applications(path)


def _deep_applications(path: Path) -> None:
    """Print one line per app x env's Application; exit 2 when one is missing or reads elsewhere."""
    with session(str(path)) as (loaded, _backend):
        checks = check_applications(loaded, repository_url(loaded), os.environ)
    for check in checks:
        said = "ok" if check.ok else "; ".join(check.problems)
        click.echo(f"{check.app} ({check.env}): Application {check.application}: {said}")
    bad = [c for c in checks if not c.ok]
    if bad:
        first = bad[0]
        more = f" (and {len(bad) - 1} more)" if len(bad) > 1 else ""
        raise InputError(
            f"{path}: deploy: {first.app} ({first.env}): Application {first.application}: "
            f"{first.problems[0]}{more}; fix deploy.applications or the Application"
        )


def repository_url(loaded: config.Config) -> str:
    """Return the URL Argo CD should read: the GitHub repository, or the git remote."""
    if loaded.scm.provider == "github":
        server = os.environ.get("GITHUB_SERVER_URL", "https://github.com").rstrip("/")
        return f"{server}/{loaded.scm.repository or os.environ.get('GITHUB_REPOSITORY', '')}"
    return remote_url(loaded)


@command.command("schema")
def schema() -> None:
    """Print the config's JSON Schema (draft 2020-12), e.g. for an editor's YAML language server."""
    click.echo(json.dumps(config_schema.json_schema(), indent=2))
