"""The strategy and registry flags, shared by `resolve` and `bump` so both read them the same way.

Decorate a command with `@strategy_options`; its function receives the keyword arguments listed in
`STRATEGY_PARAMS` and `REGISTRY_PARAMS` (plus `sha`), and turns them into values with
`strategy_from_options(**kw)` and `registry_options_from_options(**kw)`.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import replace
from typing import Any, TypeVar

import click

from updater.infra import redact
from updater.registry.base import RegistryOptions
from updater.resolve.types import KINDS, Strategy

F = TypeVar("F", bound=Callable[..., Any])

STRATEGY_PARAMS = ("strategy", "template", "tag", "include", "exclude", "semver_range", "wait")
REGISTRY_PARAMS = ("api", "platform", "insecure_registry", "username", "password", "docker_config")
_UNITS = {"s": 1.0, "m": 60.0, "h": 3600.0}


def parse_duration(text: str) -> float:
    """Return the seconds `text` spells: `90`, `90s`, `5m`, `1h` or `1m30s`; ValueError otherwise."""
    text = text.strip().lower()
    if re.fullmatch(r"\d+(\.\d+)?", text):
        return float(text)
    parts = re.findall(r"(\d+(?:\.\d+)?)([smh])", text)
    if not parts or "".join(n + u for n, u in parts) != text:
        raise ValueError(f"{text!r} is not a duration; write e.g. 90s, 5m or 1m30s")
    return sum(float(n) * _UNITS[u] for n, u in parts)


def duration_value(ctx: click.Context, param: click.Parameter, value: str | None) -> float | None:
    """Click callback: the seconds a DURATION option spells, or a usage error."""
    if value is None:
        return None
    try:
        return parse_duration(value)
    except ValueError as exc:
        raise click.BadParameter(str(exc), ctx, param) from None


def strategy_options(f: F) -> F:
    """Add the tag-strategy and registry options to a click command."""
    decorators = [
        click.option(
            "--strategy",
            type=click.Choice(KINDS),
            help="How to pick the tag (default: template; digest with --tag; semver with --range).",
        ),
        click.option("--template", help="Tag template, e.g. 'stage-{app}-{sha:7}'; '*' leaves a part open."),
        click.option("--tag", help="The tag CI pushed, or a moving tag like 'latest' (digest strategy)."),
        click.option("--include", metavar="REGEX", help="Candidates must match; group 1 is the sort key."),
        click.option(
            "--exclude", metavar="REGEX", multiple=True, help="Reject matching candidates (repeatable)."
        ),
        click.option(
            "--range", "semver_range", metavar="RANGE", help="Semver range, e.g. '>=1.2,<2' or '^1.4'."
        ),
        click.option(
            "--wait",
            callback=duration_value,
            metavar="DURATION",
            help="Poll this long for a matching tag, e.g. 5m.",
        ),
        click.option("--sha", help="Commit SHA for {sha} (default: GITHUB_SHA, CIRCLE_SHA1, git HEAD)."),
        click.option(
            "--api",
            type=click.Choice(["auto", "oci", "artifact-registry"]),
            help="Registry API (artifact-registry: Google's API for *-docker.pkg.dev).",
        ),
        click.option(
            "--platform", help="Platform whose build time counts in a multi-arch image (linux/amd64)."
        ),
        click.option(
            "--insecure-registry",
            metavar="HOST",
            multiple=True,
            help="Allow plain HTTP to HOST (repeatable).",
        ),
        click.option("--username", envvar="UPDATER_REGISTRY_USERNAME", help="Registry user name."),
        click.option(
            "--password",
            envvar="UPDATER_REGISTRY_PASSWORD",
            help="Registry password or token (prefer the UPDATER_REGISTRY_PASSWORD variable).",
        ),
        click.option(
            "--docker-config", metavar="DIR", help="Directory holding config.json (default ~/.docker)."
        ),
    ]
    for decorator in reversed(decorators):
        f = decorator(f)
    return f


def ci_options(f: F) -> F:
    """Add --branch and --run, the values of a template's `{branch}` and `{run}` fields."""
    f = click.option("--run", help="Value of {run} (default: GITHUB_RUN_NUMBER or CIRCLE_BUILD_NUM).")(f)
    return click.option("--branch", help="Value of {branch} (default: GITHUB_REF_NAME or CIRCLE_BRANCH).")(f)


def strategy_from_options(base: Strategy | None = None, **kw: Any) -> Strategy:
    """Return the strategy the flags ask for; flags given override `base` (e.g. the config's policy).

    Without --strategy the kind follows the flags: --template means template, --tag digest, --range
    semver; otherwise the base's kind.
    """
    base = base or Strategy()
    kind = kw.get("strategy")
    if not kind:
        if kw.get("template"):
            kind = "template"
        elif kw.get("tag"):
            kind = "digest"
        elif kw.get("semver_range"):
            kind = "semver"
        else:
            kind = base.kind
    exclude = tuple(kw.get("exclude") or ()) or base.exclude
    wait = kw.get("wait")
    return replace(
        base,
        kind=kind,
        template=kw.get("template") or base.template,
        tag=kw.get("tag") or base.tag,
        include=kw.get("include") or base.include,
        exclude=exclude,
        range=kw.get("semver_range") or base.range,
        wait=base.wait if wait is None else float(wait),
    )


def strategy_given(**kw: Any) -> bool:
    """Return True when any strategy flag was given on the command line."""
    return any(kw.get(name) for name in STRATEGY_PARAMS) or kw.get("wait") is not None


def registry_options_from_options(base: RegistryOptions | None = None, **kw: Any) -> RegistryOptions:
    """Return the registry options the flags ask for, over `base` (e.g. the config's registry section)."""
    base = base or RegistryOptions()
    redact.register(kw.get("password"))
    return replace(
        base,
        api=kw.get("api") or base.api,
        platform=kw.get("platform") or base.platform,
        insecure_hosts=tuple(dict.fromkeys((*base.insecure_hosts, *(kw.get("insecure_registry") or ())))),
        username=kw.get("username") or base.username,
        password=kw.get("password") or base.password,
        docker_config=kw.get("docker_config") or base.docker_config,
    )
