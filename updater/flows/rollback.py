"""`rollback`: write back an earlier tag of an app, found in its values file's git history.

The earlier tag goes through the same write path as a bump (one commit, lost races re-applied),
after checking that the image still exists in the registry. The same commit records a hold
(`flows.holds`), so that the next automatic bump does not undo the rollback.
"""

from __future__ import annotations

from dataclasses import replace

from updater.config.model import Config
from updater.flows import holds
from updater.flows import plan as planning
from updater.flows.read import Entry, history
from updater.flows.registries import Registries
from updater.flows.report import WriteReport
from updater.flows.write import Extra, NewValue, write
from updater.infra.errors import InputError
from updater.scm.base import Backend


def rollback(
    config: Config,
    backend: Backend,
    env: str,
    app: str,
    *,
    to: str | None = None,
    steps: int | None = None,
    registries: Registries | None = None,
    dry_run: bool = False,
    wait_merged: float | None = None,
) -> WriteReport:
    """Write the tag `steps` changes back (default 1), or the earlier tag `to`, into `env`."""
    if to is not None and steps is not None:
        raise InputError("give either --to TAG or --steps N, not both")
    item = planning.plan(config, env, [app])[0]
    planning.check_wait_merged(config, env, wait_merged)
    entries = history(config, backend, env, app)
    if not entries:
        raise InputError(f"app {app!r} ({env}): no tag found in the history of {item.targets[0].file}")
    now = entries[0].tag
    earlier: list[Entry] = []
    for entry in entries[1:]:
        if entry.tag != now and entry.tag not in [e.tag for e in earlier]:
            earlier.append(entry)
    if to is not None:
        chosen = next((e for e in earlier if e.tag == to), None)
        if chosen is None and to != now:
            listed = ", ".join(e.tag for e in earlier[:5]) or "none"
            raise InputError(f"app {app!r} ({env}): {to} is not in its history; earlier tags: {listed}")
        tag = to
    else:
        count = 1 if steps is None else steps
        if count < 1:
            raise InputError("--steps must be 1 or more")
        if count > len(earlier):
            raise InputError(
                f"app {app!r} ({env}): only {len(earlier)} earlier tag(s) in history, cannot go back {count}"
            )
        tag = earlier[count - 1].tag
    registry = (registries or Registries(config)).get(item.image)
    digest = registry.digest(tag)
    if digest is None:
        raise InputError(
            f"app {app!r}: {registry.name}:{tag} no longer exists in the registry: choose another tag"
        )
    author = config.commit.author.name if config.commit.author else None
    hold = holds.new_hold(env, app, now, tag, author)
    extra = Extra(
        holds.placing(hold, item.branch),
        lines=(f"  hold: {hold.describe()}, until `updater release --env {env} --app {app}`",),
    )
    report = write(
        config,
        backend,
        "rollback",
        env,
        [NewValue(item, tag, digest)],
        dry_run=dry_run,
        wait_merged=wait_merged,
        extra=extra,
    )
    note = f"{app} ({env}) is held at {tag}: bump skips it until `updater release --env {env} --app {app}`"
    return replace(report, notes=(*report.notes, note)) if report.changed else report
