"""The contract every scm backend (files, git, github) implements."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol

# Given a reader of the branch head (path -> bytes, or None when the file does not exist), return
# {path: new bytes} for the files that change; {} means nothing to do. It must depend only on what it
# reads, because a backend calls it again on the fresh head after losing a race.
Reader = Callable[[str], "bytes | None"]
Editor = Callable[[Reader], "dict[str, bytes]"]


@dataclass(frozen=True)
class Author:
    name: str
    email: str


@dataclass(frozen=True)
class PullRequestSpec:
    """What a pull request should look like; `head` is the branch updater owns (reset each run)."""

    head: str
    title: str
    body: str
    labels: tuple[str, ...] = ()
    reviewers: tuple[str, ...] = ()
    team_reviewers: tuple[str, ...] = ()
    assignees: tuple[str, ...] = ()
    draft: bool = False
    merge_method: str = "squash"  # merge | squash | rebase
    # Heads of older PRs this one replaces (closed with a comment pointing to the new one).
    supersedes_prefix: str | None = None
    # What this PR changes (e.g. its app names), recorded in the PR; with `supersedes_prefix`, an open
    # PR under the prefix is superseded only when everything it covers is covered here too.
    covers: tuple[str, ...] = ()


@dataclass(frozen=True)
class CommitRequest:
    branch: str
    message: str
    mode: str = "commit"  # commit | pull-request | auto-merge
    author: Author | None = None
    pull_request: PullRequestSpec | None = None
    wait_merged: float | None = None  # seconds to block until the PR is merged (auto-merge)


@dataclass(frozen=True)
class Outcome:
    """What a backend did: `changed` is False when every file was already up to date."""

    changed: bool
    files: tuple[str, ...] = ()
    commit: str | None = None
    pr_number: int | None = None
    pr_url: str | None = None
    merged: bool = False
    merge: str | None = None  # auto-merge: "direct" (merged by updater) or "armed" (GitHub merges later)
    notes: tuple[str, ...] = field(default=())


@dataclass(frozen=True)
class Revision:
    """One version of a file in history, newest first when listed."""

    commit: str
    author: str
    date: datetime
    content: bytes | None
    message: str = ""  # the commit message (history reads updater's trailer from it)


class Backend(Protocol):
    """Reads files at a branch head and writes all changes as ONE commit (or PR)."""

    def read(self, branch: str, path: str) -> bytes | None:
        """Return the file's bytes at the head of `branch`, or None if it does not exist."""
        ...

    def apply(self, request: CommitRequest, editor: Editor) -> Outcome:
        """Run `editor` on the branch head and land its result; re-run it on a lost race (bounded)."""
        ...

    def history(self, branch: str, path: str, limit: int = 50) -> list[Revision]:
        """Return the file's versions on `branch`, newest first."""
        ...

    def descends(self, branch: str, commit: str, revision: str) -> bool:
        """True when `revision` is `commit` or a descendant of it on `branch`.

        For the deploy wait (does Argo CD run our commit or a later one?) and for history (which of two
        commits made in the same second came later: commit dates have one-second resolution).
        """
        ...
