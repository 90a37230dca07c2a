"""`promote`: copy each app's tag (and digest) from one environment's files to another's.

The tag is read from git, not from the registry: what runs in the source environment is what gets
promoted. It is checked to exist in the target environment's image (which may be another
repository) before anything is written, and a recorded digest must still match.
"""

from __future__ import annotations

from collections.abc import Sequence

from updater.config.model import Config
from updater.flows import holds
from updater.flows import plan as planning
from updater.flows.read import current
from updater.flows.registries import Registries
from updater.flows.report import WriteReport
from updater.flows.write import NewValue, read_ahead, write
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
    ignore_hold: bool = False,
) -> WriteReport:
    """Write the tags of `source` (default: the target's promote-from) into `target`, one commit."""
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
    plans = planning.plan(config, target, apps)
    # The target's values files and holds file in one read (one GitHub query), reused by the preview.
    paths = [t.file for item in plans for t in item.targets] + [holds.HOLDS_FILE]
    reader = read_ahead(backend, destination.branch or "", list(dict.fromkeys(paths)))
    held = holds.of_env(config, backend, target, reader)
    holds.refuse_if_held(held, target, [p.app for p in plans], ignore_hold)
    for item in plans:
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
        registry = registries.get(item.image)
        digest = registry.digest(found.tag)
        if digest is None:
            raise InputError(
                f"app {item.app!r}: {registry.name}:{found.tag} does not exist: "
                "push the image there before promoting"
            )
        if found.digest and origin.image == item.image and found.digest != digest:
            raise InputError(
                f"app {item.app!r}: {registry.name}:{found.tag} now points to {digest}, "
                f"not the {found.digest} recorded in {source!r}: the tag moved; bump {source!r} again"
            )
        values.append(NewValue(item, found.tag, digest))
    if not values:
        raise InputError(f"no app has values files in both {source!r} and {target!r}")
    return write(
        config, backend, "promote", target, values, dry_run=dry_run, wait_merged=wait_merged, reader=reader
    )
