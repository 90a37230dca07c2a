"""`promote`: write into one environment the builds another runs, carried by their source commit.

The tag is read from git, not from the registry: what runs in the source environment is what gets
promoted. When the target spells its builds differently (`prod-<sha8>-*` for `stage-<sha8>-*`), the
target's build of the same commit is resolved in the target image (`flows.promotion`); otherwise the
tag is copied. Every image must have it before anything is written, and a recorded digest must
still match.
"""

from __future__ import annotations

from collections.abc import Sequence

from updater.config.model import Config
from updater.flows import plan as planning
from updater.flows import promotion
from updater.flows.read import current, recorded_source
from updater.flows.registries import Registries, every_image, missing_error
from updater.flows.report import Source, WriteReport
from updater.flows.write import NewValue, write
from updater.infra.errors import InputError
from updater.scm.base import Backend


def promote(
    config: Config,
    backend: Backend,
    source: str | None,
    target: str,
    apps: Sequence[str] = (),
    *,
    registries: Registries | None = None,
    dry_run: bool = False,
    wait_merged: float | None = None,
    force: bool = False,
    wait: float | None = None,
) -> WriteReport:
    """Write into `target` the build each app runs in `source` (default: the target's promote-from).

    The build is carried by its source commit (see `flows.promotion`); `wait` seconds are spent
    waiting for the target's build of it, `force` writes a tag the target's policy would not choose.
    Every problem of the run is reported at once, before anything is written.
    """
    destination = planning.environment(config, target, writing=True)
    planning.check_wait_merged(config, target, wait_merged)
    if source is None:
        source = destination.promote_from
        if source is None:
            raise InputError(
                f"{config.where('environments', target)}: environment {target!r} has no promote-from: "
                "pass --from ENV"
            )
    planning.environment(config, source)
    if source == target:
        raise InputError(f"cannot promote {target!r} to itself: give two different environments")
    registries = registries or Registries(config)
    values = []
    problems: list[str] = []
    missing: list[tuple[str, str]] = []
    for item in planning.plan(config, target, apps):
        origin = planning.app_plan(config, item.app, source)
        if origin is None:
            if apps:
                raise InputError(
                    f"{config.where('apps', item.app)}: app {item.app!r} has no values files "
                    f"for environment {source!r}"
                )
            continue
        found = current(config, backend, origin)
        if found.tag is None:
            raise InputError(
                f"{found.file}:{found.line or 1}: app {item.app!r} has no tag in {source!r} to promote: "
                "bump it first"
            )
        carried = promotion.origin(origin.policy, source, item.app, found.tag)
        if promotion.needs_commit(carried, item.policy, item.app, target):
            recorded = recorded_source(config, backend, origin, found.tag)
            carried = promotion.with_recorded(carried, recorded)
        try:
            choice = promotion.choose(
                carried,
                origin.policy,
                target,
                item.policy,
                item.app,
                registries.get(item.image),
                force=force,
                wait=wait,
            )
        except InputError as exc:
            problems.append(exc.message)
            continue
        images, lacking = every_image(registries, item.images, choice.tag, choice.digest)
        if lacking:
            missing += [(reference, item.app) for reference in lacking]
            continue
        digest = images[0][1]
        if found.digest and not choice.resolved and origin.image == item.image and found.digest != digest:
            problems.append(
                f"app {item.app!r}: {registries.get(item.image).name}:{found.tag} now points to {digest}, "
                f"not the {found.digest} recorded in {source!r}: the tag moved; bump {source!r} again"
            )
            continue
        values.append(NewValue(item, choice.tag, digest, images, Source(source, found.tag, carried.commit)))
    if missing:
        problems.append(missing_error("promote", target, missing).message)
    if problems:
        raise InputError("; ".join(problems))
    if not values:
        raise InputError(f"no app has values files in both {source!r} and {target!r}")
    return write(config, backend, "promote", target, values, dry_run=dry_run, wait_merged=wait_merged)
