"""GitHub GraphQL documents for the GitHub backend, and the values parsed out of their answers.

Pure functions: text in, dataclasses out. One snapshot query reads everything a run needs (branch
heads, file contents, the open pull requests) at one commit, so the edit and the compare-and-swap
see the same state.
"""

from __future__ import annotations

import base64
import hashlib
from dataclasses import dataclass, field
from typing import Any

PR_FIELDS = (
    "id number url state merged headRefName headRefOid title body isDraft mergeStateStatus"
    " autoMergeRequest { mergeMethod } headRef { id }"
    " labels(first: 100) { nodes { name } } assignees(first: 100) { nodes { login } }"
    " reviewRequests(first: 100) { nodes { requestedReviewer {"
    " ... on User { login } ... on Team { slug } } } }"
    " latestReviews(first: 100) { nodes { author { login } } }"
)
# What supersede detection needs of the other open PRs (a page of 100 stays small).
OPEN_FIELDS = "id number url headRefName body headRef { id }"
OPEN_PAGE = "pageInfo { hasNextPage endCursor }"
# `PullRequest.mergeStateStatus` is a schema preview: GitHub serves it only to requests whose Accept
# header names this media type (https://docs.github.com/en/graphql/overview/schema-previews, "Merge
# info preview"). No other field we select is under preview.
PREVIEW_ACCEPT = "application/vnd.github.merge-info-preview+json"
PREVIEW_FIELDS = ("mergeStateStatus", "canBeRebased")
# The repository settings that allow each merge method (REST merge_method -> GraphQL field).
METHOD_FIELDS = {
    "merge": "mergeCommitAllowed",
    "squash": "squashMergeAllowed",
    "rebase": "rebaseMergeAllowed",
}


def accept_for(query: str) -> str | None:
    """The Accept header a document needs: the preview media type when it selects a preview field."""
    return PREVIEW_ACCEPT if any(name in query for name in PREVIEW_FIELDS) else None


# The hidden line a PR body ends with, naming what the PR changes (see PullRequestSpec.covers).
COVERS_MARK = "<!-- updater:covers"
BLOB_FIELDS = "oid mode object { ... on Blob { text isBinary isTruncated } }"


@dataclass(frozen=True)
class FileState:
    """A file at a commit: `content` is None when the path does not exist."""

    path: str
    content: bytes | None
    oid: str | None = None
    mode: int | None = None


@dataclass(frozen=True)
class PullRequest:
    id: str
    number: int
    url: str
    head: str
    head_oid: str
    title: str
    body: str
    state: str = "OPEN"
    merged: bool = False
    merge_state: str = "UNKNOWN"
    auto_merge: bool = False
    head_ref_id: str | None = None
    labels: frozenset[str] = frozenset()
    assignees: frozenset[str] = frozenset()
    reviewers: frozenset[str] = frozenset()  # users whose review is requested (logins)
    team_reviewers: frozenset[str] = frozenset()  # teams whose review is requested (slugs)
    # users who reviewed: GitHub drops a reviewer from the requests once they review
    reviewed: frozenset[str] = frozenset()


@dataclass
class Snapshot:
    """The state of the repository one run acts on."""

    repo_id: str
    auto_merge_allowed: bool
    base_ref_id: str | None
    base_oid: str | None
    base_tree: str | None
    base_message: str
    base_parent: str | None
    files: dict[str, FileState] = field(default_factory=dict)
    head_ref_id: str | None = None
    head_oid: str | None = None
    head_parents: tuple[str, ...] = ()
    head_changed: int | None = None
    head_blobs: dict[str, str | None] = field(default_factory=dict)
    pulls: tuple[PullRequest, ...] = ()  # open PRs into the base, first page (see `more_pulls`)
    ours: PullRequest | None = None  # the open PR of our head into the base, looked up by name
    more_pulls: str | None = None  # the cursor of the next page of open PRs, when there is one
    merge_methods: frozenset[str] = frozenset(METHOD_FIELDS)  # merge | squash | rebase, as allowed
    scratch_ref_id: str | None = None  # the scratch branch a previous update left behind


