"""`updater config validate` and `updater config schema`."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import click

from updater import config
from updater.commands.github_options import auth_from_options, github_options
from updater.commands.session import remote_url, session
from updater.config import schema as config_schema
from updater.flows.deploy_check import check_applications
from updater.flows.validate import Finding
from updater.flows.validate import validate as validate_targets
from updater.infra.errors import InputError


@click.group("config")
def command() -> None:
    """Validate .updater.yaml or print its JSON Schema."""


@command.command("validate")
@click.argument("file", required=False, type=click.Path(path_type=Path, dir_okay=False))
@click.option(
    "--config",
    "config_path",
    type=click.Path(path_type=Path, dir_okay=False),
    help="Config file (default: .updater.yaml found from the current directory up to the git root).",
)
@click.option("--local", is_flag=True, help="Open the targets in the work tree instead of their branches.")
@click.option("--config-only", is_flag=True, help="Check the config file alone; open no target.")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object on stdout.")
@click.option(
    "--deep",
    is_flag=True,
    help="Also ask Argo CD that each Application exists and reads our repo, branch and file.",
)
@github_options
def validate(
    file: Path | None,
    config_path: Path | None,
    local: bool,
    config_only: bool,
    as_json: bool,
    deep: bool,
    **github: Any,
) -> None:
    """Check the config, then open every target where updater writes it: the file exists on the
    environment's branch (or in the work tree with --local) and each key, image or marker resolves
    to a value that holds a tag today (or is empty). Prints "FILE: ok (...)", or one line per problem
    and exits 2.
    """
    if file is not None and config_path is not None and file != config_path:
        raise InputError("give the config as FILE or --config FILE, not both")
    path = file or config_path or config.find_config(Path.cwd())
    loaded = config.load(path)
    counts = f"{_count(len(loaded.apps), 'app')}, {_count(len(loaded.environments), 'environment')}"
    # Paths are relative to the repository root: say which, when it is not the config's own folder.
    root = "" if loaded.root == path.resolve().parent else f"; paths relative to {loaded.root}"
    findings: list[Finding] = []
    in_tree = local or loaded.scm.provider == "files"  # the files backend reads the work tree
    if not config_only:
        with session(str(path), provider="files" if local else None, github=auth_from_options(**github)) as (
            ready,
            backend,
        ):
            findings = validate_targets(ready, backend, local=in_tree)
    problems = [finding for finding in findings if not finding.ok]
    if as_json:
        report = {
            "command": "config validate",
            "config": str(path),
            "ok": not problems,
            "apps": len(loaded.apps),
            "environments": len(loaded.environments),
            "targets": [finding.to_json() for finding in findings],
        }
        click.echo(json.dumps(report, indent=2))
    elif not problems:
        one = len(findings) == 1
        where = "in the work tree" if in_tree else ("on its branch" if one else "on their branches")
        held = f"{_count(len(findings), 'target')} hold{'s' * one} a tag {where}"
        opened = "targets not opened" if config_only else held
        click.echo(f"{path}: ok ({counts}{root}; {opened})")
    else:
        for problem in problems:
            click.echo(problem.error)
    if problems:
        more = f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""
        total = _count(len(findings), "target")
        raise InputError(f"{len(problems)} of {total} cannot be written: {problems[0].error}{more}")
    if deep and loaded.deploy is not None:
        _deep_applications(path, quiet=as_json)


def _deep_applications(path: Path, *, quiet: bool = False) -> None:
    """Print one line per app x env's Application; exit 2 when one is missing or reads elsewhere."""
    with session(str(path)) as (loaded, _backend):
        checks = check_applications(loaded, repository_url(loaded), os.environ)
    for check in [] if quiet else checks:  # --json keeps stdout to its one object
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


def _count(number: int, noun: str) -> str:
    return f"{number} {noun}{'s' * (number != 1)}"


@command.command("schema")
def schema() -> None:
    """Print the config's JSON Schema (draft 2020-12), e.g. for an editor's YAML language server."""
    click.echo(json.dumps(config_schema.json_schema(), indent=2))
