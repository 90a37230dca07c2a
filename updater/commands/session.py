"""Open what a command works on: the config and the scm backend it asks for (files, git or github).

The faces open adapters and hand them to the use cases, which never open one themselves.
"""

from __future__ import annotations

import contextlib
import os
import subprocess
from collections.abc import Iterator
from pathlib import Path

from updater.config import Config, load_config
from updater.flows.plan import with_default_branch
from updater.infra import redact
from updater.infra.errors import InputError
from updater.scm.base import Backend
from updater.scm.files import FilesBackend
from updater.scm.git import GitBackend
from updater.scm.github import open_github
from updater.scm.github_auth import GitHubAuth, github_auth


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
        yield FilesBackend(config.root)
    elif chosen == "git":
        with GitBackend(remote_url(config), token=github.token if github else None) as backend:
            yield backend
    elif chosen == "github":
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
