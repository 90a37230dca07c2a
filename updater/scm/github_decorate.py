"""Our PR's labels, assignees and review requests: send only what the PR lacks.

GitHub matches label names and logins case-insensitively (a label given as "Deploy" is the
repository's "deploy"), reads team review requests back as teams (`... on Team { slug }`), and drops
a reviewer from the requests once they review, so the comparison is done the same way (a reviewer
who reviewed counts as there); a setting that is already there is never sent again nor reported as
a change. Writes are REST, by name (GraphQL's requestReviews wants node ids).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from updater.scm import _graphql as gql
from updater.scm.base import PullRequestSpec


@dataclass(frozen=True)
class Write:
    """One REST write: verb, path under the repository, JSON body, and what it does (for errors)."""

    verb: str
    path: str
    body: dict[str, Any]
    what: str


def missing(wanted: Iterable[str], present: Iterable[str]) -> list[str]:
    """The names of `wanted` that `present` lacks, compared case-insensitively, in the given order."""
    seen = {name.lower() for name in present}
    out = []
    for name in wanted:
        if name.lower() not in seen:
            seen.add(name.lower())
            out.append(name)
    return out


def team_slug(name: str) -> str:
    """A team as GitHub's review requests name it: its slug (`org/slug` in the config is accepted)."""
    return name.rsplit("/", 1)[-1]


def writes(spec: PullRequestSpec, pr: gql.PullRequest) -> list[Write]:
    """The REST writes that give `pr` the spec's labels, assignees and reviewers; [] when it has them.

    PATCH /issues/N sets the whole list, so the PR's own labels and assignees are kept in it.
    """
    out: list[Write] = []
    body: dict[str, Any] = {}
    labels = missing(spec.labels, pr.labels)
    if labels:
        body["labels"] = sorted([*pr.labels, *labels])
    assignees = missing(spec.assignees, pr.assignees)
    if assignees:
        body["assignees"] = sorted([*pr.assignees, *assignees])
    if body:
        out.append(Write("PATCH", f"/issues/{pr.number}", body, "label the pull request"))
    users = missing(spec.reviewers, pr.reviewers | pr.reviewed)  # a review ends the request
    teams = missing([team_slug(t) for t in spec.team_reviewers], pr.team_reviewers)
    if users or teams:
        request = {"reviewers": users, "team_reviewers": teams}
        out.append(Write("POST", f"/pulls/{pr.number}/requested_reviewers", request, "request reviewers"))
    return out
