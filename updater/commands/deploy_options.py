"""`--wait-deployed`, `--sync`, `--rollback-on-failure`: the Argo CD wait after bump, promote, rollback.

The commands call `before_write` (refuses a wait that cannot work before anything lands) and
`finish` (waits, prints, and exits 1 naming each app that did not deploy). The logic is in
`updater.flows.deployed`; this module only parses the options and renders.
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Callable
from typing import Any, TypeVar

import click

from updater.commands.options import duration_value
from updater.config.model import Config
from updater.deploy.wait import Deployment
from updater.flows import deployed as flow
from updater.flows.report import WriteReport, emit, table
from updater.infra.errors import RemoteError
from updater.scm.base import Backend

F = TypeVar("F", bound=Callable[..., Any])
PARAMS = ("wait_deployed", "sync", "rollback_on_failure")


def deploy_options(f: F) -> F:
    """Add --wait-deployed DURATION, --sync and --rollback-on-failure."""
    decorators = [
        click.option(
            "--wait-deployed",
            callback=duration_value,
            metavar="DURATION",
            help="After the change lands, wait this long (e.g. 10m) until Argo CD runs it and it is Healthy.",
        ),
        click.option(
            "--sync", is_flag=True, help="With --wait-deployed: sync manual-sync Applications to our commit."
        ),
        click.option(
            "--rollback-on-failure",
            is_flag=True,
            help="With --wait-deployed: when the wait fails, write the previous tags back in one commit.",
        ),
    ]
    for decorator in reversed(decorators):
        f = decorator(f)
    return f


def waiting(options: dict[str, Any]) -> flow.Waiting | None:
    """Pop the deploy options from `options`; return how to wait, or None without --wait-deployed."""
    timeout, sync, rollback = (options.pop(name, None) for name in PARAMS)
    if timeout is None:
        if sync or rollback:
            raise click.UsageError("--sync and --rollback-on-failure need --wait-deployed DURATION")
        return None
    return flow.Waiting(float(timeout), bool(sync), bool(rollback))


def before_write(
    config: Config, env: str, how: flow.Waiting | None, *, dry_run: bool, wait_merged: float | None
) -> None:
    """Refuse a wait that cannot work before the write (exit 2, nothing written)."""
    if how is not None:
        flow.check(config, env, dry_run=dry_run, wait_merged=wait_merged, environ=os.environ)


def finish(
    config: Config, backend: Backend, report: WriteReport, how: flow.Waiting | None, as_json: bool
) -> None:
    """Print the write's result, and with a wait, the deployment; exit 1 when it did not deploy."""
    if how is None:
        emit(report, as_json)
        return
    if not as_json:
        emit(report, False)
    result = flow.after_write(config, backend, report, how, os.environ, progress)
    if as_json:
        click.echo(json.dumps({**report.to_json(), "deploy": result.to_json()}, indent=2))
    else:
        click.echo(render(result.deployments), nl=False)
    if not result.ok:
        raise RemoteError(result.failure())


def progress(line: str) -> None:
    """One line per app per state change on stderr."""
    click.echo(line, err=True)
    sys.stderr.flush()


def render(deployments: tuple[Deployment, ...]) -> str:
    """Return the table of how each Application ended: state, revision, sync, health, timings."""
    rows = []
    for d in deployments:
        data = d.to_json()
        timing = "/".join(
            "-" if data[k] is None else f"{data[k]}s" for k in ("synced_after", "healthy_after")
        )
        revision = (data["revision"] or "-")[:12]
        rows.append(
            [
                d.watch.app,
                d.watch.name,
                d.verdict.state,
                revision,
                data["sync"] or "-",
                data["health"] or "-",
                timing,
            ]
        )
    return table(["APP", "APPLICATION", "STATE", "REVISION", "SYNC", "HEALTH", "SYNCED/HEALTHY AFTER"], rows)
