"""Tag strategies: which immutable tag of an image to deploy, with the fewest registry requests.

This module holds policy only; it talks to registries through the `Registry` protocol and never sees
HTTP. Every strategy filters candidates with `include` / `exclude`, explains each rejection, and
records the digest of the chosen tag.
"""

from __future__ import annotations

import os
import re
import subprocess
from collections.abc import Callable, Iterable
from datetime import datetime

from updater.domain.semver import parse_range, parse_version
from updater.domain.tags import TemplateVars
from updater.infra import retry
from updater.infra.errors import InputError
from updater.registry.base import Registry, RepositoryNotFound
from updater.registry.shapes import shown
from updater.resolve.strategies import pick
from updater.resolve.types import (
    KINDS,
    WAIT_HINT,
    Candidate,
    NoMatchingTag,
    Resolution,
    Strategy,
    _Filter,
    _Lookup,
)


def commit_sha(explicit: str | None = None, cwd: str | None = None) -> str | None:
    """Return the commit to deploy: --sha, then GITHUB_SHA, CIRCLE_SHA1, then `git rev-parse HEAD`."""
    for value, source in ((explicit, "--sha"), (os.environ.get("GITHUB_SHA"), "GITHUB_SHA")):
        if value:
            return _checked_sha(value, source)
    if os.environ.get("CIRCLE_SHA1"):
        return _checked_sha(os.environ["CIRCLE_SHA1"], "CIRCLE_SHA1")
    try:
        out = subprocess.run(
            ["git", "rev-parse", "HEAD"], cwd=cwd, capture_output=True, text=True, timeout=30, check=True
        )
    except (OSError, subprocess.SubprocessError):
        return None
    return out.stdout.strip() or None


def _checked_sha(value: str, source: str) -> str:
    value = value.strip().lower()
    if not re.fullmatch(r"[0-9a-f]{7,64}", value):
        raise InputError(f"{source} {value!r} is not a commit SHA: give 7 to 40 hex digits")
    return value


def _validate(strategy: Strategy) -> None:
    if strategy.kind not in KINDS:
        raise InputError(f"unknown tag strategy {strategy.kind!r}: use one of {', '.join(KINDS)}")
    if strategy.kind == "template" and not strategy.template:
        raise InputError(
            "the template strategy needs a template: give --template, e.g. 'stage-{app}-{sha:7}'"
        )
    if strategy.kind == "digest" and not strategy.tag:
        raise InputError("the digest strategy needs the tag CI pushed: give --tag, e.g. --tag latest")
    if strategy.kind == "semver":
        parse_range(strategy.range or "*")
    _Filter.of(strategy)


def resolve(
    registry: Registry,
    strategy: Strategy,
    variables: TemplateVars,
    *,
    progress: Callable[[str], None] | None = None,
) -> Resolution:
    """Return the tag the strategy picks; NoMatchingTag (exit 2) when none does within --wait.

    While waiting, a missing tag and a missing repository (RepositoryNotFound) are both "not yet";
    tags the registry lists that are not valid OCI tags are dropped and noted for --explain.
    """
    _validate(strategy)
    start = registry.requests
    created_cache: dict[str, datetime | None] = {}

    def attempt() -> Resolution:
        lookup = _Lookup(registry, created_cache)
        tag, digest, created, candidates = pick(lookup, strategy, variables, _Filter.of(strategy))
        dropped = [
            Candidate(shown(name, 60), False, "not a valid OCI tag: ignored") for name in lookup.invalid
        ]
        return Resolution(
            registry.name,
            tag,
            digest,
            created,
            strategy.kind,
            tuple(candidates + dropped),
            registry.requests - start,
        )

    if strategy.wait <= 0:
        try:
            return attempt()
        except (NoMatchingTag, RepositoryNotFound) as exc:
            raise type(exc)(exc.message + WAIT_HINT) from None
    missing: list[NoMatchingTag | RepositoryNotFound] = []

    def poll_once() -> Resolution | None:
        if missing:  # a later poll: answers about tags cached by the last one may be stale
            forget = getattr(registry, "forget", None)
            if callable(forget):
                forget()
        try:
            return attempt()
        except (NoMatchingTag, RepositoryNotFound) as exc:  # not yet: CI has not pushed it
            missing[:] = [exc]
            return None

    def on_wait(remaining: float) -> None:
        if progress is not None and missing:
            progress(f"waiting ({remaining:.0f}s left): {missing[0].message}")

    result = retry.poll(poll_once, strategy.wait, on_wait)
    if result is None:
        last = missing[0] if missing else NoMatchingTag(f"no tag of {registry.name} matched")
        raise type(last)(f"{last.message} (waited {strategy.wait:g}s)")
    return result


def is_downgrade(
    current: str,
    new: str,
    strategy: Strategy,
    *,
    current_created: datetime | None = None,
    new_created: datetime | None = None,
) -> bool:
    """Return True when `new` is older than `current` in the strategy's own order.

    Ordered strategies compare tags (versions, numbers, strings); the others compare build times, and
    cannot call it a downgrade when either time is unknown.
    """
    if current == new:
        return False
    filt = _Filter.of(strategy)
    a, b = filt.key(current), filt.key(new)
    if strategy.kind == "semver":
        va, vb = parse_version(a), parse_version(b)
        if va is not None and vb is not None:
            return vb.key() < va.key()
        return False
    if strategy.kind == "numerical":
        return a.isdigit() and b.isdigit() and int(b) < int(a)
    if strategy.kind == "alphabetical":
        return b < a
    if current_created is None or new_created is None:
        return False
    return new_created < current_created


def downgrade_reason(
    registry: Registry, strategy: Strategy, current: str, resolution: Resolution
) -> str | None:
    """Return why writing `resolution.tag` over `current` is a downgrade, or None (reads build times)."""
    current_created = new_created = None
    if strategy.kind not in ("semver", "numerical", "alphabetical") and current != resolution.tag:
        lookup = _Lookup(registry, {})
        current_created = lookup.created(current)
        new_created = resolution.created or lookup.created(resolution.tag)
    if not is_downgrade(
        current, resolution.tag, strategy, current_created=current_created, new_created=new_created
    ):
        return None
    if current_created is not None and new_created is not None:
        return (
            f"{resolution.tag} (built {new_created.isoformat()}) is older than the current "
            f"{current} (built {current_created.isoformat()})"
        )
    return f"{resolution.tag} sorts below the current {current} ({strategy.kind})"


def describe(candidates: Iterable[Candidate]) -> list[str]:
    """Return one line per candidate for --explain: tag, verdict and reason."""
    return [f"{'+' if c.accepted else '-'} {c.tag}: {c.reason}" for c in candidates]
