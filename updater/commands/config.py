"""`updater config validate` and `updater config schema`."""

from __future__ import annotations

import json
from pathlib import Path

import click

from updater import config
from updater.config import schema as config_schema


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
def validate(config_path: Path | None) -> None:
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


@command.command("schema")
def schema() -> None:
    """Print the config's JSON Schema (draft 2020-12), e.g. for an editor's YAML language server."""
    click.echo(json.dumps(config_schema.json_schema(), indent=2))
