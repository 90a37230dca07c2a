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
from dataclasses import dataclass, field
from datetime import datetime

from updater import retry
from updater.errors import InputError
from updater.registry.base import Registry, TagInfo
from updater.semver import parse_range, parse_version

KINDS = ("template", "digest", "newest", "semver", "alphabetical", "numerical")
# Tags that conventionally move from build to build. Never chosen when no --include says otherwise.
MOVING_TAGS = frozenset(
    {"latest", "stable", "edge", "nightly", "main", "master", "develop", "dev", "head", "canary"}
)
_TAG = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.*-]{0,127}$")
_FIELD = re.compile(r"\{(\w+)(?::(\d+))?\}")


@dataclass(frozen=True)
class Strategy:
    """How to pick the tag; see DESIGN.md "Tag strategies"."""

    kind: str = "template"
    template: str | None = None
    tag: str | None = None
    include: str | None = None
    exclude: tuple[str, ...] = ()
    range: str | None = None
    wait: float = 0.0


@dataclass(frozen=True)
class TemplateVars:
    sha: str | None = None
    app: str | None = None
    env: str | None = None
    branch: str | None = None
    run: str | None = None


@dataclass(frozen=True)
class Candidate:
    tag: str
    accepted: bool
    reason: str
    digest: str | None = None
    created: datetime | None = None


@dataclass(frozen=True)
class Resolution:
    image: str
    tag: str
    digest: str | None
    created: datetime | None
    strategy: str
    candidates: tuple[Candidate, ...]
    requests: int


class NoMatchingTag(InputError):
    """No tag satisfies the strategy (yet): the user's input or CI's push is missing, exit 2."""


def render_template(template: str, variables: TemplateVars) -> str:
    """Return the tag a template spells; `{sha:N}` is the first N characters, `*` stays open."""

    def field_value(m: re.Match[str]) -> str:
        name, width = m[1], m[2]
        if name not in TemplateVars.__dataclass_fields__:
            known = ", ".join("{" + n + "}" for n in TemplateVars.__dataclass_fields__)
            raise InputError(f"tag template {template!r}: unknown field {{{name}}}; use {known}")
        value = getattr(variables, name)
        if not value:
            hint = "pass --sha or run inside a git checkout" if name == "sha" else f"give the {name}"
            raise InputError(f"tag template {template!r} needs {{{name}}}: {hint}")
        if name == "branch":  # "feature/x" is not a valid tag; docker/metadata-action does the same
            value = re.sub(r"[^A-Za-z0-9_.-]+", "-", value).strip("-.")
        if width is not None:
            if name != "sha":
                raise InputError(f"tag template {template!r}: only {{sha:N}} takes a length")
            value = value[: int(width)]
        return str(value)

    tag = _FIELD.sub(field_value, template)
    if not _TAG.match(tag):
        raise InputError(
            f"tag template {template!r} gives {tag!r}, which is not a valid tag: "
            "use letters, digits, '_', '.', '-' (max 128)"
        )
    return tag


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


def _compile(pattern: str, option: str) -> re.Pattern[str]:
    try:
        return re.compile(pattern)
    except re.error as exc:
        raise InputError(f"{option} {pattern!r} is not a valid regular expression: {exc}") from None


@dataclass(frozen=True)
class _Filter:
    include: re.Pattern[str] | None
    exclude: tuple[re.Pattern[str], ...]

    @classmethod
    def of(cls, strategy: Strategy) -> _Filter:
        include = _compile(strategy.include, "--include") if strategy.include else None
        return cls(include, tuple(_compile(p, "--exclude") for p in strategy.exclude))

    def reject(self, tag: str) -> str | None:
        """Return why the tag is rejected, or None when it passes."""
        if self.include is not None:
            if not self.include.search(tag):
                return f"does not match include /{self.include.pattern}/"
        elif tag in MOVING_TAGS:
            return "a moving tag (give --include to allow it)"
        for pattern in self.exclude:
            if pattern.search(tag):
                return f"matches exclude /{pattern.pattern}/"
        return None

    def key(self, tag: str) -> str:
        """Return the part of the tag to sort on: include's first group when it has one."""
        if self.include is not None and self.include.groups:
            m = self.include.search(tag)
            if m and m.group(1) is not None:
                return m.group(1)
        return tag


@dataclass
class _Lookup:
    """Registry reads for one attempt, each digest's build time fetched at most once per run."""

    registry: Registry
    created_cache: dict[str, datetime | None]
    listed: dict[str, TagInfo] = field(default_factory=dict)
    digests: dict[str, str | None] = field(default_factory=dict)

    def tags(self) -> list[TagInfo]:
        infos = self.registry.list_tags()
        self.listed = {info.tag: info for info in infos}
        return infos

    def digest(self, tag: str) -> str | None:
        info = self.listed.get(tag)
        if info is not None and info.digest:
            return info.digest
        if tag not in self.digests:
            self.digests[tag] = self.registry.digest(tag)
        return self.digests[tag]

    def created(self, tag: str) -> datetime | None:
        info = self.listed.get(tag)
        if info is not None and info.created is not None:
            return info.created
        digest = self.digest(tag)
        if digest is None:
            return None
        if digest not in self.created_cache:
            self.created_cache[digest] = self.registry.created(digest)
        return self.created_cache[digest]


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
    """Return the tag the strategy picks; NoMatchingTag (exit 2) when none does within --wait."""
    _validate(strategy)
    start = registry.requests
    created_cache: dict[str, datetime | None] = {}
    from updater import strategies  # the per-kind pickers; split out to keep modules small

    def attempt() -> Resolution:
        lookup = _Lookup(registry, created_cache)
        tag, digest, created, candidates = strategies.pick(lookup, strategy, variables, _Filter.of(strategy))
        return Resolution(
            registry.name, tag, digest, created, strategy.kind, tuple(candidates), registry.requests - start
        )

    if strategy.wait <= 0:
        return attempt()
    missing: list[NoMatchingTag] = []

    def poll_once() -> Resolution | None:
        if missing:  # a later poll: answers about tags cached by the last one may be stale
            forget = getattr(registry, "forget", None)
            if callable(forget):
                forget()
        try:
            return attempt()
        except NoMatchingTag as exc:
            missing[:] = [exc]
            return None

    def on_wait(remaining: float) -> None:
        if progress is not None and missing:
            progress(f"waiting ({remaining:.0f}s left): {missing[0].message}")

    result = retry.poll(poll_once, strategy.wait, on_wait)
    if result is None:
        reason = missing[0].message if missing else f"no tag of {registry.name} matched"
        raise NoMatchingTag(f"{reason} (waited {strategy.wait:g}s)")
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
