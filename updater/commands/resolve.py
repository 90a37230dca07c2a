"""`updater resolve IMAGE`: print the immutable tag a strategy picks (or one JSON object)."""

from __future__ import annotations

import json
import os
import sys
from typing import Any

import click

from updater.commands.options import (
    ci_options,
    registry_options_from_options,
    strategy_from_options,
    strategy_options,
)
from updater.domain.imageref import parse
from updater.infra.cienv import ci_branch, ci_run
from updater.infra.errors import InputError
from updater.registry.open import open_registry
from updater.resolve import Strategy, TemplateVars, commit_sha, describe, resolve


def _to_json(resolution: Any, explain: bool) -> str:
    """Return the --json object; rejected candidates are listed only with --explain (they can be 10,000)."""
    candidates = [
        {
            "tag": c.tag,
            "accepted": c.accepted,
            "reason": c.reason,
            "digest": c.digest,
            "created": c.created.isoformat() if c.created else None,
        }
        for c in resolution.candidates
        if explain or c.accepted
    ]
    return json.dumps(
        {
            "image": resolution.image,
            "tag": resolution.tag,
            "digest": resolution.digest,
            "created": resolution.created.isoformat() if resolution.created else None,
            "strategy": resolution.strategy,
            "candidates": candidates,
            "requests": resolution.requests,
        }
    )


def _strategy(image: str, ref_tag: str | None, kw: dict[str, Any]) -> Strategy:
    """Return the strategy the flags and IMAGE ask for; IMAGE:TAG means the digest strategy's tag."""
    strategy = strategy_from_options(**kw)
    if ref_tag:
        if kw.get("tag"):
            raise InputError(f"{image}: the tag is given twice (:{ref_tag} and --tag): keep one")
        other = next(
            (
                flag
                for flag, given in (
                    (f"--strategy {kw.get('strategy')}", kw.get("strategy") not in (None, "digest")),
                    ("--template", kw.get("template")),
                    ("--range", kw.get("semver_range")),
                )
                if given
            ),
            None,
        )
        if other is not None:
            # The tag would be ignored: say so rather than resolve something the user did not ask for.
            raise InputError(
                f"{image}: :{ref_tag} asks for the immutable tag with {ref_tag}'s digest and cannot be "
                f"combined with {other}: drop :{ref_tag}, or the flag"
            )
        return strategy_from_options(strategy, strategy="digest", tag=ref_tag)
    given = kw.get("strategy") or kw.get("template") or kw.get("tag") or kw.get("semver_range")
    if not given:
        if not kw.get("include"):
            raise InputError(
                f"{image}: say how to pick the tag: --template, --tag, --range, "
                "or --strategy newest --include REGEX"
            )
        strategy = strategy_from_options(strategy, strategy="newest")
    return strategy


@click.command("resolve")
@click.argument("image")
@strategy_options
@click.option("--app", help="Value of {app} (default: the image's last path component).")
@click.option("--env", help="Value of {env}.")
@ci_options
@click.option("--explain", is_flag=True, help="List every candidate and why it was accepted or rejected.")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object instead of the tag.")
def command(
    image: str,
    app: str | None,
    env: str | None,
    branch: str | None,
    run: str | None,
    explain: bool,
    as_json: bool,
    **kw: Any,
) -> None:
    """Resolve the immutable tag of IMAGE (a registry image, or oci:DIR for an OCI layout).

    \b
    Examples:
      updater resolve ghcr.io/org/app --template 'stage-{sha:7}' --wait 5m
      updater resolve ghcr.io/org/app:latest --include '^stage-'
      updater resolve ghcr.io/org/app --range '^1.4'
    """
    ref = parse(image)
    if ref.digest:
        raise InputError(f"{image}: give the image without a digest; resolve finds the tag and its digest")
    strategy = _strategy(image, ref.tag, kw)
    needs_sha = "{sha" in (strategy.template or "") + (strategy.tag or "")
    variables = TemplateVars(
        sha=commit_sha(kw.get("sha")) if needs_sha or kw.get("sha") else None,
        app=app or (ref.repository or (ref.layout or "").rstrip("/")).rsplit("/", 1)[-1] or None,
        env=env,
        branch=ci_branch(os.environ, branch),
        run=ci_run(os.environ, run),
    )
    registry = open_registry(ref, registry_options_from_options(**kw))

    def progress(message: str) -> None:
        if sys.stderr.isatty():
            click.echo(message, err=True)

    resolution = resolve(registry, strategy, variables, progress=progress)
    if as_json:
        click.echo(_to_json(resolution, explain))
        return
    if explain:
        for line in describe(resolution.candidates):
            click.echo(line, err=True)
    click.echo(resolution.tag)
