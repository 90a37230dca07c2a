"""The GitHub flags shared by the commands that talk to a repository (bump, promote, rollback, ...).

Decorate a command with `@github_options` (or `@write_options` where a change lands); its
function receives `token`, `github_url`, `app_id`, `app_key`, `installation_id` (and `wait_merged`),
and turns the first five into a `GitHubAuth` with `auth_from_options(**kw)`. Secrets are registered
with updater.infra.redact in the option callbacks, i.e. while the command line is parsed, before any code
that could print them runs.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Callable
from typing import Any, TypeVar

import click

from updater.commands.options import duration_value
from updater.infra import redact, safeio
from updater.infra.errors import InputError, OutcomeUnknown
from updater.scm.github_auth import GitHubAuth

F = TypeVar("F", bound=Callable[..., Any])
GITHUB_PARAMS = ("token", "github_url", "app_id", "app_key", "installation_id")


def _secret(ctx: click.Context, param: click.Parameter, value: str | None) -> str | None:
    redact.register(value)
    return value or None


def _app_key(ctx: click.Context, param: click.Parameter, value: str | None) -> str | None:
    """Return the App's PEM key: the value itself when it is one, else the file it names."""
    if not value:
        return None
    if value.lstrip().startswith("-----BEGIN"):
        redact.register(value)
        redact.register(value.strip())
        return value
    try:
        key = safeio.read_regular(value).decode("utf-8")  # a FIFO or a huge file is refused at once
    except InputError as exc:
        reason = exc.message.removeprefix(f"{value}: ").removeprefix("cannot read: ").split(": give")[0]
        raise click.BadParameter(f"{value}: cannot read the private key ({reason})", ctx, param) from None
    except UnicodeDecodeError:
        raise click.BadParameter(f"{value}: cannot read the private key (not UTF-8)", ctx, param) from None
    redact.register(key)
    redact.register(key.strip())
    if "-----BEGIN" not in key:
        raise click.BadParameter(f"{value}: not a PEM private key (download it from the App's settings)")
    return key


def github_options(f: F) -> F:
    """Add --token, --github-url, --app-id, --app-key and --installation-id to a click command."""
    decorators = [
        click.option(
            "--token",
            envvar="GITHUB_TOKEN",
            callback=_secret,
            metavar="TOKEN",
            help="GitHub token (default: GITHUB_TOKEN; prefer the variable to the flag).",
        ),
        click.option(
            "--github-url",
            envvar="GITHUB_API_URL",
            metavar="URL",
            help="GitHub API URL, for GitHub Enterprise (default: GITHUB_API_URL, then scm.github-url).",
        ),
        click.option(
            "--app-id", envvar="UPDATER_GITHUB_APP_ID", metavar="ID", help="Authenticate as this GitHub App."
        ),
        click.option(
            "--app-key",
            envvar="UPDATER_GITHUB_APP_PRIVATE_KEY",
            callback=_app_key,
            metavar="FILE",
            help="The GitHub App's private key: a PEM file (UPDATER_GITHUB_APP_PRIVATE_KEY: the PEM itself).",
        ),
        click.option(
            "--installation-id",
            envvar="UPDATER_GITHUB_APP_INSTALLATION_ID",
            type=click.IntRange(min=1),
            metavar="ID",
            help="The App's installation (default: looked up from the repository).",
        ),
    ]
    for decorator in reversed(decorators):
        f = decorator(f)
    return f


def wait_merged_option(f: F) -> F:
    """Add --wait-merged DURATION (auto-merge mode: block until the pull request is merged)."""
    return click.option(
        "--wait-merged",
        callback=duration_value,
        metavar="DURATION",
        help="Auto-merge: wait this long (e.g. 10m) for the merge; exit 1 if it is closed or checks fail.",
    )(f)


def write_options(f: F) -> F:
    """Add the options of every command that lands a change: --dry-run, --json, --mode,
    --wait-merged, the GitHub flags and --config."""
    decorators = [
        click.option("--dry-run", is_flag=True, help="Print the diffs, write nothing."),
        click.option("--json", "as_json", is_flag=True, help="Print one JSON object on stdout."),
        click.option(
            "--mode",
            type=click.Choice(["commit", "pull-request", "auto-merge"]),
            help="How the change lands (default: the environment's mode in the config).",
        ),
        wait_merged_option,
        github_options,
        click.option(
            "--config", "config_path", type=click.Path(dir_okay=False), help="Path of .updater.yaml."
        ),
    ]
    for decorator in reversed(decorators):
        f = decorator(f)
    return _json_when_outcome_unknown(f)


def _json_when_outcome_unknown(f: F) -> F:
    """With --json, a write whose outcome is unknown still prints one JSON object on stdout, saying so
    (`outcome_unknown`, `rerun_safe`, `error`), before the one-line error and exit 1."""

    @functools.wraps(f)
    def command(*args: Any, **kwargs: Any) -> Any:
        try:
            return f(*args, **kwargs)
        except OutcomeUnknown as exc:
            if kwargs.get("as_json"):
                name = click.get_current_context().info_name
                result = {
                    "command": name,
                    "env": kwargs.get("env") or kwargs.get("to"),
                    "changed": None,
                    "outcome_unknown": True,
                    "rerun_safe": True,
                    "error": redact.mask(exc.message),
                }
                click.echo(json.dumps(result))
            raise

    return command  # type: ignore[return-value]


def auth_from_options(**kw: Any) -> GitHubAuth:
    """Return the GitHub auth the flags (or their variables) give."""
    return GitHubAuth(
        token=kw.get("token"),
        url=kw.get("github_url"),
        app_id=kw.get("app_id"),
        app_key=kw.get("app_key"),
        installation_id=kw.get("installation_id"),
    )
