"""The loopback GitHub's domain state: one repository (a real bare git repo), its pull requests,
commit statuses and auto-merge, with the rules GitHub documents (one open PR per head and base,
merge needs a mergeable PR whose head is the expected sha, auto-merge fires when checks pass), and
the ones that surprise clients (each cited where it is modelled; see /work/notes/github-docs.md):

- a push that makes an open PR's head an ancestor of its base closes the PR as *merged*
  (`_pushed`);
- mergeability is computed in the background: `mergeStateStatus` reads UNKNOWN right after a PR is
  opened or its head or base moves (`observed_merge_state`);
- the repository's allowed merge methods: a disallowed one is a 405 on the REST merge and an error on
  `enablePullRequestAutoMerge` (`check_method`);
- label names are case-insensitive: a label given as "Deploy" is the repository's "deploy"
  (`canonical_labels`).
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
    # (head, base) the merge state was last computed for, and how many reads still see UNKNOWN.
    computed_for: tuple[str, str] | None = None
    unknown_reads: int = 0
    auto_merge_at: str | None = None
    merge_commit: str | None = None
    closed_head_oid: str | None = None
    comments: list[str] = field(default_factory=list)
    reviews: list[str] = field(default_factory=list)  # logins that submitted a review


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
        # The repository's "Allow merge commits / squash merging / rebase merging" settings.
        self.merge_methods: set[str] = {"MERGE", "SQUASH", "REBASE"}
        # How many reads of a PR's mergeStateStatus answer UNKNOWN after its head or base moved.
        self.unknown_reads = 1
        # The repository's labels, by lower-cased name (GitHub matches label names case-insensitively).
        self.labels: dict[str, str] = {}
        self.repo.on_update = self._pushed

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

    def _pushed(self, ref: str) -> None:
        """GitHub marks an open PR merged when a push makes its head reachable from its base: its
        commits are in the base, so there is nothing left to merge. Documented by reproduction:
        https://github.com/refined-github/sandbox/pull/163 ("PR merged by pushing the commit itself
        to main"), https://github.com/mislav/hub/issues/1483 (a local merge and push "will close the PR
        in GitHub, just as if you pressed the merge button"). Resetting an open PR's head to its base
        therefore merges the PR and loses the change."""
        branch = ref.removeprefix("refs/heads/")
        with self.lock:
            for pr in self.pulls.values():
                if pr.state != "OPEN" or branch not in (pr.head, pr.base):
                    continue
                head, base = self.ref_oid(pr.head), self.ref_oid(pr.base)
                if head and base and self.repo.is_ancestor(head, base):
                    pr.state, pr.closed_head_oid, pr.auto_merge = "MERGED", head, None

    def observed_merge_state(self, pr: PullRequest) -> str:
        """mergeStateStatus as a client reads it: UNKNOWN for the first `unknown_reads` reads after the PR
        is opened or its head or base moves, as GitHub computes mergeability in a background job
        (REST "Get a pull request": "If the value is null, then GitHub has started a background job to
        compute the mergeability", https://docs.github.com/en/rest/pulls/pulls#get-a-pull-request)."""
        with self.lock:
            if pr.state != "OPEN":
                return "UNKNOWN"
            key = (self.head_oid(pr), self.ref_oid(pr.base) or ZERO)
            if pr.computed_for != key:
                pr.computed_for, pr.unknown_reads = key, self.unknown_reads
            if pr.unknown_reads > 0:
                pr.unknown_reads -= 1
                return "UNKNOWN"
            return self.merge_state(pr)

    def check_method(self, method: str, rest: bool) -> None:
        """Refuse a merge method the repository disallows: REST answers 405 "Merge commits are not
        allowed on this repository." (github/github-mcp-server#2258, airbytehq/airbyte#38754), GraphQL's
        enablePullRequestAutoMerge "Merge method squash merging is not allowed on this repository"
        (tokuhirom/mutsu#5583, hashicorp/homebrew-tap#372)."""
        method = method.upper()
        if method in self.merge_methods:
            return
        if rest:
            name = {"MERGE": "Merge commits", "SQUASH": "Squash merges", "REBASE": "Rebase merges"}[method]
            raise StateError(f"{name} are not allowed on this repository.", status=405)
        name = {"MERGE": "merge commits", "SQUASH": "squash merging", "REBASE": "rebase merging"}[method]
        raise StateError(f"Merge method {name} is not allowed on this repository", type_="UNPROCESSABLE")

    def canonical_labels(self, names: list[str]) -> list[str]:
        """Label names as GitHub stores them: an existing label matched case-insensitively keeps its own
        spelling, a new name creates the label."""
        out: list[str] = []
        with self.lock:
            for name in names:
                label = self.labels.setdefault(name.lower(), name)
                if label not in out:
                    out.append(label)
        return out

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
            self.check_method(method, rest=False)
            if pr.state != "OPEN":
                raise StateError("Pull request is closed")
            if self.merge_state(pr) == "CLEAN":
                raise StateError("Pull request is in clean status")
            pr.auto_merge, pr.auto_merge_at = method, now()

    def submit_review(self, pr: PullRequest, login: str) -> None:
        """A requested reviewer reviews: "Once a requested reviewer submits a review, they are no longer
        considered a requested reviewer" (REST "Get all requested reviewers for a pull request",
        https://docs.github.com/en/rest/pulls/review-requests)."""
        with self.lock:
            pr.reviewers = [r for r in pr.reviewers if r.lower() != login.lower()]
            if login not in pr.reviews:
                pr.reviews.append(login)

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
            self.check_method(method, rest=True)
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
