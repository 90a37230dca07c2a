"""Semantic versions in image tags and the ranges users write for them (npm/Cargo style).

Tags are parsed loosely, as registries hold them: an optional `v`, one to three numeric parts
(`1.25` is 1.25.0), then SemVer 2.0 pre-release and build parts. Ranges are comparators joined by
commas or spaces (AND) and `||` (OR), with `^`, `~`, `x`/`*` wildcards and partial versions.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from updater.infra.errors import InputError

_VERSION = re.compile(
    r"^[vV]?(?P<major>0|[1-9]\d*)(?:\.(?P<minor>0|[1-9]\d*))?(?:\.(?P<patch>0|[1-9]\d*))?"
    r"(?:-(?P<pre>[0-9A-Za-z-]+(?:\.[0-9A-Za-z-]+)*))?(?:\+(?P<build>[0-9A-Za-z-]+(?:\.[0-9A-Za-z-]+)*))?$"
)
_PARTIAL = re.compile(
    r"^[vV]?(?P<major>\d+|[xX*])(?:\.(?P<minor>\d+|[xX*]))?(?:\.(?P<patch>\d+|[xX*]))?"
    r"(?:-(?P<pre>[0-9A-Za-z-]+(?:\.[0-9A-Za-z-]+)*))?$"
)
_COMPARATOR = re.compile(r"^(?P<op>\^|~|>=|<=|>|<|==|=)?\s*(?P<version>\S+)$")


@dataclass(frozen=True, order=False)
class Version:
    """A parsed version; `parts` counts the numeric parts written (ties prefer the fuller tag)."""

    major: int
    minor: int
    patch: int
    pre: tuple[str, ...] = ()
    parts: int = 3

    def key(self) -> tuple[int, int, int, int, tuple[tuple[int, int | str], ...]]:
        """Return a sort key with SemVer 2.0 precedence (a release sorts after its pre-releases)."""
        pre = tuple((0, int(p)) if p.isdigit() else (1, p) for p in self.pre)
        return (self.major, self.minor, self.patch, 0 if self.pre else 1, pre)


def parse_version(text: str) -> Version | None:
    """Return the version a tag spells, or None when it is not one."""
    m = _VERSION.match(text)
    if not m:
        return None
    parts = 1 + (m["minor"] is not None) + (m["patch"] is not None)
    pre = tuple(m["pre"].split(".")) if m["pre"] else ()
    return Version(int(m["major"]), int(m["minor"] or 0), int(m["patch"] or 0), pre, parts)


Bound = tuple[str, Version]  # (operator, version): one of > >= < <= =


@dataclass(frozen=True)
class Range:
    """A union (`||`) of intersections of comparators."""

    text: str
    alternatives: tuple[tuple[Bound, ...], ...]
    allows_prerelease: bool

    def contains(self, version: Version) -> bool:
        """Return True when the version is in the range (pre-releases only if the range names one)."""
        if version.pre and not self.allows_prerelease:
            return False
        return any(all(_satisfies(version, b) for b in bounds) for bounds in self.alternatives)


def _satisfies(version: Version, bound: Bound) -> bool:
    op, other = bound
    a, b = version.key(), other.key()
    return {">": a > b, ">=": a >= b, "<": a < b, "<=": a <= b, "=": a == b}[op]


def _v(major: int, minor: int = 0, patch: int = 0, pre: tuple[str, ...] = ()) -> Version:
    return Version(major, minor, patch, pre)


# The lowest possible pre-release: "<2" must exclude 2.0.0-rc.1 as npm does.
_FLOOR = ("0",)


def _expand(op: str, text: str, where: str) -> tuple[Bound, ...]:
    m = _PARTIAL.match(text)
    if not m:
        raise InputError(
            f"semver range {where!r}: {text!r} is not a version; write e.g. '>=1.2,<2' or '^1.4'"
        )
    nums = [m["major"], m["minor"], m["patch"]]
    wild = [n is None or n in "xX*" for n in nums]
    pre = tuple(m["pre"].split(".")) if m["pre"] else ()
    if wild[0]:
        return ((">=", _v(0, 0, 0, _FLOOR)),)
    major = int(nums[0])
    minor = 0 if wild[1] else int(nums[1])
    patch = 0 if wild[2] else int(nums[2])
    exact = not any(wild)
    low = _v(major, minor, patch, pre)
    if op == "^":
        if major > 0 or wild[1]:
            high = _v(major + 1, 0, 0, _FLOOR)
        elif minor > 0 or wild[2]:
            high = _v(0, minor + 1, 0, _FLOOR)
        else:
            high = _v(0, 0, patch + 1, _FLOOR)
        return ((">=", low), ("<", high))
    if op == "~" or (op in ("", "=", "==") and not exact):
        high = _v(major + 1, 0, 0, _FLOOR) if wild[1] else _v(major, minor + 1, 0, _FLOOR)
        return ((">=", low), ("<", high))
    if op in ("", "=", "=="):
        return (("=", low),)
    if op == ">" and not exact:  # ">1.2" means ">=1.3.0"
        return ((">=", _v(major + 1, 0, 0) if wild[1] else _v(major, minor + 1, 0)),)
    if op == "<=" and not exact:  # "<=1.2" means "<1.3.0"
        return (("<", _v(major + 1, 0, 0, _FLOOR) if wild[1] else _v(major, minor + 1, 0, _FLOOR)),)
    if op == "<":
        return (("<", _v(major, minor, patch, pre or _FLOOR)),)
    return ((op, low),)


def parse_range(text: str) -> Range:
    """Return the parsed range; InputError names the bad part and shows the syntax."""
    alternatives: list[tuple[Bound, ...]] = []
    for alternative in text.split("||"):
        # ">= 1.2" may carry a space between operator and version: glue them before splitting.
        tokens = re.sub(r"(\^|~|>=|<=|>|<|==|=)\s+", r"\1", alternative.replace(",", " ")).split()
        if not tokens:
            raise InputError(f"semver range {text!r} has an empty part; write e.g. '>=1.2,<2' or '^1.4'")
        bounds: list[Bound] = []
        for token in tokens:
            m = _COMPARATOR.match(token)
            if not m:
                raise InputError(f"semver range {text!r}: cannot read {token!r}; write e.g. '>=1.2,<2'")
            bounds.extend(_expand(m["op"] or "", m["version"], text))
        alternatives.append(tuple(bounds))
    allows = any(b[1].pre and b[1].pre != _FLOOR for bounds in alternatives for b in bounds)
    return Range(text, tuple(alternatives), allows)
