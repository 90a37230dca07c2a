"""The loopback GitHub's domain state: one repository (a real bare git repo), its pull requests,
commit statuses and auto-merge, with the rules GitHub documents (one open PR per head and base,
merge needs a mergeable PR whose head is the expected sha, auto-merge fires when checks pass).
"""

from __future__ import annotations

import secrets
import string
import threading
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

from testing.github_git import ZERO, BareRepo


def now() -> str:
    return datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


class StateError(Exception):
    """A request GitHub would refuse: REST status and GraphQL error type."""

    def __init__(self, message: str, status: int = 422, type_: str = "UNPROCESSABLE") -> None:
        super().__init__(message)
        self.message = message
        self.status = status
        self.type = type_


@dataclass
class PullRequest:
    number: int
    head: str
    base: str
    title: str
    body: str
    draft: bool
    created_at: str
    state: str = "OPEN"  # OPEN | CLOSED | MERGED
    labels: list[str] = field(default_factory=list)
    assignees: list[str] = field(default_factory=list)
    reviewers: list[str] = field(default_factory=list)
    team_reviewers: list[str] = field(default_factory=list)
    auto_merge: str | None = None  # MERGE | SQUASH | REBASE while auto-merge is enabled
    auto_merge_at: str | None = None
    merge_commit: str | None = None
    closed_head_oid: str | None = None
    comments: list[str] = field(default_factory=list)