def blob_oid(content: bytes) -> str:
    """Return git's object id for a blob with this content (to compare without downloading)."""
    return hashlib.sha1(b"blob %d\0" % len(content) + content).hexdigest()


def qualified(branch: str) -> str:
    return branch if branch.startswith("refs/") else f"refs/heads/{branch}"


def snapshot_query(paths: tuple[str, ...], with_head: bool) -> str:
    """The query for `Snapshot`: base branch with file contents, and optionally the PR head branch."""
    decl = "".join(f", $p{i}: String!" for i in range(len(paths)))
    files = " ".join(f"f{i}: file(path: $p{i}) {{ {BLOB_FIELDS} }}" for i in range(len(paths)))
    head = ""
    if with_head:
        blobs = " ".join(f"h{i}: file(path: $p{i}) {{ oid }}" for i in range(len(paths)))
        head = (
            " head: ref(qualifiedName: $head) { id target { oid ... on Commit {"
            f" parents(first: 2) {{ nodes {{ oid }} }} changedFilesIfAvailable {blobs} }} }} }}"
            " scratch: ref(qualifiedName: $scratch) { id }"
            " ours: pullRequests(states: [OPEN], headRefName: $headName, baseRefName: $baseName, first: 1)"
            f" {{ nodes {{ {PR_FIELDS} }} }}"
            " open: pullRequests(states: [OPEN], baseRefName: $baseName, first: 100)"
            f" {{ {OPEN_PAGE} nodes {{ {OPEN_FIELDS} }} }}"
        )
        decl += ", $head: String!, $headName: String!, $baseName: String!, $scratch: String!"
    return (
        f"query($owner: String!, $name: String!, $base: String!{decl}) {{"
        " repository(owner: $owner, name: $name) { id autoMergeAllowed"
        f" {' '.join(METHOD_FIELDS.values())}"
        " base: ref(qualifiedName: $base) { id target { oid ... on Commit { message tree { oid }"
        f" parents(first: 1) {{ nodes {{ oid }} }} {files} }} }} }}{head} }} }}"
    )


def parse_snapshot(data: dict[str, Any], paths: tuple[str, ...]) -> Snapshot:
    repo = data["repository"]
    base = repo.get("base") or {}
    target = base.get("target") or {}
    parents = [n["oid"] for n in (target.get("parents") or {}).get("nodes", [])]
    snap = Snapshot(
        repo_id=repo["id"],
        auto_merge_allowed=bool(repo.get("autoMergeAllowed")),
        base_ref_id=base.get("id"),
        base_oid=target.get("oid"),
        base_tree=(target.get("tree") or {}).get("oid"),
        base_message=target.get("message") or "",
        base_parent=parents[0] if parents else None,
        merge_methods=frozenset(m for m, name in METHOD_FIELDS.items() if repo.get(name, True)),
    )
    for i, path in enumerate(paths):
        snap.files[path] = parse_file(path, target.get(f"f{i}"))
    head = repo.get("head")
    if head:
        htarget = head.get("target") or {}
        snap.head_ref_id = head.get("id")
        snap.head_oid = htarget.get("oid")
        snap.head_parents = tuple(n["oid"] for n in (htarget.get("parents") or {}).get("nodes", []))
        snap.head_changed = htarget.get("changedFilesIfAvailable")
        for i, path in enumerate(paths):
            entry = htarget.get(f"h{i}")
            snap.head_blobs[path] = entry["oid"] if entry else None
    snap.pulls, snap.more_pulls = parse_pulls(repo.get("open"))
    ours = (repo.get("ours") or {}).get("nodes") or []
    snap.ours = parse_pull(ours[0]) if ours else None
    snap.scratch_ref_id = (repo.get("scratch") or {}).get("id")
    return snap


def parse_pulls(connection: dict[str, Any] | None) -> tuple[tuple[PullRequest, ...], str | None]:
    """A page of open PRs, and the cursor of the next page (None when it is the last)."""
    connection = connection or {}
    info = connection.get("pageInfo") or {}
    cursor = info.get("endCursor") if info.get("hasNextPage") else None
    return tuple(parse_pull(n) for n in connection.get("nodes") or []), cursor


