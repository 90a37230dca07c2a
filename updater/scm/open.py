"""Pick and open the scm backend a config asks for (files, git or github)."""

from __future__ import annotations

import contextlib
import os
import subprocess
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from updater import redact
from updater.errors import InputError

if TYPE_CHECKING:
    from updater.config import Config
    from updater.scm.base import Backend


@dataclass(frozen=True)
class GitHubAuth:
    """How to reach GitHub, from the command line (whose flags fall back to the environment).

    `app_key` is the App's PEM private key itself; None fields fall back to GITHUB_TOKEN,
    UPDATER_GITHUB_APP_* and GITHUB_API_URL, then scm.github-url.
    """

    token: str | None = None
    url: str | None = None
    app_id: str | None = None
    app_key: str | None = None
    installation_id: int | None = None


def remote_url(config: Config) -> str:
    """Return the git remote to clone: scm.url (a path is relative to the repo root), else `origin`."""
    url = getattr(config.scm, "url", None)
    if url:
        if "://" in url or url.startswith("git@") or Path(url).is_absolute():
            return str(url)
        return str((config.root / url).resolve())
    result = subprocess.run(
        ["git", "remote", "get-url", "origin"], cwd=config.root, capture_output=True, text=True
    )
    if result.returncode != 0 or not result.stdout.strip():
        # Say why git refused (no origin, not a repository, "dubious ownership" of another uid's repo).
        lines = [line.strip() for line in result.stderr.splitlines() if line.strip()]
        said = f" (git: {redact.mask(lines[0])})" if lines else ""
        fix = [line for line in lines if line.startswith("git config") and "safe.directory" in line]
        if fix:
            said += f"; if you trust it: {fix[0]}"
        raise InputError(
            f"{config.path}: scm.provider git needs a remote: "
            f"set scm.url, or run in a clone with an 'origin' remote{said}"
        )
    found = result.stdout.strip()
    if "://" not in found and not found.startswith("git@") and not Path(found).is_absolute():
        found = str((config.root / found).resolve())
    return found


@contextlib.contextmanager
def session(
    config_path: str | None, *, provider: str | None = None, github: GitHubAuth | None = None
) -> Iterator[tuple[Config, Backend]]:
    """Yield the loaded config (every environment on a known branch) and its open backend."""
    from updater.plan import load_config, with_default_branch

    config = load_config(config_path)
    with open_backend(config, provider=provider, github=github) as backend:
        if any(env.branch is None for env in config.environments.values()):
            config = with_default_branch(config, default_branch(backend))
        yield config, backend


def default_branch(backend: Backend) -> str:
    """Return the repository's default branch, for environments that name none."""
    find = getattr(backend, "default_branch", None)
    return str(find()) if callable(find) else "main"


@contextlib.contextmanager
def open_backend(
    config: Config, *, provider: str | None = None, github: GitHubAuth | None = None
) -> Iterator[Backend]:
    """Yield the backend for `config` (or `provider`, overriding scm.provider); clean up afterwards."""
    chosen = provider or config.scm.provider
    if chosen == "files":
        from updater.scm.files import FilesBackend

        yield FilesBackend(config.root)
    elif chosen == "git":
        from updater.scm.git import GitBackend

        with GitBackend(remote_url(config), token=github.token if github else None) as backend:
            yield backend
    elif chosen == "github":
        from updater.scm.github import open_github

        repository = config.scm.repository or os.environ.get("GITHUB_REPOSITORY")
        if not repository:
            raise InputError(f"{config.path}: scm.provider github needs scm.repository: owner/name")
        auth = github_auth(github or GitHubAuth(), os.environ)
        yield open_github(
            repository,
            token=auth.token,
            app_id=auth.app_id,
            private_key=auth.app_key,
            installation_id=auth.installation_id,
            base_url=auth.url or config.scm.github_url,
        )
    else:
        raise InputError(f"{config.path}: unknown scm.provider {chosen!r}: use github, git or files")


def github_auth(given: GitHubAuth, environ: Mapping[str, str]) -> GitHubAuth:
    """Return `given` completed from the environment (flags win), every secret registered for masking.

    A GitHub App wins over a token, as GITHUB_TOKEN is set in every Actions job whether wanted or not.
    """
    from updater import redact

    installation = environ.get("UPDATER_GITHUB_APP_INSTALLATION_ID", "")
    auth = GitHubAuth(
        token=given.token or environ.get("GITHUB_TOKEN") or None,
        url=given.url or environ.get("GITHUB_API_URL") or None,
        app_id=given.app_id or environ.get("UPDATER_GITHUB_APP_ID") or None,
        app_key=given.app_key or environ.get("UPDATER_GITHUB_APP_PRIVATE_KEY") or None,
        installation_id=given.installation_id
        if given.installation_id is not None
        else (int(installation) if installation.isdigit() else None),
    )
    redact.register(auth.token)
    redact.register(auth.app_key)
    if auth.app_id:
        return GitHubAuth(None, auth.url, auth.app_id, auth.app_key, auth.installation_id)
    return auth
