"""The per-kind tag pickers behind `updater.resolve.policy.resolve`.

Each picker lists and reads only what its kind needs: `template` one manifest HEAD, `digest` the
pages plus the candidates it checks (immutable-looking names first), `newest` one manifest GET per
candidate and one build time per distinct digest that passes the filter, the ordered kinds the pages
plus the chosen tag's digest. Messages about what is missing leave "or pass --wait" to the resolver.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import replace
from datetime import datetime
from typing import Any, NamedTuple

from updater.domain.semver import Version, parse_range, parse_version
from updater.domain.tags import TemplateVars, looks_immutable, render_template
from updater.infra.errors import InputError
from updater.resolve.types import (
    Candidate,
    NoMatchingTag,
    Strategy,
    _Filter,
    _Lookup,
)


class Picked(NamedTuple):
    tag: str
    digest: str | None
    created: datetime | None
    candidates: list[Candidate]


def pick(lookup: _Lookup, strategy: Strategy, variables: TemplateVars, filt: _Filter) -> Picked:
    """Return the tag the strategy picks, with every candidate and its verdict."""
    pickers: dict[str, Callable[[_Lookup, Strategy, TemplateVars, _Filter], Picked]] = {
        "template": _template,
        "digest": _digest,
        "newest": _newest_kind,
        "semver": _semver,
        "alphabetical": _alphabetical,
        "numerical": _numerical,
    }
    return pickers[strategy.kind](lookup, strategy, variables, filt)


def _name(lookup: _Lookup) -> str:
    return lookup.registry.name


def _template(lookup: _Lookup, strategy: Strategy, variables: TemplateVars, filt: _Filter) -> Picked:
    assert strategy.template is not None
    tag = render_template(strategy.template, variables)
    if "*" in tag:
        return _open_template(lookup, tag, filt)
    reason = filt.reject(tag)
    if reason is not None:
        raise InputError(f"tag template {strategy.template!r} gives {tag!r}, which is rejected: it {reason}")
    digest = lookup.digest(tag)
    if digest is None:
        raise NoMatchingTag(f"{_name(lookup)}:{tag} does not exist: push the image first")
    return Picked(tag, digest, None, [Candidate(tag, True, "rendered from the template", digest)])


def _open_template(lookup: _Lookup, tag: str, filt: _Filter) -> Picked:
    pattern = re.compile("^" + "[A-Za-z0-9_.-]+".join(re.escape(part) for part in tag.split("*")) + "$")
    rejected: list[Candidate] = []
    names: list[str] = []
    for info in lookup.tags():
        reason = None if pattern.match(info.tag) else f"does not match the template {tag}"
        reason = reason or filt.reject(info.tag)
        if reason is None:
            names.append(info.tag)
        else:
            rejected.append(Candidate(info.tag, False, reason, info.digest, info.created))
    if not names:
        raise NoMatchingTag(f"no tag of {_name(lookup)} matches {tag!r}: push the image first")
    return _by_build_time(lookup, names, rejected)


def _by_build_time(lookup: _Lookup, names: list[str], rejected: list[Candidate]) -> Picked:
    """Return the newest of `names` by build time; ties and unknown times fall back to the tag's name."""
    dated = [(lookup.created(name), name) for name in names]
    best = max(dated, key=lambda item: (item[0] is not None, item[0] or datetime.min, item[1]))
    candidates = []
    for created, name in dated:
        when = created.isoformat() if created else "unknown build time"
        verdict = "chosen: newest build" if name == best[1] else f"older than {best[1]}"
        candidates.append(Candidate(name, True, f"{verdict} ({when})", lookup.digest(name), created))
    return Picked(best[1], lookup.digest(best[1]), best[0], candidates + rejected)


def _newest_kind(lookup: _Lookup, strategy: Strategy, variables: TemplateVars, filt: _Filter) -> Picked:
    names, rejected = _filtered(lookup, filt)
    if not names:
        raise NoMatchingTag(_none_message(lookup, strategy))
    return _by_build_time(lookup, names, rejected)


def _filtered(lookup: _Lookup, filt: _Filter) -> tuple[list[str], list[Candidate]]:
    names: list[str] = []
    rejected: list[Candidate] = []
    for info in lookup.tags():
        reason = filt.reject(info.tag)
        if reason is None:
            names.append(info.tag)
        else:
            rejected.append(Candidate(info.tag, False, reason, info.digest, info.created))
    return names, rejected


