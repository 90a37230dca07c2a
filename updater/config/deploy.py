"""The `deploy` section of `.updater.yaml`: which Argo CD, and which Application deploys each app × env.

Its shape is declared in `schema.DEPLOY`; `build_deploy` checks what a shape cannot (the URL, the CA
file, that the apps and environments named exist) and returns the settings the deploy adapter reads.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from updater.config.model import Config, Environment
from updater.config.parse import Loaded
from updater.deploy.argocd import check_url
from updater.deploy.settings import (
    DEFAULT_APPLICATION,
    DEFAULT_TOKEN_ENV,
    ApplicationRef,
    DeploySettings,
    Server,
)
from updater.infra.errors import InputError


def build_deploy(
    loaded: Loaded,
    root: Path,
    data: dict[str, Any] | None,
    apps: list[str],
    environments: dict[str, Environment],
) -> DeploySettings | None:
    """Return the deploy settings, or None when the config has no deploy section."""
    if data is None:
        return None
    try:
        url = check_url(data["server"])
    except InputError as exc:
        said = exc.message.removeprefix("deploy.server: ").removeprefix("deploy.server ")
        raise loaded.error(("deploy", "server"), said, at_value=True) from None
    ca_file = data.get("ca-file")
    if ca_file is not None:
        path = Path(ca_file) if Path(ca_file).is_absolute() else root / ca_file
        if not path.is_file():
            raise loaded.error(
                ("deploy", "ca-file"), f"{path} is not a file; give the PEM CA bundle", at_value=True
            )
        ca_file = str(path)
    template = data.get("application", DEFAULT_APPLICATION)
    if "{app}" not in template and not data.get("applications"):
        message = "names one Application for every app; put {app} (and {env}) in it"
        raise loaded.error(("deploy", "application"), message, at_value=True)
    applications: dict[str, dict[str, ApplicationRef]] = {}
    for app, per_env in (data.get("applications") or {}).items():
        if app not in apps:
            raise loaded.error(("deploy", "applications", app), f"no app {app!r} in apps; use one of {apps}")
        for env, given in per_env.items():
            if env not in environments:
                message = f"no environment {env!r}; use one of {list(environments)}"
                raise loaded.error(("deploy", "applications", app, env), message)
            ref = (
                ApplicationRef(given)
                if isinstance(given, str)
                else ApplicationRef(
                    given.get("name", ""), given.get("namespace", ""), given.get("project", "")
                )
            )
            applications.setdefault(app, {})[env] = ref
    server = Server(url, data.get("token-env", DEFAULT_TOKEN_ENV), ca_file, data.get("insecure", False))
    return DeploySettings(
        server=server,
        namespace=data.get("namespace", ""),
        project=data.get("project", ""),
        selector=data.get("selector", ""),
        application=template,
        applications=applications,
    )


def require_deploy(config: Config) -> DeploySettings:
    """Return the config's deploy settings, or say how to add them (exit 2)."""
    if config.deploy is None:
        raise InputError(
            f"{config.path}: no deploy section: add deploy.server (the Argo CD URL) to use Argo CD"
        )
    return config.deploy
