"""How to reach GitHub: the credentials the command line gives, completed from the environment.

A value type with no GitHub library behind it, so the command-line options can build one cheaply.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from updater.infra import redact


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


def github_auth(given: GitHubAuth, environ: Mapping[str, str]) -> GitHubAuth:
    """Return `given` completed from the environment (flags win), every secret registered for masking.

    A GitHub App wins over a token, as GITHUB_TOKEN is set in every Actions job whether wanted or not.
    """
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
