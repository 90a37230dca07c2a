"""The GitHub client under the backend: PyGithub's requester, every call translated once.

Calls become `Transient` (worth retrying: 5xx, rate limits, connection errors), `GitHubHTTPError` (a
definite answer the caller may handle, such as 422 "Reference already exists") or `RemoteError`.
`github_apply` and `github_merge` build on this module; `github` puts them together as the backend.
"""

from __future__ import annotations

import base64
import os
import time
from collections.abc import Callable
from dataclasses import replace
from datetime import datetime
from typing import TYPE_CHECKING, Any, TypeVar

from updater.infra import retry
from updater.infra.errors import RemoteError
from updater.scm import _graphql as gql
from updater.scm.base import Revision

if TYPE_CHECKING:
    from github.Requester import Requester

T = TypeVar("T")
DEFAULT_API = "https://api.github.com"


class RateLimited(retry.Transient):
    """A rate limit answer: GitHub refused the request, so a write it carried did not happen."""


class _Passthrough(Exception):
    """Carries a non-rate-limit failure out of `resend_when_limited`'s retry loop untouched."""

    def __init__(self, error: Exception) -> None:
        super().__init__(str(error))
        self.error = error


def resend_when_limited(fn: Callable[[], T]) -> T:
    """Return fn(), re-sending the same request after a rate limit answer (waiting as GitHub asks).

    A request answered with a rate limit was not performed ("Rate limits for the REST API",
    https://docs.github.com/rest/using-the-rest-api/rate-limits-for-the-rest-api), so it is re-sent as
    it was, without reading the state again; any other failure is raised at once for the caller to
    handle (a write whose answer was lost must be checked, not re-sent).
    """

    def attempt() -> T:
        try:
            return fn()
        except RateLimited:
            raise
        except retry.Transient as exc:
            raise _Passthrough(exc) from None

    try:
        return retry.call(attempt)
    except _Passthrough as wrapped:
        raise wrapped.error from None


class GitHubHTTPError(Exception):
    """A definite, non-retryable answer from GitHub (REST status, or GraphQL error type)."""

    def __init__(self, status: int | str, message: str, what: str = "", repository: str = "") -> None:
        super().__init__(f"{status} {message}")
        self.status = status
        self.message = message
        self.what = what  # the operation, e.g. "createPullRequest" or "create tree"
        self.repository = repository

    def describe(self) -> str:
        """One line for the user: the operation, where, GitHub's answer, and for a 403 what to grant."""
        where = f"{self.what} on {self.repository}" if self.repository else self.what or "GitHub"
        text = f"{where}: {self.status} {self.message}"
        hint = permission_hint(self.what) if self.status == 403 else None
        return f"{text}; {hint}" if hint else text


# Which fine-grained permission an operation needs (GitHub Apps and fine-grained tokens).
_PR_WORDS = ("PullRequest", "pull request", "reviewers", "addComment", "merge #")
_CONTENT_WORDS = ("Ref", "Commit", "tree", "commit", "update ", "create ", "delete ", "store ")


def permission_hint(what: str) -> str:
    """Return what to grant for a 403 on the operation `what`."""
    if any(word in what for word in _PR_WORDS):
        return "give the token pull-requests: write (a classic token: the repo scope)"
    if any(word in what for word in _CONTENT_WORDS):
        return "give the token contents: write (a classic token: the repo scope)"
    return "give the token contents: read, and check that it can see the repository"


def guarded(fn: Callable[[], T], what: str) -> T:
    """Return fn() under the retry policy, translating GitHub errors; RemoteError when it gives up."""
    try:
        return retry.call(lambda: translate(fn, what))
    except retry.Transient as exc:
        raise RemoteError(f"{exc} (gave up after retries)") from None
    except GitHubHTTPError as exc:
        raise RemoteError(exc.describe() if exc.what else f"{what}: {exc.describe()}") from None


def translate(fn: Callable[[], T], what: str, repository: str = "") -> T:
    """Return fn(), turning PyGithub/requests failures into Transient or GitHubHTTPError."""
    import requests
    from github import GithubException

    try:
        return fn()
    except GithubException as exc:
        headers = {k.lower(): v for k, v in (exc.headers or {}).items()}
        message = exc.message or (exc.data.get("message") if isinstance(exc.data, dict) else None) or ""
        status = exc.status
        wait = _rate_limit_wait(status, headers, message)
        if wait is not None:
            raise rate_limited(what, f"{status}: {message}", wait, headers) from None
        if status >= 500:
            raise retry.Transient(f"{what}: GitHub answered {status}") from None
        if status == 401:
            raise RemoteError(
                f"{what}: GitHub rejected the credentials (401): check the token or App key"
            ) from None
        raise GitHubHTTPError(status, message, what, repository) from None
    except requests.RequestException as exc:
        raise retry.Transient(f"{what}: {type(exc).__name__} talking to GitHub") from None


