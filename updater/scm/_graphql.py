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
)
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
    reviewers: frozenset[str] = frozenset()  # logins and team slugs


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
    pulls: tuple[PullRequest, ...] = ()


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
            " open: pullRequests(states: [OPEN], baseRefName: $baseName, first: 100)"
            f" {{ nodes {{ {PR_FIELDS} }} }}"
        )
        decl += ", $head: String!, $baseName: String!"
    return (
        f"query($owner: String!, $name: String!, $base: String!{decl}) {{"
        " repository(owner: $owner, name: $name) { id autoMergeAllowed"
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
    snap.pulls = tuple(parse_pull(n) for n in (repo.get("open") or {}).get("nodes", []))
    return snap


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
    reviewers = set()
    for n in (node.get("reviewRequests") or {}).get("nodes", []):
        who = n.get("requestedReviewer") or {}
        reviewers.add(who.get("login") or who.get("slug") or "")
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
        reviewers=frozenset(reviewers - {""}),
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

HISTORY_QUERY = (
    "query($owner: String!, $name: String!, $ref: String!, $path: String!, $first: Int!) {"
    " repository(owner: $owner, name: $name) { ref(qualifiedName: $ref) { target { ... on Commit {"
    " history(first: $first, path: $path) { nodes { oid message committedDate author { name email date }"
    f" file(path: $path) {{ {BLOB_FIELDS} }} }} }} }} }} }} }} }}"
)


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


def create_ref(repo_id: str, branch: str, oid: str) -> Part:
    return Part(
        "ref",
        "createRef",
        "CreateRefInput",
        {"repositoryId": repo_id, "name": qualified(branch), "oid": oid},
        "ref { id }",
    )


def reset_ref(ref_id: str, oid: str) -> Part:
    return Part(
        "ref", "updateRef", "UpdateRefInput", {"refId": ref_id, "oid": oid, "force": True}, "ref { id }"
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
