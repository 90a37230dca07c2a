"""Commit ancestry over GitHub's REST "Compare two commits", for the deploy wait.

Argo CD may report a revision that landed after ours (someone else's commit on the branch): that
still runs our change when it descends from our commit. GitHub answers this in one call,
`GET /repos/{owner}/{repo}/compare/{base}...{head}`, whose `status` is `ahead` when head descends
from base, `identical` when they are the same commit, `behind` or `diverged` otherwise
(https://docs.github.com/rest/commits/commits#compare-two-commits; the response schema is
`commit-comparison` in GitHub's OpenAPI description). GraphQL has no cheaper equivalent: its
`Ref.compare` starts from a ref, not a commit. `per_page=1` bounds the list of commits the answer
carries (the status and counts cover the whole comparison). A 404 (a commit GitHub does not know,
or no common history) means "not a descendant", not a failure: the wait polls again later.
"""

from __future__ import annotations

import re
from typing import Any

from updater.infra.errors import RemoteError
from updater.scm.github_client import GitHubClient, GitHubHTTPError, retry_call, translate

_SHA = re.compile(r"[0-9a-f]{40}|[0-9a-f]{64}")
_DESCENDS = {"ahead": True, "identical": True, "behind": False, "diverged": False}


def descends(client: GitHubClient, commit: str, revision: str, known: dict[tuple[str, str], bool]) -> bool:
    """True when `revision` is `commit` or a descendant of it; one compare call, answers kept in `known`.

    Both are full SHAs; the revision comes from Argo CD, so anything else is "no" before it can
    reach a URL. A 200's answer never changes (two fixed commits) and is kept; a 404 is not, since
    GitHub may learn the commit later.
    """
    if revision == commit:
        return True
    if not (_SHA.fullmatch(commit) and _SHA.fullmatch(revision)):
        return False
    if (commit, revision) in known:
        return known[(commit, revision)]
    what = f"compare {commit[:12]}...{revision[:12]}"
    try:
        body = retry_call(lambda: _compare(client, commit, revision, what))
    except _NotFound:
        return False
    status = body.get("status") if isinstance(body, dict) else None
    if not isinstance(status, str) or status not in _DESCENDS:
        raise RemoteError(f"{what} on {client.repository}: GitHub answered no known comparison status")
    known[(commit, revision)] = _DESCENDS[status]
    return known[(commit, revision)]


class _NotFound(Exception):
    """GitHub answered 404: one of the commits is unknown to it, or they share no history."""


def _compare(client: GitHubClient, base: str, head: str, what: str) -> Any:
    url = f"/repos/{client.owner}/{client.name}/compare/{base}...{head}"
    try:
        _, data = translate(
            lambda: client.requester.requestJsonAndCheck("GET", url, parameters={"per_page": 1}),
            what,
            client.repository,
        )
    except GitHubHTTPError as exc:
        if exc.status == 404:
            raise _NotFound() from None
        raise
    return data