def parse_file(path: str, entry: dict[str, Any] | None) -> FileState:
    """A TreeEntry answer as a FileState; content None means it must be fetched as a blob."""
    if entry is None:
        return FileState(path, None)
    blob = entry.get("object") or {}
    text = blob.get("text")
    usable = text is not None and not blob.get("isBinary") and not blob.get("isTruncated")
    content = str(text).encode("utf-8") if usable else None
    return FileState(path, content, entry["oid"], entry.get("mode"))


def covered(body: str) -> set[str]:
    """Return what a PR body's hidden covers line lists (empty when it has none: not ours, or older)."""
    for line in body.splitlines():
        if line.startswith(COVERS_MARK) and line.endswith("-->"):
            return set(line[len(COVERS_MARK) : -3].split())
    return set()


def parse_pull(node: dict[str, Any]) -> PullRequest:
    users, teams = set(), set()
    for n in (node.get("reviewRequests") or {}).get("nodes", []):
        who = n.get("requestedReviewer") or {}
        if who.get("slug"):
            teams.add(str(who["slug"]))
        elif who.get("login"):
            users.add(str(who["login"]))
    return PullRequest(
        id=node["id"],
        number=node["number"],
        url=node["url"],
        head=node["headRefName"],
        head_oid=node.get("headRefOid") or "",
        title=node.get("title") or "",
        body=node.get("body") or "",
        state=node.get("state") or "OPEN",
        merged=bool(node.get("merged")),
        merge_state=node.get("mergeStateStatus") or "UNKNOWN",
        auto_merge=node.get("autoMergeRequest") is not None,
        head_ref_id=(node.get("headRef") or {}).get("id"),
        labels=frozenset(n["name"] for n in (node.get("labels") or {}).get("nodes", [])),
        assignees=frozenset(n["login"] for n in (node.get("assignees") or {}).get("nodes", [])),
        reviewers=frozenset(users),
        team_reviewers=frozenset(teams),
        reviewed=frozenset(
            str((n.get("author") or {}).get("login"))
            for n in (node.get("latestReviews") or {}).get("nodes") or []
            if (n.get("author") or {}).get("login")
        ),
    )


OPEN_PULLS_QUERY = (
    "query($owner: String!, $name: String!, $baseName: String!, $after: String!) {"
    " repository(owner: $owner, name: $name) {"
    f" open: pullRequests(states: [OPEN], baseRefName: $baseName, first: 100, after: $after)"
    f" {{ {OPEN_PAGE} nodes {{ {OPEN_FIELDS} }} }} }} }}"
)

BLOB_QUERY = (
    "query($owner: String!, $name: String!, $expr: String!) { repository(owner: $owner, name: $name) {"
    " object(expression: $expr) { oid ... on Blob { text isBinary isTruncated } } } }"
)

DEFAULT_BRANCH_QUERY = (
    "query($owner: String!, $name: String!) { repository(owner: $owner, name: $name) {"
    " defaultBranchRef { name } } }"
)

PULL_QUERY = (
    "query($owner: String!, $name: String!, $number: Int!) { repository(owner: $owner, name: $name) {"
    f" pullRequest(number: $number) {{ {PR_FIELDS} closed mergeCommit {{ oid }}"
    " headRef { target { ... on Commit { statusCheckRollup { state } } } } } } }"
)
CHECKS_QUERY = (
    "query($owner: String!, $name: String!, $oid: GitObjectID!) { repository(owner: $owner, name: $name) {"
    " object(oid: $oid) { ... on Commit { statusCheckRollup { state } } } } }"
)

# A page of a file's history: `first` at most 100, the next page `after` the previous endCursor.
HISTORY_QUERY = (
    "query($owner: String!, $name: String!, $ref: String!, $path: String!, $first: Int!, $after: String) {"
    " repository(owner: $owner, name: $name) { ref(qualifiedName: $ref) { target { ... on Commit {"
    " history(first: $first, path: $path, after: $after) { pageInfo { hasNextPage endCursor }"
    " nodes { oid committedDate author { name email date }"
    f" file(path: $path) {{ {BLOB_FIELDS} }} }} }} }} }} }} }} }}"
)
PAGE_SIZE = 100  # GitHub's maximum `first` on any connection


