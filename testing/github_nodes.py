"""The loopback GitHub's GraphQL object types: resolvers over the real bare repository and state.

graphql-core's default resolver reads an attribute, calling it with the field's arguments when it is
a method; `typename` tells interfaces and unions which GitHub type a value is.
"""

from __future__ import annotations

import base64
import functools
from typing import Any

from testing.github_state import GitHubState, PullRequest, now


class PaginationError(Exception):
    """GitHub's answer to a connection read without `first`/`last` or with more than 100 nodes."""

    def __init__(self, message: str, type_: str) -> None:
        super().__init__(message)
        self.type = type_


def page(items: list[Any], name: str, first: int | None, after: str | None = None) -> dict[str, Any]:
    """One page of a connection, as GitHub serves it: `first` is required and within 1-100
    ("you must supply a first or last argument on any connection. The value of these arguments must be
    between 1 and 100", https://docs.github.com/en/graphql/guides/using-pagination-in-the-graphql-api;
    "Node limit" in https://docs.github.com/graphql/overview/rate-limits-and-node-limits-for-the-graphql-api),
    and `after` continues from a page's `endCursor`."""
    if first is None:
        raise PaginationError(
            f"You must provide a `first` or `last` value to properly paginate the `{name}` connection.",
            "MISSING_PAGINATION_BOUNDARIES",
        )
    if not 1 <= first <= 100:
        raise PaginationError(
            f"Requesting {first} records on the `{name}` connection exceeds the `first` limit of 100 "
            "records.",
            "EXCESSIVE_PAGINATION",
        )
    start = int(base64.b64decode(after).decode().removeprefix("cursor:")) if after else 0
    chunk = items[start : start + first]
    end = start + len(chunk)
    return {
        "nodes": chunk,
        "totalCount": len(items),
        "pageInfo": {
            "hasNextPage": end < len(items),
            "endCursor": base64.b64encode(f"cursor:{end}".encode()).decode() if chunk else None,
        },
    }


def ref_name(ref_id: str) -> str:
    return base64.urlsafe_b64decode(ref_id.removeprefix("REF_").encode()).decode()


def _ref_id(name: str) -> str:
    return "REF_" + base64.urlsafe_b64encode(name.encode()).decode()


class RepoNode:
    typename = "Repository"

    def __init__(self, state: GitHubState) -> None:
        self.state = state
        self.id = state.repo_id
        self.nameWithOwner = state.full_name
        self.url = f"https://github.invalid/{state.full_name}"
        self.autoMergeAllowed = state.auto_merge_allowed
        self.mergeCommitAllowed = "MERGE" in state.merge_methods
        self.squashMergeAllowed = "SQUASH" in state.merge_methods
        self.rebaseMergeAllowed = "REBASE" in state.merge_methods

    def defaultBranchRef(self, info: Any) -> RefNode | None:
        name = f"refs/heads/{self.state.default_branch}"
        return RefNode(self.state, name) if self.state.repo.resolve(name) else None

    def ref(self, info: Any, qualifiedName: str) -> RefNode | None:
        name = qualifiedName if qualifiedName.startswith("refs/") else f"refs/heads/{qualifiedName}"
        return RefNode(self.state, name) if self.state.repo.resolve(name) else None

    def object(self, info: Any, expression: str | None = None, oid: str | None = None) -> Any:
        if oid is not None:
            return _node(self.state, oid, "")
        assert expression is not None
        rev, _, path = expression.partition(":")
        commit = self.state.repo.resolve(rev) or self.state.repo.resolve(f"refs/heads/{rev}")
        if commit is None:
            return None
        if not path:
            return CommitNode(self.state, commit)
        entry = self.state.repo.entry(commit, path)
        return _node(self.state, entry.oid, path) if entry else None

    def pullRequest(self, info: Any, number: int) -> PRNode | None:
        pr = self.state.pulls.get(number)
        return PRNode(self.state, pr) if pr else None

    def pullRequests(
        self,
        info: Any,
        states: list[str] | None = None,
        headRefName: str | None = None,
        baseRefName: str | None = None,
        first: int | None = None,
        after: str | None = None,
    ) -> dict[str, Any]:
        with self.state.lock:
            pulls = [
                PRNode(self.state, p)
                for p in self.state.pulls.values()
                if (not states or p.state in states)
                and headRefName in (None, p.head)
                and baseRefName in (None, p.base)
            ]
        return page(pulls, "pullRequests", first, after)


