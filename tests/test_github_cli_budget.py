"""`updater bump` as a subprocess with a realistic pull-request config (title and body templates,
draft, labels, reviewers, team reviewers, assignees) against the loopback GitHub, which counts every
REST and GraphQL call: the exact call budget per case, and the settings reaching the PR."""

from __future__ import annotations

from pathlib import Path

import pytest

from testing.github_gitops import NEW, NEWER_SHA, app_names, gitops

SETTINGS = (
    "pull-request:\n"
    "  title: 'deploy({env}): {apps}'\n"
    "  body: 'Release {tags} via {command}.'\n"
    "  draft: true\n"
    "  labels: [updater, deploy]\n"
    "  reviewers: [alice]\n"
    "  team-reviewers: [sre]\n"
    "  assignees: [bob]\n"
)


@pytest.mark.parametrize("count", [1, 50])
def test_realistic_pull_request_costs_five_calls_and_carries_every_setting(
    tmp_path: Path, count: int
) -> None:
    with gitops(tmp_path, count, extra=SETTINGS) as ops:
        ops.server.reset_counts()
        result = ops.bump("--all")
        [pr] = ops.server.state.pulls.values()
        # read the files, snapshot, ONE document creating the head, the commit and the PR, labels and
        # assignees (REST, by name), reviewers and team reviewers (REST, by name)
        assert ops.call_log() == [
            "POST query",
            "POST query",
            "POST mutation createRef,createCommitOnBranch,createPullRequest",
            f"PATCH /repos/acme/gitops/issues/{pr.number}",
            f"POST /repos/acme/gitops/pulls/{pr.number}/requested_reviewers",
        ]
        assert result["changed"] is True and result["pr_number"] == pr.number
        assert ops.commits(pr.head) == 1 and ops.commits("main") == 0
        apps = app_names(count)
        assert pr.title == f"deploy(production): {', '.join(apps)}"
        assert pr.body.startswith(f"Release {', '.join(f'{a} {NEW}' for a in apps)} via bump.\n\n")
        assert pr.draft is True
        assert (sorted(pr.labels), pr.reviewers, pr.team_reviewers, pr.assignees) == (
            ["deploy", "updater"],
            ["alice"],
            ["sre"],
            ["bob"],
        )

        ops.server.reset_counts()
        again = ops.bump("--all")
        assert ops.calls() == 2, ops.call_log()  # read, snapshot: nothing to write
        assert again["changed"] is False and len(ops.server.state.pulls) == 1


def test_superseding_two_pull_requests_costs_six_calls(tmp_path: Path) -> None:
    with gitops(tmp_path, 3, extra=SETTINGS) as ops:
        first, second = ops.bump("--app", "app00"), ops.bump("--app", "app01")
        ops.server.reset_counts()
        both = ops.bump("--app", "app00", "--app", "app01", sha=NEWER_SHA)
        # the five of a new PR, plus ONE document commenting on, closing and deleting both old ones
        assert ops.calls() == 6, ops.call_log()
        assert ops.call_log()[-1] == (
            "POST mutation addComment,closePullRequest,deleteRef,addComment,closePullRequest,deleteRef"
        )
        pulls = ops.server.state.pulls
        assert [pulls[int(str(r["pr_number"]))].state for r in (first, second, both)] == [
            "CLOSED",
            "CLOSED",
            "OPEN",
        ]


@pytest.mark.parametrize("allowed", [True, False])
def test_auto_merge_costs_six_calls(tmp_path: Path, allowed: bool) -> None:
    """Checks required and pending: the five, plus enablePullRequestAutoMerge. Auto-merge off for the
    repository and the PR clean: the five, plus one direct merge (PUT .../merge with the head sha).
    (enablePullRequestAutoMerge needs the new PR's id, so it cannot join the create document.)"""
    settings = SETTINGS.replace("  draft: true\n", "")
    with gitops(tmp_path, 1, extra=settings, mode="auto-merge") as ops:
        ops.server.state.auto_merge_allowed = allowed
        ops.server.state.require_checks = allowed
        ops.server.reset_counts()
        result = ops.bump("--all")
        assert ops.calls() == 6, ops.call_log()
        [pr] = ops.server.state.pulls.values()
        assert result["pr_number"] == pr.number
        if allowed:
            assert ops.call_log()[-1] == "POST mutation enablePullRequestAutoMerge"
            assert (pr.auto_merge, pr.state) == ("SQUASH", "OPEN")
        else:
            assert ops.call_log()[-1] == f"PUT /repos/acme/gitops/pulls/{pr.number}/merge"
            assert pr.state == "MERGED"
