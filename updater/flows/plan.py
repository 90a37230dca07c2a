"""Turn the config and the user's selection into the work to do: which app, which files, which strategy.

Pure functions over `updater.config.Config`; every error names the config's FILE:LINE or says which
name the user mistyped, before any network call is made.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace

from updater.config.model import Config, Environment, TagPolicy, Target
from updater.infra.errors import InputError
from updater.resolve.types import Strategy
from updater.yamledit.model import Locator


@dataclass(frozen=True)
class AppPlan:
    """One app in one environment: its image(s) and the places its tag is written."""

    app: str
    env: str
    branch: str
    image: str  # where the tag is resolved
    targets: tuple[Target, ...]
    policy: TagPolicy
    record_digest: bool
    more_images: tuple[str, ...] = ()  # share the value: each must have the tag too

    @property
    def images(self) -> tuple[str, ...]:
        return (self.image, *self.more_images)


def with_default_branch(config: Config, default: str) -> Config:
    """Return `config` with every environment that names no branch on the repository's default one."""
    environments = {
        name: replace(env, branch=env.branch or default) for name, env in config.environments.items()
    }
    return replace(config, environments=environments)


def with_mode(config: Config, env: str, mode: str | None) -> Config:
    """Return `config` with environment `env` landing changes in `mode` (the --mode flag), if given."""
    if mode is None or env not in config.environments:
        return config
    environments = dict(config.environments)
    environments[env] = replace(environments[env], mode=mode)
    return replace(config, environments=environments)


def check_wait_merged(config: Config, env: str, wait_merged: float | None) -> None:
    """Refuse --wait-merged unless `env` lands by auto-merge (checked before any network call)."""
    found = config.environments.get(env)
    if wait_merged is not None and found is not None and found.mode != "auto-merge":
        raise InputError(
            f"--wait-merged waits for an auto-merged pull request, but {env} lands by {found.mode}: "
            "add --mode auto-merge (or set the environment's mode in the config)"
        )


def environment(config: Config, name: str, *, writing: bool = False) -> Environment:
    """Return the environment called `name`; with `writing`, refuse a frozen one."""
    env = config.environments.get(name)
    if env is None:
        raise InputError(f"unknown environment {name!r}{_suggest(name, config.environments)}")
    if writing and env.frozen:
        raise InputError(
            f"{config.where('environments', name)}: environment {name!r} is frozen: "
            "unfreeze it in the config to change its tags"
        )
    return env


def plan(config: Config, env: str, apps: Sequence[str] = (), *, writing: bool = True) -> list[AppPlan]:
    """Return the plans for `apps` (all apps that have files in `env` when empty), in config order."""
    environment(config, env, writing=writing)
    for name in apps:
        if name not in config.apps:
            raise InputError(f"unknown app {name!r}{_suggest(name, config.apps)}")
    plans = []
    wanted = list(dict.fromkeys(apps)) if apps else list(config.apps)
    for name in wanted:
        found = app_plan(config, name, env)
        if found is None:
            if apps:
                raise InputError(
                    f"{config.where('apps', name)}: app {name!r} has no values files for environment {env!r}"
                )
            continue
        plans.append(found)
    if not plans:
        raise InputError(f"no app has values files for environment {env!r}: add some in {config.path}")
    return plans


def app_plan(config: Config, name: str, env: str) -> AppPlan | None:
    """Return the plan of one app in one environment, or None when the app has no files there."""
    app = config.apps[name]
    targets = app.targets.get(env, ())
    if not targets:
        return None
    image = app.images.get(env)
    if not image:
        raise InputError(f"{config.where('apps', name)}: app {name!r} has no image for environment {env!r}")
    environment_ = config.environments[env]
    policy = app.tag.get(env) or environment_.tag
    more = app.more_images.get(env, ())
    return AppPlan(name, env, environment_.branch or "", image, targets, policy, app.record_digest, more)


def strategy(policy: TagPolicy) -> Strategy:
    """Return the resolver's strategy for a config tag policy."""
    return Strategy(
        kind=policy.kind,
        template=policy.template,
        tag=policy.tag,
        include=policy.include,
        exclude=tuple(policy.exclude),
        range=policy.range,
        wait=policy.wait,
    )


def locator(target: Target) -> Locator:
    """Return the yamledit locator of a config target."""
    return Locator(key=target.key, image=target.image, marker=target.marker, document=target.document)


def where(config: Config, target: Target) -> str:
    """Return "FILE:LINE" of the config entry that declared `target`."""
    return f"{config.path}:{target.line}"


def _suggest(name: str, known: Iterable[str]) -> str:
    names = list(known)
    close = difflib.get_close_matches(name, names, n=1, cutoff=0.5)
    if close:
        return f": did you mean {close[0]!r}?"
    return f": choose one of {', '.join(names)}" if names else ""