@dataclass(frozen=True)
class Part:
    """One mutation field of a multi-mutation document (GraphQL runs them in order)."""

    alias: str
    field: str
    input_type: str
    input: dict[str, Any]
    selection: str


def mutation(parts: list[Part]) -> tuple[str, dict[str, Any]]:
    """Return (document, variables) running every part in order, one request."""
    decl = ", ".join(f"${p.alias}: {p.input_type}!" for p in parts)
    body = " ".join(f"{p.alias}: {p.field}(input: ${p.alias}) {{ {p.selection} }}" for p in parts)
    return f"mutation({decl}) {{ {body} }}", {p.alias: p.input for p in parts}


def scratch_branch(head: str) -> str:
    """The branch a PR update builds its commit on, so that the open PR's head moves only once, to a
    commit the base does not contain (a head the base contains closes the PR as merged)."""
    return f"updater-scratch/{head}"


def create_ref(repo_id: str, branch: str, oid: str, alias: str = "ref") -> Part:
    return Part(
        alias,
        "createRef",
        "CreateRefInput",
        {"repositoryId": repo_id, "name": qualified(branch), "oid": oid},
        "ref { id }",
    )


def reset_ref(ref_id: str, oid: str, alias: str = "ref") -> Part:
    """Point a ref at `oid`, forced (never on an open PR's head with a commit the base contains)."""
    return Part(
        alias, "updateRef", "UpdateRefInput", {"refId": ref_id, "oid": oid, "force": True}, "ref { id }"
    )


def delete_ref(alias: str, ref_id: str) -> Part:
    return Part(alias, "deleteRef", "DeleteRefInput", {"refId": ref_id}, "clientMutationId")


def commit_on_branch(repo: str, branch: str, expected: str, changes: dict[str, bytes], message: str) -> Part:
    headline, _, body = message.strip().partition("\n")
    msg: dict[str, Any] = {"headline": headline.strip()}
    if body.strip():
        msg["body"] = body.strip()
    additions = [{"path": p, "contents": base64.b64encode(c).decode()} for p, c in sorted(changes.items())]
    return Part(
        "commit",
        "createCommitOnBranch",
        "CreateCommitOnBranchInput",
        {
            "branch": {"repositoryNameWithOwner": repo, "branchName": branch},
            "expectedHeadOid": expected,
            "message": msg,
            "fileChanges": {"additions": additions},
        },
        "commit { oid url }",
    )


def create_pull(repo_id: str, base: str, head: str, title: str, body: str, draft: bool) -> Part:
    data = {
        "repositoryId": repo_id,
        "baseRefName": base,
        "headRefName": head,
        "title": title,
        "body": body,
        "draft": draft,
    }
    return Part("pr", "createPullRequest", "CreatePullRequestInput", data, f"pullRequest {{ {PR_FIELDS} }}")


def update_pull(pr_id: str, title: str, body: str) -> Part:
    data = {"pullRequestId": pr_id, "title": title, "body": body}
    return Part("pr", "updatePullRequest", "UpdatePullRequestInput", data, f"pullRequest {{ {PR_FIELDS} }}")


def comment(alias: str, subject_id: str, body: str) -> Part:
    return Part(
        alias, "addComment", "AddCommentInput", {"subjectId": subject_id, "body": body}, "subject { id }"
    )


def close_pull(alias: str, pr_id: str) -> Part:
    return Part(
        alias, "closePullRequest", "ClosePullRequestInput", {"pullRequestId": pr_id}, "pullRequest { id }"
    )


def enable_auto_merge(pr_id: str, method: str) -> Part:
    data = {"pullRequestId": pr_id, "mergeMethod": method.upper()}
    return Part(
        "automerge",
        "enablePullRequestAutoMerge",
        "EnablePullRequestAutoMergeInput",
        data,
        "pullRequest { id }",
    )
