"""The `deploy` section of `.updater.yaml` as values: which Argo CD, which Application per app × env.

Plain values with no imports of ours: the config model holds them (and sits high in the import chain).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

DEFAULT_APPLICATION = "{app}-{env}"
DEFAULT_TOKEN_ENV = "ARGOCD_AUTH_TOKEN"  # the variable the argocd CLI reads too


@dataclass(frozen=True)
class Server:
    """Where Argo CD's API is and how to trust it; the token is read from `token_env` at connect."""

    url: str
    token_env: str = DEFAULT_TOKEN_ENV
    ca_file: str | None = None
    insecure: bool = False  # skip TLS verification (a self-signed test server)


@dataclass(frozen=True)
class ApplicationRef:
    """An Argo CD Application: its name, and its `appNamespace` and project when not the defaults."""

    name: str
    namespace: str = ""
    project: str = ""


@dataclass(frozen=True)
class DeploySettings:
    """Argo CD's server, the defaults for every Application, and per app × env overrides."""

    server: Server
    namespace: str = ""
    project: str = ""
    selector: str = ""  # label selector for `status --live`'s list call
    application: str = DEFAULT_APPLICATION  # name template: {app}, {env}
    applications: Mapping[str, Mapping[str, ApplicationRef]] = field(default_factory=dict)

    def ref(self, app: str, env: str) -> ApplicationRef:
        """Return the Application that deploys `app` in `env` (an override, else the template)."""
        given = self.applications.get(app, {}).get(env)
        name = (
            given.name
            if given and given.name
            else self.application.replace("{app}", app).replace("{env}", env)
        )
        return ApplicationRef(
            name=name,
            namespace=(given.namespace if given else "") or self.namespace,
            project=(given.project if given else "") or self.project,
        )


@dataclass(frozen=True)
class Waiting:
    """How to wait: the deadline in seconds, whether we may sync manual apps, and roll back on failure."""

    timeout: float
    sync: bool = False
    rollback_on_failure: bool = False