def rate_limited(what: str, answer: str, wait: float | None, headers: dict[str, str]) -> Exception:
    """Return the error for a rate limit answer: RateLimited (wait and retry) when the run's retry
    budget covers the wait GitHub asks for, else a RemoteError saying so (waiting would only fail later)."""
    kind = "primary" if headers.get("x-ratelimit-remaining") == "0" else "secondary"
    left = retry.remaining()
    if wait is not None and wait >= left:
        return RemoteError(
            f"{what}: GitHub {kind} rate limit ({answer}); it asks to wait {wait:.0f}s, more than the "
            f"{left:.0f}s left of the retry budget: run again later, or raise --retry-budget"
        )
    return RateLimited(f"{what}: GitHub {kind} rate limit ({answer})", wait)


def _rate_limit_wait(status: int, headers: dict[str, str], message: str) -> float | None:
    """Seconds to wait when a 403/429 is a primary or secondary rate limit, else None."""
    if status not in (403, 429):
        return None
    after = retry.parse_retry_after(headers.get("retry-after"))
    if after is not None:
        return after
    if headers.get("x-ratelimit-remaining") == "0" and headers.get("x-ratelimit-reset", "").isdigit():
        return max(0.0, float(headers["x-ratelimit-reset"]) - time.time())
    if "rate limit" in message.lower() or status == 429:
        # GitHub's guidance for a secondary limit without Retry-After: wait at least a minute.
        return 60.0
    return None