class GitHubState:
    """Everything the loopback server knows; callers hold `lock` around multi-step changes."""

    def __init__(self, path: Path, owner: str, name: str, files: dict[str, bytes], branch: str) -> None:
        self.owner = owner
        self.name = name
        self.repo = BareRepo.create(path, files, branch)
        self.default_branch = branch
        self.lock = threading.RLock()
        self.pulls: dict[int, PullRequest] = {}
        self.auto_merge_allowed = True
        self.require_checks = False  # when True a PR is BLOCKED until its head has a SUCCESS status
        self.statuses: dict[str, str] = {}
        # When set, creating a pull request fails with this message (a permanent 403, e.g. missing scope).
        self.refuse_pull_requests: str | None = None
        # Replica lag: the next N pull request creations do not see the head's newest commit yet
        # (GitHub answers "No commits between" for a moment after a commit, now and then).
        self.lagging_pull_views = 0
        self.repo_id = "R_kgDOloopback"

    @property
    def full_name(self) -> str:
        return f"{self.owner}/{self.name}"

    def ref_oid(self, branch: str) -> str | None:
        return self.repo.resolve(f"refs/heads/{branch}")

    def head_oid(self, pr: PullRequest) -> str:
        oid = self.ref_oid(pr.head) if pr.state == "OPEN" else None
        return oid or pr.closed_head_oid or ZERO

    def check_state(self, oid: str) -> str | None:
        return self.statuses.get(oid)

    def merge_state(self, pr: PullRequest) -> str:
        """GitHub's MergeStateStatus for an open PR."""
        base = self.ref_oid(pr.base)
        head = self.head_oid(pr)
        if base is None or head == ZERO:
            return "UNKNOWN"
        if pr.draft:
            return "DRAFT"
        if self.repo.merge_tree(base, head) is None:
            return "DIRTY"
        if self.require_checks and self.check_state(head) != "SUCCESS":
            return "BLOCKED"
        return "CLEAN"

    def open_pull(self, head: str, base: str) -> PullRequest | None:
        return next(
            (p for p in self.pulls.values() if p.state == "OPEN" and p.head == head and p.base == base), None
        )

    def create_pull(self, base: str, head: str, title: str, body: str, draft: bool) -> PullRequest:
        with self.lock:
            if self.refuse_pull_requests:
                raise StateError(self.refuse_pull_requests, 403, "FORBIDDEN")
            base_oid, head_oid = self.ref_oid(base), self.ref_oid(head)
            if base_oid is None or head_oid is None:
                raise StateError(
                    f"Head sha can't be blank, Base sha can't be blank, No commits between {base} "
                    f"and {head}, Head ref must be a branch",
                    type_="UNPROCESSABLE",
                )
            if self.open_pull(head, base):
                raise StateError(f"A pull request already exists for {self.owner}:{head}.")
            if self.lagging_pull_views > 0:
                self.lagging_pull_views -= 1
                raise StateError(f"No commits between {base} and {head}")
            if self.repo.is_ancestor(head_oid, base_oid):
                raise StateError(f"No commits between {base} and {head}")
            pr = PullRequest(len(self.pulls) + 1, head, base, title, body, draft, now())
            self.pulls[pr.number] = pr
            return pr

    def close(self, pr: PullRequest) -> None:
        with self.lock:
            if pr.state == "OPEN":
                pr.closed_head_oid = self.head_oid(pr)
                pr.state = "CLOSED"
                pr.auto_merge = None

    def ref_deleted(self, branch: str) -> None:
        """GitHub closes the open PRs whose head branch is deleted."""
        with self.lock:
            for pr in self.pulls.values():
                if pr.state == "OPEN" and pr.head == branch:
                    pr.state = "CLOSED"
                    pr.auto_merge = None

    def enable_auto_merge(self, pr: PullRequest, method: str) -> None:
        with self.lock:
            if not self.auto_merge_allowed:
                raise StateError("Auto merge is not allowed for this repository")
            if pr.state != "OPEN":
                raise StateError("Pull request is closed")
            if self.merge_state(pr) == "CLEAN":
                raise StateError("Pull request is in clean status")
            pr.auto_merge, pr.auto_merge_at = method, now()

    def set_status(self, oid: str, state: str) -> None:
        """Record a combined check state for a commit; fires auto-merge like GitHub does."""
        with self.lock:
            self.statuses[oid] = state
            for pr in list(self.pulls.values()):
                if pr.state == "OPEN" and pr.auto_merge and self.head_oid(pr) == oid and state == "SUCCESS":
                    self.merge(pr, pr.auto_merge)

    def merge(self, pr: PullRequest, method: str, sha: str | None = None, title: str | None = None) -> str:
        """Merge like GitHub: a merge commit, a squash or a rebase onto the base; return the new base oid."""
        with self.lock:
            if pr.state != "OPEN":
                raise StateError("Pull Request is not mergeable", status=405)
            head = self.head_oid(pr)
            if sha and sha != head:
                raise StateError("Head branch was modified. Review and try the merge again.", status=409)
            if self.merge_state(pr) != "CLEAN":
                raise StateError("Pull Request is not mergeable", status=405)
            base = self.ref_oid(pr.base)
            assert base is not None
            tree = self.repo.merge_tree(base, head)
            assert tree is not None
            message = title or pr.title
            if method.upper() == "MERGE":
                msg = f"Merge pull request #{pr.number} from {self.owner}/{pr.head}\n\n{message}"
                new = self.repo.commit_tree(tree, [base, head], msg)
            elif method.upper() == "SQUASH":
                new = self.repo.commit_tree(tree, [base], f"{message} (#{pr.number})\n\n{pr.body}".rstrip())
            else:  # REBASE of updater's one-commit PRs: the head commit replayed onto the base
                info = self.repo.commit(head)
                new = self.repo.commit_tree(tree, [base], info.message, (info.author_name, info.author_email))
            if not self.repo.update_ref(f"refs/heads/{pr.base}", new, base):
                raise StateError("Base branch was modified. Review and try the merge again.", status=409)
            pr.closed_head_oid = head
            pr.state, pr.merge_commit, pr.auto_merge = "MERGED", new, None
            return new


def new_token() -> str:
    """An installation-token-shaped secret (ghs_ + 36 characters), as GitHub issues them."""
    return "ghs_" + "".join(secrets.choice(string.ascii_letters + string.digits) for _ in range(36))
