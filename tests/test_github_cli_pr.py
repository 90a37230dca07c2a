"""`updater bump` in pull-request mode as a subprocess, against the loopback GitHub
(testing/github_server.py: GitHub's published REST/GraphQL API over a real bare git repository; it
counts requests), with an OCI image layout on disk as the registry: the API-call budget, re-runs,
superseding, the PR body and the repository's default branch."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from testing.github_gitops import NEW, NEWER, NEWER_SHA, OLD, SHA, TOKEN, GitOps, app_names, gitops, values


def bump(ops: GitOps, *args: str, sha: str = SHA, env: dict[str, str] | None = None) -> dict[str, object]:
    done = ops.run("bump", "--env", "production", "--sha", sha, "--json", *args, env=env)
    assert done.returncode == 0, done.stderr
    assert TOKEN not in done.stdout + done.stderr
    result: dict[str, object] = json.loads(done.stdout)
    return result


@pytest.mark.parametrize("count", [1, 50])
def test_pull_request_costs_three_calls_one_commit_one_pr(tmp_path: Path, count: int) -> None:
    with gitops(tmp_path, count) as ops:
        ops.server.reset_counts()
        result = bump(ops, "--all")
        assert ops.calls() == 3, ops.server.log  # read, snapshot, head+commit+PR in one document
        [pr] = ops.server.state.pulls.values()
        assert (result["pr_number"], pr.state, pr.base) == (pr.number, "OPEN", "main")
        assert ops.commits(pr.head) == 1 and ops.commits("main") == 0  # one commit, on the PR head
        head = ops.server.state.ref_oid(pr.head)
        assert head and len(ops.server.repo.changed_paths(head)) == count
        for app in app_names(count):
            assert ops.server.read(pr.head, f"k8s/{app}/values-prod.yaml") == values(app, NEW)

        # The same bump again: no new commit, no second PR, and still within the budget.
        ops.server.reset_counts()
        again = bump(ops, "--all")
        assert ops.calls() == 2, ops.server.log  # read, snapshot
        assert len(ops.server.state.pulls) == 1 and ops.server.state.ref_oid(pr.head) == head
        assert again["pr_number"] == pr.number and again["changed"] is False


def test_up_to_date_costs_one_call_and_dry_run_shows_the_diff(tmp_path: Path) -> None:
    with gitops(tmp_path, 3) as ops:
        ops.server.reset_counts()
        done = ops.run("bump", "--env", "production", "--all", "--sha", SHA, "--dry-run")
        assert done.returncode == 0, done.stderr
        assert f"-  tag: {OLD}  # set by updater\n+  tag: {NEW}  # set by updater\n" in done.stdout
        assert ops.calls() == 1 and ops.server.state.pulls == {}  # one read_many query, nothing written
        old = ops.server.state.ref_oid("main")
        # Values already at OLD, and OLD asked for: nothing to do, no branch, no PR, no commit.
        ops.server.reset_counts()
        done = ops.run("bump", "--env", "production", "--all", "--tag", OLD, "--json")
        assert done.returncode == 0, done.stderr
        assert json.loads(done.stdout)["changed"] is False
        assert ops.calls() == 1 and ops.server.state.pulls == {}
        assert ops.server.state.ref_oid("main") == old and list(ops.server.repo.refs()) == ["refs/heads/main"]


def test_pr_body_lists_tags_digest_source_run_and_compare_link(tmp_path: Path) -> None:
    ci = {
        "GITHUB_SERVER_URL": "https://github.example",
        "GITHUB_REPOSITORY": "acme/api-src",
        "GITHUB_RUN_ID": "777",
    }
    with gitops(tmp_path, 2) as ops:
        bump(ops, "--all", env=ci)
        [pr] = ops.server.state.pulls.values()
        assert pr.head == "updater/production/app00+app01"
        digest = ops.digests[NEW]
        for app in ("app00", "app01"):
            assert f"| {app} | production | `{OLD}` | `{NEW}` | `{digest}` |" in pr.body
        assert f"Source commit: [{SHA[:12]}](https://github.example/acme/api-src/commit/{SHA})" in pr.body
        assert "CI run: https://github.example/acme/api-src/actions/runs/777" in pr.body
        compare = "https://github.example/acme/gitops/compare/main...updater/production/app00+app01"
        assert f"Compare: {compare}" in pr.body


def test_newer_bump_updates_the_apps_pr_and_a_wider_bump_supersedes_narrower_ones(tmp_path: Path) -> None:
    with gitops(tmp_path, 3) as ops:
        state = ops.server.state
        first = bump(ops, "--app", "app00")
        web = bump(ops, "--app", "app01")
        assert [p.head for p in state.pulls.values()] == [
            "updater/production/app00",
            "updater/production/app01",
        ]

        # A newer build of app00: the same PR (same head) now carries the newer tag; no second PR.
        newer = bump(ops, "--app", "app00", sha=NEWER_SHA)
        assert newer["pr_number"] == first["pr_number"] and len(state.pulls) == 2
        assert ops.server.read("updater/production/app00", "k8s/app00/values-prod.yaml") == values(
            "app00", NEWER
        )
        assert NEWER in state.pulls[int(str(first["pr_number"]))].body

        # app00 and app01 together: a new PR on the stable two-app head closes both single-app PRs.
        both = bump(ops, "--app", "app01", "--app", "app00", sha=NEWER_SHA)
        new = state.pulls[int(str(both["pr_number"]))]
        assert new.head == "updater/production/app00+app01" and new.state == "OPEN"
        for old in (first, web):
            closed = state.pulls[int(str(old["pr_number"]))]
            assert closed.state == "CLOSED"
            assert [c for c in closed.comments if f"#{new.number}" in c and str(both["pr_url"]) in c]
            assert f"refs/heads/{closed.head}" not in ops.server.repo.refs()  # its branch deleted
        assert any(f"#{first['pr_number']}" in note for note in both["notes"])  # type: ignore[attr-defined]

        # A narrower bump does not close the wider PR: that would drop app01's change.
        only = bump(ops, "--app", "app00", "--tag", NEW)
        assert state.pulls[int(str(only["pr_number"]))].head == "updater/production/app00"
        assert new.state == "OPEN"


def test_environment_without_branch_lands_on_the_default_branch(tmp_path: Path) -> None:
    with gitops(tmp_path, 1, branch=None, mode="commit", default_branch="trunk") as ops:
        ops.server.reset_counts()
        result = bump(ops, "--all")
        assert result["changed"] is True and ops.commits("trunk") == 1
        assert ops.server.read("trunk", "k8s/app00/values-prod.yaml") == values("app00", NEW)
        assert ops.calls() == 3, ops.server.log  # default branch, read, commit
