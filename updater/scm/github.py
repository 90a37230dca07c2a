"""The GitHub backend: reads through the API (no clone), writes ONE commit per run, opens PRs.

PyGithub is the transport (auth, GitHub Apps, Enterprise URLs, request logging); its own retry is
off so that `updater.infra.retry` is the one policy. Every call is translated once, here, into `Transient`
(worth retrying: 5xx, rate limits, connection errors), `GitHubHTTPError` (a definite answer the
caller may handle, such as 422 "Reference already exists") or `RemoteError`.
"""

from __future__ import annotations

import logging
import os
from typing import Any

from updater.infra import logmask, redact
from updater.infra.errors import InputError
from updater.scm import github_apply, github_compare
from updater.scm.base import Backend, CommitRequest, Editor, Outcome
from updater.scm.github_client import DEFAULT_API, GitHubClient, guarded


class GitHubBackend(GitHubClient):
    """`Backend` over GitHub's GraphQL API (reads, commits, PRs) and REST (Git Data, merge)."""

    def apply(self, request: CommitRequest, editor: Editor) -> Outcome:
        return github_apply.apply(self, request, editor)

    def descends(self, branch: str, commit: str, revision: str) -> bool:
        """True when `revision` is `commit` or a descendant of it (GitHub's compare; one call per pair)."""
        return github_compare.descends(self, commit, revision, self.compared)


def open_github(
    repository: str,
    *,
    token: str | None = None,
    app_id: str | None = None,
    private_key: str | None = None,
    installation_id: int | None = None,
    base_url: str | None = None,
) -> Backend:
    """Return a backend for `owner/name` on github.com or GitHub Enterprise (`base_url`).

    Auth is a token (argument or GITHUB_TOKEN) or a GitHub App (app id + private key, and the
    installation, looked up from the repository when not given).
    """
    owner, sep, name = repository.partition("/")
    if not sep or not owner or not name or "/" in name:
        raise InputError(f"GitHub repository {repository!r} must be OWNER/NAME, e.g. acme/gitops")
    base = (base_url or os.environ.get("GITHUB_API_URL") or DEFAULT_API).rstrip("/")
    token = token or (None if app_id else os.environ.get("GITHUB_TOKEN"))
    redact.register(token)
    redact.register(private_key)
    from github import Auth, Github

    _mask_library_logs()

    settings: dict[str, Any] = {
        "base_url": base,
        "retry": None,
        "timeout": 30,
        "seconds_between_requests": None,
        "seconds_between_writes": None,
    }
    auth: Any
    if app_id:
        if not private_key:
            raise InputError(
                "a GitHub App needs its private key: --app-key FILE, or UPDATER_GITHUB_APP_PRIVATE_KEY"
            )
        auth = _app_auth(app_id, private_key, installation_id, owner, name, settings)
    elif token:
        auth = Auth.Token(token)
    else:
        raise InputError(
            "no GitHub credentials: pass --token (or set GITHUB_TOKEN), or a GitHub App (--app-id, --app-key)"
        )
    gh = Github(auth=auth, **settings)
    if app_id:  # fetch the installation token now, under our retry policy, and mask it everywhere
        redact.register(guarded(lambda: str(auth.token), "GitHub App installation token"))
    return GitHubBackend(gh.requester, owner, name)


def _mask_library_logs() -> None:
    """Route PyGithub's logs through ours, masked where they are made.

    PyGithub pins its logger at INFO with its own unfiltered stderr handler; we drop that handler so
    that --debug (root at DEBUG, MaskingFilter) shows its request log, and mask records at the
    source so that no handler, not even logging's last resort, can print a secret.
    """
    library = logging.getLogger("github")
    for handler in list(library.handlers):
        if type(handler) is logging.StreamHandler:
            library.removeHandler(handler)
    library.setLevel(logging.NOTSET)
    for name in ("github", "github.Requester", "github.GithubRetry", "urllib3.connectionpool"):
        logger = logging.getLogger(name)
        if not any(isinstance(f, logmask.MaskingFilter) for f in logger.filters):
            logger.addFilter(logmask.MaskingFilter())


def _app_auth(
    app_id: str, key: str, installation: int | None, owner: str, name: str, settings: dict[str, Any]
) -> Any:
    """Return installation auth for a GitHub App (the installation looked up when not given)."""
    from github import Auth, GithubIntegration

    app = Auth.AppAuth(int(app_id), key)
    if installation is None:
        integration = GithubIntegration(auth=app, **settings)
        installation = guarded(
            lambda: integration.get_repo_installation(owner, name).id, "GitHub App installation"
        )
    return app.get_installation_auth(installation)
