"""Registry credentials: explicit options, the docker config (via `docker.auth`), Google ADC.

Order: --username/--password (or UPDATER_REGISTRY_USERNAME/_PASSWORD), then the docker config
(`$DOCKER_CONFIG/config.json` or `~/.docker/config.json`: auths, credsStore, credHelpers, identity
tokens; parsed by the `docker` package so helpers behave exactly as with `docker pull`), then Google
Application Default Credentials for Artifact Registry and Container Registry hosts. Every secret found
is registered with `updater.infra.redact` before it is returned, so it is masked in all output; `--debug`
says which source was used, never the secret.

An `auths` entry may hold `username` and `password` instead of the base64 `auth`: the Docker CLI reads
both (cli/config/configfile/file.go, `LoadFromReader`, decodes `auth` only when it is set and keeps
the fields otherwise), while the `docker` package skips such an entry, so it is given an `auth` first.
"""

from __future__ import annotations

import base64
import json
import logging
import os
from typing import Any

from updater.infra import redact, retry
from updater.infra.errors import InputError, RemoteError
from updater.registry.base import RegistryOptions
from updater.registry.http import IDENTITY_TOKEN_USER

log = logging.getLogger("updater.registry")

GOOGLE_USER = "oauth2accesstoken"
_GOOGLE_SCOPE = "https://www.googleapis.com/auth/cloud-platform"


def is_google_host(host: str) -> bool:
    """True for Artifact Registry (`*.pkg.dev`) and Container Registry (`gcr.io`, `*.gcr.io`) hosts."""
    name = host.split(":", 1)[0].lower()
    return name.endswith(".pkg.dev") or name == "gcr.io" or name.endswith(".gcr.io")


def credentials_for(registry_host: str, options: RegistryOptions) -> tuple[str, str] | None:
    """Return (user, secret) for the registry, or None to go anonymous.

    `user` is "<token>" when the secret is a docker identity token (an OAuth2 refresh token).
    """
    username = options.username or os.environ.get("UPDATER_REGISTRY_USERNAME")
    password = options.password or os.environ.get("UPDATER_REGISTRY_PASSWORD")
    if username and password:
        redact.register(password)
        _used(registry_host, "--username/--password (or UPDATER_REGISTRY_USERNAME/_PASSWORD)")
        return username, password
    if username or password:
        raise InputError("give both a registry username and a password (--username/--password), or neither")
    found, source = _docker_config(registry_host, options.docker_config)
    if found is not None:
        _used(registry_host, source)
        return found
    if is_google_host(registry_host):
        google = google_access_token()
        _used(registry_host, "Google Application Default Credentials" if google else "none (anonymous)")
        return google
    _used(registry_host, "none (anonymous)")
    return None


def _used(registry_host: str, source: str) -> None:
    log.debug("credentials for %s: %s", registry_host, source)


def from_docker_config(registry_host: str, config_dir: str | None = None) -> tuple[str, str] | None:
    """Return the docker config's credentials for the host (auths, credsStore, credHelpers), if any."""
    return _docker_config(registry_host, config_dir)[0]


def _docker_config(registry_host: str, config_dir: str | None) -> tuple[tuple[str, str] | None, str]:
    """Return the docker config's credentials for the host and where they came from."""
    from docker import auth as docker_auth
    from docker import errors as docker_errors

    config_path = os.path.join(config_dir, "config.json") if config_dir else None
    where = config_path or _default_config_path()
    try:
        config = docker_auth.load_config(config_path=config_path, config_dict=_with_auth_fields(where))
        entry: dict[str, Any] | None = config.resolve_authconfig(registry_host)
        helper = config.get_credential_store(registry_host)
    except docker_errors.DockerException as exc:
        # A credential helper that is missing or fails: say which, without echoing its output.
        raise InputError(
            f"{where}: the credential helper for {registry_host} failed ({type(exc).__name__}): "
            "check that docker-credential-* is on PATH and logged in"
        ) from None
    if not entry:
        return None, ""
    # docker.auth returns lower-case keys from `auths` and capitalised ones from helpers.
    source = f"{where}: " + (
        f"credential helper docker-credential-{helper}" if "ServerAddress" in entry and helper else "auths"
    )
    normal = {str(key).lower(): value for key, value in entry.items()}
    token = normal.get("identitytoken")
    if token:
        redact.register(str(token))
        return (IDENTITY_TOKEN_USER, str(token)), f"{source} (identity token)"
    user, secret = normal.get("username"), normal.get("password")
    if user and secret:
        redact.register(str(secret))
        return (str(user), str(secret)), source
    return None, ""


def _with_auth_fields(path: str) -> dict[str, Any] | None:
    """Return the config at `path` with an `auth` for every `auths` entry that spells user and password.

    None (let the `docker` package read the file its own way) when it is missing or not a JSON object.
    """
    try:
        with open(path, encoding="utf-8") as handle:
            config = json.load(handle)
    except (OSError, ValueError, RecursionError):
        return None
    auths = config.get("auths") if isinstance(config, dict) else None
    if not isinstance(auths, dict):
        return None
    for entry in auths.values():
        if not isinstance(entry, dict) or entry.get("auth") or entry.get("identitytoken"):
            continue
        user, password = entry.get("username"), entry.get("password")
        if isinstance(user, str) and isinstance(password, str) and user and password:
            redact.register(password)
            entry["auth"] = base64.b64encode(f"{user}:{password}".encode()).decode("ascii")
    return dict(config)


def _default_config_path() -> str:
    base = os.environ.get("DOCKER_CONFIG") or os.path.join(os.path.expanduser("~"), ".docker")
    return os.path.join(base, "config.json")


def google_access_token() -> tuple[str, str] | None:
    """Return ("oauth2accesstoken", token) from Application Default Credentials, or None without ADC."""
    import google.auth
    import google.auth.exceptions
    import google.auth.transport.requests

    try:
        creds, _ = google.auth.default(scopes=[_GOOGLE_SCOPE])
    except google.auth.exceptions.DefaultCredentialsError:
        return None

    transport = google.auth.transport.requests.Request()

    def timed(*args: Any, **kwargs: Any) -> Any:
        # google-auth waits 120 s by default; an attempt may take only what the retry budget has left.
        kwargs["timeout"] = retry.timeout()[1]
        return transport(*args, **kwargs)

    def refresh() -> None:
        try:
            creds.refresh(timed)  # type: ignore[no-untyped-call]
        except google.auth.exceptions.TransportError as exc:
            raise retry.Transient(f"Google token endpoint unreachable ({type(exc).__name__})") from None

    try:
        retry.call(refresh)
    except retry.Transient as exc:
        raise RemoteError(f"Google Application Default Credentials: {exc}") from None
    except google.auth.exceptions.RefreshError:
        # The error text can echo the token endpoint's answer; keep it out of output.
        raise RemoteError(
            "Google Application Default Credentials were refused by the token endpoint: "
            "run `gcloud auth application-default login` or set GOOGLE_APPLICATION_CREDENTIALS"
        ) from None
    token = getattr(creds, "token", None)
    if not token:
        return None
    redact.register(str(token))
    return GOOGLE_USER, str(token)