class GitHubClient:
    """GitHub's GraphQL API (reads, history) and REST (Git Data, merge) for one repository.

    Everything of the backend but `apply`, which lives in `github_apply` on top of this client.
    """

    def __init__(self, requester: Requester, owner: str, name: str) -> None:
        self.requester = requester
        self.owner = owner
        self.name = name
        # None: not known yet; False: the server lacks createCommitOnBranch (older GHES).
        self.graphql_commit: bool | None = None
        # Paths read per branch: an editor without a `paths` hint most likely reads these again.
        self.read_paths: dict[str, dict[str, None]] = {}
        # The last read_many of each branch: the next commit-mode apply starts from it instead of
        # reading again (its compare-and-swap on the head catches a branch that moved since).
        self.prefetched: dict[str, gql.Snapshot] = {}
        self._default_branch: str | None = None

    @property
    def repository(self) -> str:
        return f"{self.owner}/{self.name}"

    @property
    def web_url(self) -> str:
        """Return the repository's web address (for links in PR bodies): GITHUB_SERVER_URL, else
        derived from the API URL (api.github.com -> github.com, GHES .../api/v3 -> the host)."""
        server = os.environ.get("GITHUB_SERVER_URL", "").rstrip("/")
        if not server:
            api = str(self.requester.base_url).rstrip("/")
            server = "https://github.com" if api == DEFAULT_API else api.removesuffix("/api/v3")
        return f"{server}/{self.repository}"

    # --- transport --------------------------------------------------------------------------
    def graphql(
        self, query: str, variables: dict[str, Any], what: str
    ) -> tuple[dict[str, Any], list[dict[str, Any]]]:
        """POST one GraphQL document; return (data, errors). Only transport failures raise."""
        payload = {"query": query, "variables": {"owner": self.owner, "name": self.name, **variables}}
        if query.startswith("mutation"):
            payload["variables"] = variables
        accept = gql.accept_for(query)  # a schema preview's media type, when the document selects one
        extra = {"Accept": accept} if accept else None
        url = self.requester.graphql_url
        headers, body = translate(
            lambda: self.requester.requestJsonAndCheck("POST", url, headers=extra, input=payload),
            what,
            self.repository,
        )
        if not isinstance(body, dict):
            raise retry.Transient(f"{what}: GitHub GraphQL answered no JSON object")
        errors = list(body.get("errors") or [])
        limited = next((e for e in errors if e.get("type") == "RATE_LIMITED"), None)
        if limited is not None:  # GraphQL's primary limit comes as a 200 with an error
            lowered = {k.lower(): v for k, v in headers.items()}
            wait = _rate_limit_wait(403, lowered, str(limited.get("message", "rate limit")))
            raise rate_limited(what, str(limited.get("message")), wait, lowered)
        return body.get("data") or {}, errors

    def query(self, query: str, variables: dict[str, Any], what: str) -> dict[str, Any]:
        """Run a read-only query; any GraphQL error is a RemoteError (reads have no partial success)."""
        data, errors = self.graphql(query, variables, what)
        if errors:
            first = errors[0]
            if first.get("type") == "NOT_FOUND":
                raise RemoteError(
                    f"{what}: {first.get('message')} (is the repository {self.repository} right, and can the "
                    "token see it?)"
                )
            raise RemoteError(f"{what}: GitHub GraphQL error: {first.get('message')}")
        return data

    def rest(self, verb: str, path: str, body: dict[str, Any] | None, what: str) -> Any:
        url = f"/repos/{self.owner}/{self.name}{path}"
        _, data = translate(
            lambda: self.requester.requestJsonAndCheck(verb, url, input=body), what, self.repository
        )
        return data

    # --- Backend ----------------------------------------------------------------------------
    def default_branch(self) -> str:
        """Return the repository's default branch (one query, then cached), for environments naming none."""
        if self._default_branch is None:
            data = guarded_query(self, gql.DEFAULT_BRANCH_QUERY, {}, "read the default branch")
            ref = data["repository"].get("defaultBranchRef")
            if not ref:
                raise RemoteError(
                    f"{self.repository} has no default branch (an empty repository?): "
                    "name the environment's branch in the config"
                )
            self._default_branch = str(ref["name"])
        return self._default_branch

    def read(self, branch: str, path: str) -> bytes | None:
        self.read_paths.setdefault(branch, {})[path] = None
        expr = f"{branch}:{path}"
        data = guarded_query(self, gql.BLOB_QUERY, {"expr": expr}, f"read {path} on {branch}")
        return self.blob_content(path, data["repository"].get("object"))

    def read_many(self, branch: str, paths: list[str] | tuple[str, ...]) -> dict[str, bytes | None]:
        """Return many files of one branch head in ONE query (an optional extension of `Backend`)."""
        paths = tuple(dict.fromkeys(paths))
        for path in paths:
            self.read_paths.setdefault(branch, {})[path] = None
        query = gql.snapshot_query(paths, with_head=False)
        variables: dict[str, Any] = {
            "base": gql.qualified(branch),
            **{f"p{i}": p for i, p in enumerate(paths)},
        }
        snap = gql.parse_snapshot(guarded_query(self, query, variables, f"read {branch}"), paths)
        if snap.base_oid is None:
            raise RemoteError(f"branch {branch!r} does not exist in {self.repository}")
        out: dict[str, bytes | None] = {}
        for path, state in list(snap.files.items()):
            if state.content is None and state.oid is not None:  # binary or too big for GraphQL text
                snap.files[path] = replace(state, content=self.fetch_blob(state.oid, path))
            out[path] = snap.files[path].content
        self.prefetched[branch] = snap
        return out

    def blob_content(self, path: str, obj: dict[str, Any] | None) -> bytes | None:
        """Return a Blob answer's bytes, fetching big or binary blobs over REST."""
        if obj is None:
            return None
        text = obj.get("text")
        if text is not None and not obj.get("isBinary") and not obj.get("isTruncated"):
            return str(text).encode("utf-8")
        return self.fetch_blob(obj["oid"], path)

    def fetch_blob(self, oid: str, path: str) -> bytes:
        data = retry_call(lambda: self.rest("GET", f"/git/blobs/{oid}", None, f"read {path}"))
        return base64.b64decode(data["content"])

    def history(self, branch: str, path: str, limit: int = 50) -> list[Revision]:
        """The file's last `limit` versions, newest first, a page of at most 100 per request."""
        nodes: list[dict[str, Any]] = []
        after: str | None = None
        while len(nodes) < limit:
            first = min(gql.PAGE_SIZE, limit - len(nodes))
            variables = {"ref": gql.qualified(branch), "path": path, "first": first, "after": after}
            data = guarded_query(self, gql.HISTORY_QUERY, variables, f"history of {path}")
            ref = data["repository"].get("ref")
            if ref is None:
                raise RemoteError(f"history of {path}: branch {branch!r} does not exist in {self.repository}")
            history = ref["target"]["history"]
            nodes.extend(history["nodes"])
            info = history.get("pageInfo") or {}
            after = info.get("endCursor")
            if not info.get("hasNextPage") or not after:
                break
        revisions = []
        for node in nodes:
            entry = node.get("file")
            content = self.blob_content(path, {**entry["object"], "oid": entry["oid"]}) if entry else None
            author = node.get("author") or {}
            when = datetime.fromisoformat(str(node["committedDate"]).replace("Z", "+00:00"))
            revisions.append(Revision(node["oid"], author.get("name") or "", when, content))
        return revisions


def retry_call(fn: Callable[[], T]) -> T:
    """retry.call, with a spent budget turned into RemoteError."""
    try:
        return retry.call(fn)
    except retry.Transient as exc:
        raise RemoteError(f"{exc} (gave up after retries)") from None
    except GitHubHTTPError as exc:
        raise RemoteError(exc.describe()) from None


def guarded_query(backend: GitHubClient, query: str, variables: dict[str, Any], what: str) -> dict[str, Any]:
    return retry_call(lambda: backend.query(query, variables, what))
