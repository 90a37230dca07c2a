"""`--wait-deployed`, `--sync`, `--rollback-on-failure`: the Argo CD wait after bump, promote, rollback.

The commands call `flows.deployed.check` before the write (a wait that cannot work is refused before
anything lands), `flows.deployed.after_write` after it, and `finish` here to print both results and
exit 1 naming each app that did not deploy. This module parses the options and renders, nothing else
(it does not import the flow, so a command stays one floor above its use cases).
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from typing import Any, TypeVar

import click

from updater.commands.options import duration_value
from updater.deploy.settings import Waiting
from updater.deploy.wait import Deployment
from updater.flows.report import WriteReport, emit, table
from updater.infra.errors import RemoteError, UpdaterError

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


def waiting(options: dict[str, Any]) -> Waiting | None:
    """Pop the deploy options from `options`; return how to wait, or None without --wait-deployed."""
    timeout, sync, rollback = (options.pop(name, None) for name in PARAMS)
    if timeout is None:
        if sync or rollback:
            raise click.UsageError("--sync and --rollback-on-failure need --wait-deployed DURATION")
        return None
    return Waiting(float(timeout), bool(sync), bool(rollback))


def finish(report: WriteReport, as_json: bool, wait: Callable[[], Any] | None) -> None:
    """Print the write's result and, when `wait` is given, run it (flows.deployed.after_write) and print
    the deployment; exit 1 when it did not deploy. A wait that fails outright (Argo CD unreachable)
    still prints the write first, so the commit that landed is never hidden."""
    if wait is None:
        emit(report, as_json)
        return
    try:
        result = wait()
    except UpdaterError:
        emit(report, as_json)
        raise
    if as_json:
        click.echo(json.dumps({**report.to_json(), "deploy": result.to_json()}, indent=2))
    else:
        emit(report, False)
        click.echo(render(result.deployments), nl=False)
    if not result.ok:
        raise RemoteError(result.failure())


def progress(line: str) -> None:
    """One line per app per state change on stderr (over the bar, when one is drawn)."""
    if sys.stderr.isatty():
        click.echo("\r\033[K", err=True, nl=False)
    click.echo(line, err=True)
    sys.stderr.flush()


def bar(waited: float, timeout: float, pending: int) -> None:
    """Redraw a progress bar of the wait on stderr when it is a terminal (CI logs get the lines only)."""
    if not sys.stderr.isatty():
        return
    width = 30
    done = min(width, int(width * waited / timeout)) if timeout > 0 else width
    text = f"[{'#' * done}{'.' * (width - done)}] {waited:.0f}s/{timeout:.0f}s, waiting for {pending} app(s)"
    click.echo(f"\r\033[K{text}", err=True, nl=False)
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