def _node(state: GitHubState, oid: str, path: str) -> Any:
    kind = state.repo.object_type(oid)
    if kind == "commit":
        return CommitNode(state, oid)
    if kind == "tree":
        return TreeNode(state, oid, path)
    if kind == "blob":
        return BlobNode(state, oid)
    return None


class RefNode:
    typename = "Ref"

    def __init__(self, state: GitHubState, name: str) -> None:
        self.state = state
        self.id = _ref_id(name)
        self.prefix, _, self.name = (
            name.rpartition("/")
            if not name.startswith("refs/heads/")
            else ("refs/heads/", "", name.removeprefix("refs/heads/"))
        )
        self.full = name

    def target(self, info: Any) -> CommitNode | None:
        oid = self.state.repo.resolve(self.full)
        return CommitNode(self.state, oid) if oid else None

    def associatedPullRequests(
        self, info: Any, states: list[str] | None = None, first: int | None = None
    ) -> dict[str, Any]:
        with self.state.lock:
            pulls = [
                p
                for p in self.state.pulls.values()
                if p.head == self.name and (not states or p.state in states)
            ]
        return page([PRNode(self.state, p) for p in pulls], "associatedPullRequests", first)


class CommitNode:
    typename = "Commit"

    def __init__(self, state: GitHubState, oid: str) -> None:
        self.state = state
        self.oid = oid
        self.id = f"C_{oid}"
        self.url = f"https://github.invalid/{state.full_name}/commit/{oid}"

    @functools.cached_property
    def info(self) -> Any:
        return self.state.repo.commit(self.oid)

    def message(self, info: Any) -> str:
        return str(self.info.message)

    def committedDate(self, info: Any) -> str:
        return str(self.info.date)

    def author(self, info: Any) -> dict[str, Any]:
        return {"name": self.info.author_name, "email": self.info.author_email, "date": self.info.date}

    def parents(self, info: Any, first: int | None = None) -> dict[str, Any]:
        return page([CommitNode(self.state, p) for p in self.info.parents], "parents", first)

    def tree(self, info: Any) -> TreeNode:
        return TreeNode(self.state, self.info.tree, "")

    def file(self, info: Any, path: str) -> dict[str, Any] | None:
        entry = self.state.repo.entry(self.oid, path)
        return _entry(self.state, entry) if entry else None

    def history(
        self, info: Any, first: int | None = None, path: str | None = None, after: str | None = None
    ) -> dict[str, Any]:
        page([], "history", first)  # the limits on `first`
        assert first is not None
        start = int(base64.b64decode(after).decode().removeprefix("cursor:")) if after else 0
        oids = self.state.repo.history(self.oid, path, start + first + 1)  # one more: is there a next page?
        return page([CommitNode(self.state, o) for o in oids], "history", first, after)

    def changedFilesIfAvailable(self, info: Any) -> int:
        return len(self.state.repo.changed_paths(self.oid))

    def statusCheckRollup(self, info: Any) -> dict[str, Any] | None:
        check = self.state.check_state(self.oid)
        return {"state": check} if check else None


def _entry(state: GitHubState, entry: Any) -> dict[str, Any]:
    return {
        "name": entry.path.rsplit("/", 1)[-1],
        "path": entry.path,
        "mode": int(entry.mode, 8),
        "oid": entry.oid,
        "type": entry.type,
        "object": _node(state, entry.oid, entry.path),
    }


