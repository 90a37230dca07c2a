"""The resolver's shared types: a strategy, its candidates and result, the tag filter and the lookup.

Split from the policy so the per-kind pickers (`strategies`) and the policy (`policy`) both build on
them without importing each other.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime

from updater.domain.tags import is_moving, is_valid_tag
from updater.infra.errors import InputError
from updater.registry.base import Registry, TagInfo

KINDS = ("template", "digest", "newest", "semver", "alphabetical", "numerical")


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
    """No tag satisfies the strategy (yet): the user's input or CI's push is missing, exit 2.

    The message says what is missing; the resolver adds WAIT_HINT when the run does not wait.
    """


WAIT_HINT = ", or pass --wait DURATION"


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
        elif is_moving(tag):
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
    invalid: list[str] = field(default_factory=list)

    def tags(self) -> list[TagInfo]:
        """Return the listed tags that are valid OCI tags; the others are kept in `invalid` for --explain."""
        infos = []
        for info in self.registry.list_tags():
            if is_valid_tag(info.tag):
                infos.append(info)
            else:
                self.invalid.append(info.tag)
        self.listed = {info.tag: info for info in infos}
        return infos

    def digest(self, tag: str, *, read_manifest: bool = False) -> str | None:
        info = self.listed.get(tag)
        if info is not None and info.digest:
            return info.digest
        if tag not in self.digests:
            self.digests[tag] = self.registry.digest(tag, read_manifest=read_manifest)
        return self.digests[tag]

    def created(self, tag: str) -> datetime | None:
        info = self.listed.get(tag)
        if info is not None and info.created is not None:
            return info.created
        digest = self.digest(tag, read_manifest=True)  # one GET for digest and manifest
        if digest is None:
            return None
        if digest not in self.created_cache:
            self.created_cache[digest] = self.registry.created(digest)
        return self.created_cache[digest]