def _none_message(lookup: _Lookup, strategy: Strategy) -> str:
    rules = []
    if strategy.include:
        rules.append(f"include /{strategy.include}/")
    rules.extend(f"exclude /{p}/" for p in strategy.exclude)
    if strategy.range:
        rules.append(f"range {strategy.range}")
    what = f" ({', '.join(rules)})" if rules else ""
    return (
        f"no tag of {_name(lookup)} passes the {strategy.kind} strategy{what}: "
        "check --include/--exclude/--range (see --explain)"
    )


def _digest(lookup: _Lookup, strategy: Strategy, variables: TemplateVars, filt: _Filter) -> Picked:
    assert strategy.tag is not None
    source = render_template(strategy.tag, variables)
    missing = f"{_name(lookup)}:{source} does not exist: push it first"
    if filt.reject(source) is None:  # the tag CI pushed is itself immutable: one lookup
        wanted = lookup.digest(source)
        if wanted is None:
            raise NoMatchingTag(missing)
        chosen = Candidate(source, True, "the given tag passes the filter", wanted)
        return Picked(source, wanted, None, [chosen])
    # List first: where the listing carries digests (Artifact Registry, layouts) the source's is free.
    names, rejected = _filtered(lookup, filt)
    wanted = lookup.digest(source)
    if wanted is None:
        raise NoMatchingTag(missing)
    names = [n for n in names if n != source]
    # Tags whose digest the listing already gave cost nothing: check them first; then the names that
    # look immutable (a commit hash, a version, a timestamp), which a build's tags usually are, so
    # 10,000 tags cost the pages and a few HEADs; newest-looking names first within each group.
    names.sort(key=lambda n: (lookup.listed[n].digest is not None, looks_immutable(n), n), reverse=True)
    candidates: list[Candidate] = []
    match: str | None = None
    for name in names:
        if match is not None and lookup.listed[name].digest is None:
            candidates.append(Candidate(name, True, f"not checked: {match} matched first"))
            continue
        digest = lookup.digest(name)
        same = digest == wanted
        if same and match is None:
            match = name
        reason = "same digest as " + source if same else "different digest"
        candidates.append(Candidate(name, same, reason, digest))
    if match is None:
        raise NoMatchingTag(
            f"no other tag of {_name(lookup)} has the digest of {source!r} ({wanted}): "
            "push an immutable tag with the same image, or widen --include"
        )
    candidates = [c if c.tag != match else replace(c, reason="chosen: " + c.reason) for c in candidates]
    return Picked(match, wanted, None, candidates + rejected)


def _ordered(
    lookup: _Lookup,
    strategy: Strategy,
    filt: _Filter,
    parse: Callable[[str], tuple[Any, str | None]],
) -> Picked:
    """Return the highest tag by `parse` (sort key, or None and why the tag has none)."""
    keyed: list[tuple[Any, str]] = []
    names, rejected = _filtered(lookup, filt)
    for name in names:
        key, why_not = parse(filt.key(name))
        if why_not is not None:
            rejected.append(Candidate(name, False, why_not))
        else:
            keyed.append((key, name))
    if not keyed:
        raise NoMatchingTag(_none_message(lookup, strategy))
    best = max(keyed)
    candidates = [
        Candidate(name, True, "chosen: highest" if name == best[1] else f"lower than {best[1]}")
        for _, name in sorted(keyed, reverse=True)
    ]
    digest = lookup.digest(best[1])
    candidates[0] = Candidate(best[1], True, candidates[0].reason, digest)
    return Picked(best[1], digest, None, candidates + rejected)


def _semver(lookup: _Lookup, strategy: Strategy, variables: TemplateVars, filt: _Filter) -> Picked:
    wanted = parse_range(strategy.range or "*")

    def parse(text: str) -> tuple[Any, str | None]:
        version: Version | None = parse_version(text)
        if version is None:
            return None, "not a semantic version"
        if version.pre and not wanted.allows_prerelease:
            return None, "a pre-release (name one in --range to allow them)"
        if not wanted.contains(version):
            return None, f"outside the range {wanted.text}"
        return (version.key(), version.parts), None

    return _ordered(lookup, strategy, filt, parse)


def _alphabetical(lookup: _Lookup, strategy: Strategy, variables: TemplateVars, filt: _Filter) -> Picked:
    return _ordered(lookup, strategy, filt, lambda text: (text, None))


def _numerical(lookup: _Lookup, strategy: Strategy, variables: TemplateVars, filt: _Filter) -> Picked:
    def parse(text: str) -> tuple[Any, str | None]:
        if not text.isdigit():
            return None, "not a number (use an --include group to pick the number out)"
        return int(text), None

    return _ordered(lookup, strategy, filt, parse)
