"""Which tag a promotion writes: the target environment's build of the source environment's commit.

Environments may spell the same build differently (`stage-1a2b3c4d-1776072918` in one repository,
`prod-1a2b3c4d-1776073301` in another): the commit is read out of the source tag through the source
policy's template, and the target policy's template, filled with it, is resolved in the target image.
When the tag does not spell enough of the commit, the `Source commit:` line bump wrote in the commit
that set it is used. When the target policy does not spell the commit, the tag is copied as it is;
either way the tag written must satisfy the target's policy unless forced.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace

from updater.config.model import TagPolicy
from updater.domain import tagcommit
from updater.domain.semver import parse_range, parse_version
from updater.infra.errors import InputError
from updater.registry.base import Registry
from updater.resolve import MOVING_TAGS, NoMatchingTag, Strategy, TemplateVars, resolve


@dataclass(frozen=True)
class Origin:
    """Where a promoted tag comes from: the source environment, its tag, and the commit it was built from."""

    env: str
    tag: str
    commit: str | None = None  # hex digits as the source template spells them (a prefix, usually)
    complete: bool = False  # `commit` is the whole commit as CI spells `{sha}`


@dataclass(frozen=True)
class Choice:
    """The tag to write in the target, and its digest when a lookup already gave it."""

    tag: str
    digest: str | None
    resolved: bool  # found in the target registry by commit (False: copied from the source)


def origin(policy: TagPolicy, env: str, app: str, tag: str) -> Origin:
    """Return the origin of `tag` in `env`, with its commit when the env's template spells it."""
    template = policy.template if policy.kind == "template" else None
    found = tagcommit.commit_of(template, tag, app=app, env=env)
    if found is None:
        return Origin(env, tag)
    return Origin(env, tag, found[0], found[1])


def needs_commit(source: Origin, target_policy: TagPolicy, app: str, target_env: str) -> bool:
    """True when finding the target's build needs more of the commit than the source tag gives."""
    template = target_policy.template if target_policy.kind == "template" else None
    if not template or not tagcommit.has_commit(template):
        return False
    if tagcommit.matches(template, source.tag, app=app, env=target_env):
        return False
    if source.commit is None:
        return True
    try:
        tagcommit.render_for(template, source.commit, app=app, env=target_env, complete=source.complete)
    except tagcommit.CommitUnknown:
        return True
    return False


def with_recorded(source: Origin, recorded: str | None) -> Origin:
    """Return `source` with the whole commit recorded when the commit wrote it, if it agrees with the tag."""
    if recorded is None or (source.commit is not None and not recorded.startswith(source.commit)):
        return source
    return replace(source, commit=recorded, complete=True)


def choose(
    source: Origin,
    source_policy: TagPolicy,
    target_env: str,
    target_policy: TagPolicy,
    app: str,
    registry: Registry,
    *,
    force: bool = False,
    wait: float | None = None,
) -> Choice:
    """Return the tag to write in `target_env` for `source`; InputError (exit 2) when there is none.

    `registry` is the target's (primary) image, where a tag spelled from the commit is resolved.
    `force` writes the source tag when the target's build of its commit cannot be looked for (the
    commit is unknown, or too short for the target's template) or the tag breaks the target's policy.
    """
    template = target_policy.template if target_policy.kind == "template" else None
    if not template or not tagcommit.has_commit(template):
        return _copied(source, target_env, target_policy, app, force=force)
    if tagcommit.matches(template, source.tag, app=app, env=target_env):
        return Choice(source.tag, None, False)  # the policies agree: the same tag names the build
    if source.commit is None:
        if force:
            return Choice(source.tag, None, False)
        raise InputError(
            f"app {app!r}: {source.tag} does not satisfy {target_env}'s tag policy {template} "
            f"({source.env}'s policy does not spell the commit, nor does the commit that wrote it name one, "
            f"so the {target_env} build of the same commit cannot be found): pass --force to write it anyway"
        )
    try:
        spelled = tagcommit.render_for(
            template, source.commit, app=app, env=target_env, complete=source.complete
        )
    except tagcommit.CommitUnknown:
        if force:
            return Choice(source.tag, None, False)
        given = "all the" if source.complete else f"{len(source.commit)}"
        raise InputError(
            f"app {app!r}: {source.env}'s {source.tag} gives {given} hex digits of its commit "
            f"({source_policy.template}), but {target_env}'s template {template} needs 40: make the "
            "templates spell the same length, or pass --force to copy the tag"
        ) from None
    strategy = Strategy(
        template=spelled,
        include=target_policy.include,
        exclude=target_policy.exclude,
        wait=target_policy.wait if wait is None else wait,
    )
    try:
        found = resolve(registry, strategy, TemplateVars(app=app, env=target_env))
    except NoMatchingTag as exc:
        raise InputError(
            f"app {app!r}: no {target_env} build of commit {source.commit} in {registry.name}: nothing "
            f"matches {spelled} ({source.env} runs {source.tag}, built from commit {source.commit}): "
            f"push it, or wait for it with --wait DURATION ({exc.message})"
        ) from None
    return Choice(found.tag, found.digest, True)


def _copied(source: Origin, target_env: str, policy: TagPolicy, app: str, *, force: bool) -> Choice:
    if not force:
        reason = refusal(policy, source.tag, app=app, env=target_env)
        if reason:
            raise InputError(
                f"app {app!r}: {source.tag} does not satisfy {target_env}'s tag policy ({reason}): "
                "pass --force to write it anyway"
            )
    return Choice(source.tag, None, False)


def refusal(policy: TagPolicy, tag: str, *, app: str, env: str) -> str | None:
    """Return why `tag` is not one `policy` would choose (its template, filters, range), or None."""
    template = policy.template if policy.kind == "template" else None
    if template and not tagcommit.matches(template, tag, app=app, env=env):
        return f"it does not match {template}"
    if policy.include is not None:
        if not re.search(policy.include, tag):
            return f"it does not match include /{policy.include}/"
    elif tag in MOVING_TAGS:
        return "a moving tag"
    for pattern in policy.exclude:
        if re.search(pattern, tag):
            return f"it matches exclude /{pattern}/"
    if policy.kind == "semver":
        wanted = parse_range(policy.range or "*")
        version = parse_version(tag)
        if version is None or not wanted.contains(version):
            return f"it is outside the range {wanted.text}"
    return None