class TreeNode:
    typename = "Tree"

    def __init__(self, state: GitHubState, oid: str, path: str) -> None:
        self.state, self.oid, self.id, self.path = state, oid, f"T_{oid}", path

    def entries(self, info: Any) -> list[dict[str, Any]]:
        out = []
        for e in self.state.repo.entries(self.oid):
            full = f"{self.path}/{e.path}" if self.path else e.path
            out.append(_entry(self.state, type(e)(e.mode, e.type, e.oid, full)))
        return out


class BlobNode:
    typename = "Blob"

    def __init__(self, state: GitHubState, oid: str) -> None:
        self.state, self.oid, self.id = state, oid, f"B_{oid}"

    @functools.cached_property
    def content(self) -> bytes:
        return self.state.repo.blob(self.oid)

    def byteSize(self, info: Any) -> int:
        return len(self.content)

    def isBinary(self, info: Any) -> bool:
        try:
            self.content.decode("utf-8")
        except UnicodeDecodeError:
            return True
        return b"\0" in self.content

    def isTruncated(self, info: Any) -> bool:
        return False

    def text(self, info: Any) -> str | None:
        return None if self.isBinary(info) else self.content.decode("utf-8")


class PRNode:
    typename = "PullRequest"

    def __init__(self, gh: GitHubState, pr: PullRequest) -> None:
        self.gh, self.pr = gh, pr
        self.id = f"PR_{pr.number}"
        self.number = pr.number
        self.url = f"https://github.invalid/{gh.full_name}/pull/{pr.number}"

    def state(self, info: Any) -> str:
        return self.pr.state

    def closed(self, info: Any) -> bool:
        return self.pr.state != "OPEN"

    def merged(self, info: Any) -> bool:
        return self.pr.state == "MERGED"

    def headRefName(self, info: Any) -> str:
        return self.pr.head

    def baseRefName(self, info: Any) -> str:
        return self.pr.base

    def title(self, info: Any) -> str:
        return self.pr.title

    def body(self, info: Any) -> str:
        return self.pr.body

    def isDraft(self, info: Any) -> bool:
        return self.pr.draft

    def headRef(self, info: Any) -> RefNode | None:
        name = f"refs/heads/{self.pr.head}"
        return RefNode(self.gh, name) if self.gh.repo.resolve(name) else None

    def headRefOid(self, info: Any) -> str:
        return self.gh.head_oid(self.pr)

    def mergeStateStatus(self, info: Any) -> str:
        return self.gh.observed_merge_state(self.pr)

    def autoMergeRequest(self, info: Any) -> dict[str, Any] | None:
        if not self.pr.auto_merge:
            return None
        return {"mergeMethod": self.pr.auto_merge, "enabledAt": self.pr.auto_merge_at or now()}

    def mergeCommit(self, info: Any) -> CommitNode | None:
        return CommitNode(self.gh, self.pr.merge_commit) if self.pr.merge_commit else None

    def labels(self, info: Any, first: int | None = None) -> dict[str, Any]:
        return page([{"id": f"L_{n}", "name": n} for n in self.pr.labels], "labels", first)

    def assignees(self, info: Any, first: int | None = None) -> dict[str, Any]:
        return page([{"id": f"U_{n}", "login": n} for n in self.pr.assignees], "assignees", first)

    def reviewRequests(self, info: Any, first: int | None = None) -> dict[str, Any]:
        users = [_Reviewer("User", login=n) for n in self.pr.reviewers]
        teams = [_Reviewer("Team", slug=n) for n in self.pr.team_reviewers]
        return page([{"requestedReviewer": r} for r in users + teams], "reviewRequests", first)

    def latestReviews(self, info: Any, first: int | None = None) -> dict[str, Any]:
        reviews = [{"id": f"PRR_{n}", "author": _Reviewer("User", login=n)} for n in self.pr.reviews]
        return page(reviews, "latestReviews", first)


class _Reviewer:
    def __init__(self, typename: str, login: str = "", slug: str = "") -> None:
        self.typename, self.login, self.slug = typename, login, slug
        self.id = f"{typename}_{login or slug}"
