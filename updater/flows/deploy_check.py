"""`config validate --deep`, the deploy part: ask Argo CD whether each app × env's Application exists
and reads our repository, branch and values file (its spec.source(s): repoURL, targetRevision, path,
helm valueFiles). One GET per Application, no refresh."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from updater.config.model import Config
from updater.deploy.argocd import ArgoCD
from updater.deploy.points import problems
from updater.infra.errors import RemoteError


@dataclass(frozen=True)
class ApplicationCheck:
    """One app × env: its Application and what is wrong with it (empty: fine)."""

    app: str
    env: str
    application: str
    problems: tuple[str, ...]

    @property
    def ok(self) -> bool:
        return not self.problems

    def to_json(self) -> dict[str, Any]:
        return {
            "app": self.app,
            "env": self.env,
            "application": self.application,
            "ok": self.ok,
            "problems": list(self.problems),
        }


def check_applications(config: Config, repo_url: str, environ: Mapping[str, str]) -> list[ApplicationCheck]:
    """Return one check per app × env of the config's deploy section (none without one)."""
    deploy = config.deploy
    if deploy is None:
        return []
    client = ArgoCD(deploy.server, environ)
    out = []
    try:
        for name, app in config.apps.items():
            for env, targets in app.targets.items():
                ref = deploy.ref(name, env)
                branch = config.environments[env].branch or ""
                try:
                    found = client.get(ref.name, namespace=ref.namespace, project=ref.project)
                except RemoteError as exc:
                    out.append(ApplicationCheck(name, env, ref.name, (exc.message,)))
                    continue
                seen: list[str] = []
                for file in dict.fromkeys(t.file for t in targets):
                    seen += [p for p in problems(found, repo_url, branch, file) if p not in seen]
                out.append(ApplicationCheck(name, env, ref.name, tuple(seen)))
    finally:
        client.close()
    return out
