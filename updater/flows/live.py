"""`status --live`: what Argo CD runs for each app × env, next to git and the registry, with drift flags.

One list call per (appNamespace, label selector) group, naming every project of the group at once
(`projects` is repeatable in ApplicationService_List), never one call per app. Drift:
`live≠git` when the Application is OutOfSync or the tag it runs is not the tag in git (a hand-patched
cluster), `git≠newest` when the registry has a newer matching build than git holds.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from updater.config.deploy import require_deploy
from updater.config.model import Config
from updater.deploy.application import Application
from updater.deploy.argocd import ArgoCD
from updater.deploy.decide import split_image
from updater.deploy.settings import ApplicationRef
from updater.domain import imageref
from updater.flows.report import table
from updater.infra.errors import UpdaterError


@dataclass(frozen=True)
class LiveRow:
    """One app × env: git's tag, the registry's newest, and what Argo CD reports."""

    app: str
    env: str
    tag: str | None
    newest: str | None
    behind: bool | None
    application: str
    live: str | None
    sync: str | None
    health: str | None
    drift: tuple[str, ...]

    def to_json(self) -> dict[str, Any]:
        return {
            "app": self.app,
            "env": self.env,
            "tag": self.tag,
            "newest": self.newest,
            "behind": self.behind,
            "application": self.application,
            "live": self.live,
            "sync": self.sync,
            "health": self.health,
            "drift": list(self.drift),
        }


def live_tag(images: Sequence[str], image: str, git_tag: str | None) -> str | None:
    """Return the tag Argo CD reports for `image`: the image of that repository, else the only image,
    else the one carrying git's tag; None when it cannot tell."""
    parsed = [split_image(i) for i in images]
    same = [p for p in parsed if _same(p[0], image)]
    if same:
        return same[0][1]
    if len(parsed) == 1:
        return parsed[0][1]
    return git_tag if git_tag and any(p[1] == git_tag for p in parsed) else None


def drift(
    app: Application | None, live: str | None, git_tag: str | None, behind: bool | None
) -> tuple[str, ...]:
    """Return the drift flags of one row (pure)."""
    flags = []
    if app is not None and (app.sync_status == "OutOfSync" or (live is not None and live != git_tag)):
        flags.append("live≠git")
    if behind:
        flags.append("git≠newest")
    return tuple(flags)


def live(
    config: Config, rows: Sequence[Any], environ: Mapping[str, str], images: Mapping[tuple[str, str], str]
) -> list[LiveRow]:
    """Return `rows` (status rows: app, env, tag, newest, behind) with Argo CD's view added."""
    deploy = require_deploy(config)
    refs: dict[tuple[str, str], ApplicationRef] = {(r.app, r.env): deploy.ref(r.app, r.env) for r in rows}
    # namespace -> the projects to name; an app without a project means the whole namespace ("").
    groups: dict[str, set[str]] = {}
    for ref in refs.values():
        groups.setdefault(ref.namespace, set()).add(ref.project)
    client = ArgoCD(deploy.server, environ)
    found: dict[tuple[str, str], Application] = {}
    try:
        for namespace, projects in groups.items():
            for listed in client.applications(
                projects=[] if "" in projects else sorted(projects),
                selector=deploy.selector,
                namespace=namespace,
            ):
                found[(listed.namespace if namespace else "", listed.name)] = listed
    finally:
        client.close()
    out = []
    for row in rows:
        ref = refs[(row.app, row.env)]
        app = found.get((ref.namespace, ref.name))
        tag = live_tag(app.images, images[(row.app, row.env)], row.tag) if app else None
        out.append(
            LiveRow(
                row.app,
                row.env,
                row.tag,
                row.newest,
                row.behind,
                ref.name,
                tag,
                app.sync_status if app else None,
                app.health if app else None,
                drift(app, tag, row.tag, row.behind),
            )
        )
    return out


def render(rows: Sequence[LiveRow]) -> str:
    """Return the live status table."""
    cells = [
        [
            r.app,
            r.env,
            r.tag or "-",
            r.live or ("-" if r.sync else "not in Argo CD"),
            r.sync or "-",
            r.health or "-",
            r.newest or "-",
            ", ".join(r.drift) or "none",
        ]
        for r in rows
    ]
    return table(["APP", "ENV", "TAG IN GIT", "LIVE", "SYNC", "HEALTH", "NEWEST IN REGISTRY", "DRIFT"], cells)


def _same(reported: str, configured: str) -> bool:
    try:
        return imageref.parse(reported).name == imageref.parse(configured).name
    except UpdaterError:
        return False
