"""Issue 15: `updater bump` against a loopback GitHub as strict as GitHub's documentation
(testing/github_state.py, github_nodes.py, github_graphql.py cite the pages; see also README's GitHub
section): an open PR is never closed as merged by an update, preview fields are asked for with their
media type, our PR is found among any number of open PRs, rate-limited writes are re-sent without a
re-read, disallowed merge methods are refused before anything is written, a lost answer says the
outcome is unknown, hints are not masked, and decorations are sent once."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import requests

from testing.github_faults import Fault, secondary_rate_limit
from testing.github_gitops import NEWER, NEWER_SHA, SHA, TOKEN, GitOps, gitops, values
from testing.github_state import PullRequest, now

HEAD = "updater/production/app00"
SETTINGS = (
    "pull-request:\n"
    "  labels: [Deploy, updater]\n"
    "  reviewers: [alice]\n"
    "  team-reviewers: [sre]\n"
    "  assignees: [Bob]\n"
)


def heads(ops: GitOps, head: str) -> list[PullRequest]:
    return [p for p in ops.server.state.pulls.values() if p.head == head]


def test_newer_bump_updates_the_same_pr_which_stays_open_and_unmerged(tmp_path: Path) -> None:
    with gitops(tmp_path, 1) as ops:
        first = ops.bump("--app", "app00")
        base = ops.server.state.ref_oid("main")
        ops.server.reset_counts()
        newer = ops.bump("--app", "app00", sha=NEWER_SHA)
        # read, snapshot, the new commit built on a scratch branch, then ONE document moving the head
        # (forced, to a commit the base does not contain), deleting the scratch branch, updating the PR
        assert ops.calls() == 4, ops.call_log()
        [pr] = heads(ops, HEAD)
        assert newer["pr_number"] == first["pr_number"] == pr.number and newer["changed"] is True
        assert (pr.state, ops.server.state.ref_oid("main")) == ("OPEN", base)  # open, base unchanged
        assert ops.server.read(HEAD, "k8s/app00/values-prod.yaml") == values("app00", NEWER)
        assert NEWER in pr.body
        assert list(ops.server.repo.refs()) == ["refs/heads/main", f"refs/heads/{HEAD}"]  # no scratch left
        for _ in range(2):  # re-runs: still the one PR, nothing written
            ops.server.reset_counts()
            again = ops.bump("--app", "app00", sha=NEWER_SHA)
            assert ops.calls() == 2 and again["changed"] is False and again["pr_number"] == pr.number
        assert len(heads(ops, HEAD)) == 1 and pr.state == "OPEN"


def test_an_emptied_pr_is_closed_with_a_comment(tmp_path: Path) -> None:
    with gitops(tmp_path, 1) as ops:
        first = ops.bump("--app", "app00")
        state = ops.server.state

        def land_it_by_hand() -> None:  # another job lands the same value on the base meanwhile
            base = state.ref_oid("main")
            assert base is not None
            files = {"k8s/app00/values-prod.yaml": ("100644", values("app00", NEWER))}
            tree = state.repo.write_tree(state.repo.commit(base).tree, files)
            assert state.repo.update_ref(
                "refs/heads/main", state.repo.commit_tree(tree, [base], "by hand"), base
            )

        ops.server.before("graphql:ours: pullRequests", land_it_by_hand)  # before the snapshot
        done = ops.bump("--app", "app00", sha=NEWER_SHA)
        pr = state.pulls[int(str(first["pr_number"]))]
        assert pr.state == "CLOSED" and any("already has these values" in c for c in pr.comments)
        assert done["changed"] is False and f"refs/heads/{HEAD}" not in ops.server.repo.refs()


def test_rerun_with_120_older_open_prs_finds_its_pr_in_two_calls(tmp_path: Path) -> None:
    with gitops(tmp_path, 1) as ops:
        state = ops.server.state
        for i in range(1, 121):  # older open PRs on the same base, listed before ours
            state.pulls[i] = PullRequest(i, f"feature/f{i}", "main", f"feature {i}", "", False, now())
        first = ops.bump("--app", "app00")
        assert first["pr_number"] == 121
        ops.server.reset_counts()
        again = ops.bump("--app", "app00")
        assert ops.calls() == 2, ops.call_log()
        assert again["changed"] is False and again["pr_number"] == 121 and len(heads(ops, HEAD)) == 1


@pytest.mark.parametrize("status", [403, 429])
def test_rate_limited_write_is_resent_after_retry_after_without_a_reread(tmp_path: Path, status: int) -> None:
    with gitops(tmp_path, 1) as ops:
        limit = secondary_rate_limit("graphql:createCommitOnBranch", retry_after=1)
        limit.status = status
        ops.server.inject(limit)
        ops.server.reset_counts()
        result = ops.bump("--app", "app00")
        # read, snapshot, the write (rate-limited), the same write again: no snapshot in between
        assert ops.call_log() == [
            "POST query",
            "POST query",
            "POST mutation createRef,createCommitOnBranch,createPullRequest",
            "POST mutation createRef,createCommitOnBranch,createPullRequest",
        ]
        assert result["changed"] is True and len(heads(ops, HEAD)) == 1


def test_disallowed_merge_method_exits_1_naming_the_setting_before_writing(tmp_path: Path) -> None:
    with gitops(tmp_path, 1, mode="auto-merge") as ops:
        ops.server.state.merge_methods = {"MERGE", "REBASE"}  # squash (our default) disallowed
        ops.server.reset_counts()
        done = ops.run("bump", "--env", "production", "--sha", SHA, "--app", "app00")
        assert done.returncode == 1, done.stderr
        assert "merge-method" in done.stderr and "squash" in done.stderr and "merge, rebase" in done.stderr
        assert ops.server.state.pulls == {} and list(ops.server.repo.refs()) == ["refs/heads/main"]
        assert ops.calls() == 2, ops.call_log()


@pytest.mark.parametrize("armed", [False, True])
def test_auto_merge_json_says_whether_and_how_it_merged(tmp_path: Path, armed: bool) -> None:
    with gitops(tmp_path, 1, mode="auto-merge") as ops:
        ops.server.state.require_checks = armed  # checks pending: armed; none required: merged directly
        ops.server.reset_counts()
        result = ops.bump("--app", "app00")
        [pr] = heads(ops, HEAD)
        # read, snapshot, create document, enablePullRequestAutoMerge (the new PR's merge state is
        # still being computed, so updater asks to arm it); when GitHub answers that the PR is already
        # clean, one direct merge with the head sha
        expected = [
            "POST query",
            "POST query",
            "POST mutation createRef,createCommitOnBranch,createPullRequest",
        ]
        expected.append("POST mutation enablePullRequestAutoMerge")
        if not armed:
            expected.append(f"PUT /repos/acme/gitops/pulls/{pr.number}/merge")
        assert ops.call_log() == expected
        if armed:
            assert (result["merged"], result["merge"], pr.state, pr.auto_merge) == (
                False,
                "armed",
                "OPEN",
                "SQUASH",
            )
        else:
            assert (result["merged"], result["merge"], pr.state) == (True, "direct", "MERGED")


def test_preview_fields_need_their_media_type(tmp_path: Path) -> None:
    with gitops(tmp_path, 1) as ops:
        query = (
            'query { repository(owner: "acme", name: "gitops") {'
            " pullRequests(first: 1) { nodes { mergeStateStatus } } } }"
        )
        headers = {"Authorization": f"token {TOKEN}"}
        plain = requests.post(f"{ops.server.url}/graphql", json={"query": query}, headers=headers, timeout=10)
        assert (
            plain.json()["errors"][0]["message"]
            == "Field 'mergeStateStatus' doesn't exist on type 'PullRequest'"
        )
        preview = {**headers, "Accept": "application/vnd.github.merge-info-preview+json"}
        asked = requests.post(f"{ops.server.url}/graphql", json={"query": query}, headers=preview, timeout=10)
        assert "errors" not in asked.json()
        ops.bump("--app", "app00")  # the client sends the media type wherever it selects the field
        too_many = query.replace("first: 1", "first: 101")
        over = requests.post(
            f"{ops.server.url}/graphql", json={"query": too_many}, headers=preview, timeout=10
        )
        assert over.json()["errors"][0]["type"] == "EXCESSIVE_PAGINATION"


@pytest.mark.parametrize("mode", ["commit", "pull-request"])
def test_lost_answer_then_failing_reads_says_the_outcome_is_unknown(tmp_path: Path, mode: str) -> None:
    with gitops(tmp_path, 1, mode=mode) as ops:
        # The commit lands but its answer is lost, and every request after it fails.
        ops.server.inject(Fault("graphql:createCommitOnBranch", 502, after=True))
        ops.server.before(
            "graphql:createCommitOnBranch", lambda: ops.server.inject(Fault("graphql", 502, times=1000))
        )
        done = ops.run("bump", "--env", "production", "--sha", SHA, "--app", "app00", "--json")
        assert done.returncode == 1
        assert "outcome is unknown" in done.stderr and "re-run is safe" in done.stderr
        result = json.loads(done.stdout)
        assert result["outcome_unknown"] is True and "re-run is safe" in result["error"]


def test_permission_hint_is_not_masked(tmp_path: Path) -> None:
    with gitops(tmp_path, 1) as ops:
        ops.server.state.refuse_pull_requests = "Resource not accessible by integration"
        done = ops.run("bump", "--env", "production", "--sha", SHA, "--app", "app00")
        assert done.returncode == 1
        assert "(a classic token: the repo scope)" in done.stderr and TOKEN not in done.stderr


def test_decorations_are_sent_once_and_team_reviewers_read_back_as_teams(tmp_path: Path) -> None:
    settings = SETTINGS + "  team-reviewers: [alice]\n"  # a team whose slug is also a reviewer's login
    settings = settings.replace("  team-reviewers: [sre]\n", "")
    with gitops(tmp_path, 1, extra=settings) as ops:
        ops.server.state.labels = {"deploy": "deploy"}  # the repository's label, spelled in lower case
        first = ops.bump("--app", "app00")
        [pr] = heads(ops, HEAD)
        assert (sorted(pr.labels), pr.reviewers, pr.team_reviewers) == (
            ["deploy", "updater"],
            ["alice"],
            ["alice"],
        )
        assert first["changed"] is True
        ops.server.state.submit_review(pr, "alice")  # no longer a requested reviewer; not asked again
        for _ in range(2):
            ops.server.reset_counts()
            again = ops.bump("--app", "app00")
            assert ops.calls() == 2, (
                ops.call_log()
            )  # read, snapshot: labels, assignees, reviewers already there
            assert again["changed"] is False


def test_superseding_pages_past_the_first_100_open_prs(tmp_path: Path) -> None:
    with gitops(tmp_path, 2) as ops:
        state = ops.server.state
        first = ops.bump("--app", "app00")
        for i in range(2, 122):  # 120 open PRs of other tools between ours
            state.pulls[i] = PullRequest(i, f"feature/f{i}", "main", f"feature {i}", "", False, now())
        second = ops.bump("--app", "app01")
        assert second["pr_number"] == 122  # past the first page of 100
        ops.server.reset_counts()
        both = ops.bump("--app", "app00", "--app", "app01", sha=NEWER_SHA)
        # read, snapshot, create document, the second page of open PRs, ONE closing document
        assert ops.call_log()[-2:] == [
            "POST query",
            "POST mutation addComment,closePullRequest,deleteRef,addComment,closePullRequest,deleteRef",
        ]
        assert ops.calls() == 5, ops.call_log()
        assert [state.pulls[int(str(r["pr_number"]))].state for r in (first, second, both)] == [
            "CLOSED",
            "CLOSED",
            "OPEN",
        ]


def test_a_secondary_limit_on_writes_is_waited_out_without_rereads(tmp_path: Path) -> None:
    with gitops(tmp_path, 1, extra=SETTINGS) as ops:
        ops.server.write_limit, ops.server.write_window = 1, 1.0  # one write a second, reads unlimited
        ops.server.reset_counts()
        done = ops.run(
            "bump",
            "--env",
            "production",
            "--sha",
            SHA,
            "--app",
            "app00",
            "--json",
            env={"UPDATER_RETRY_BUDGET": "30"},
        )
        assert done.returncode == 0, done.stderr
        writes = [c for c in ops.call_log() if c != "POST query"]
        assert ops.call_log().count("POST query") == 2  # the read and the snapshot, never repeated
        assert len(writes) > 3  # create, labels, reviewers, and the re-sent ones
        [pr] = heads(ops, HEAD)
        assert (sorted(pr.labels), pr.reviewers, pr.team_reviewers) == (
            ["Deploy", "updater"],
            ["alice"],
            ["sre"],
        )


def test_history_pages_by_100(tmp_path: Path) -> None:
    with gitops(tmp_path, 1) as ops:
        state = ops.server.state
        path = "k8s/app00/values-prod.yaml"
        for i in range(100):  # 100 more versions of the file on main: 101 in all
            base = state.ref_oid("main")
            assert base is not None
            tag = f"stage-{i:07x}-{1700000000 + i}"
            tree = state.repo.write_tree(
                state.repo.commit(base).tree, {path: ("100644", values("app00", tag))}
            )
            assert state.repo.update_ref("refs/heads/main", state.repo.commit_tree(tree, [base], tag), base)
        ops.server.reset_counts()
        done = ops.run("history", "--env", "production", "--app", "app00", "--json")  # --limit 200
        assert done.returncode == 0, done.stderr
        assert len(json.loads(done.stdout)["entries"]) == 101
        # two pages of the values file (100 and 1: GitHub serves at most 100 a request), one of the
        # holds file, whose history says when a hold was released
        assert ops.calls() == 3


def test_newer_bump_on_a_server_without_create_commit_on_branch_keeps_the_pr_open(tmp_path: Path) -> None:
    with gitops(tmp_path, 1) as ops:
        ops.server.graphql_commit = False  # an older GitHub Enterprise Server: the Git Data API
        first = ops.bump("--app", "app00")
        base = ops.server.state.ref_oid("main")
        ops.server.reset_counts()
        newer = ops.bump("--app", "app00", sha=NEWER_SHA)
        # read, snapshot, the GraphQL commit refused by the schema (how an older server is recognised),
        # then tree, commit (no ref), the head moved once (forced), the PR's title and body
        assert ops.call_log()[2:] == [
            "POST mutation createRef,createCommitOnBranch",
            "POST /repos/acme/gitops/git/trees",
            "POST /repos/acme/gitops/git/commits",
            f"PATCH /repos/acme/gitops/git/refs/heads/{HEAD}",
            "POST mutation updatePullRequest",
        ]
        [pr] = heads(ops, HEAD)
        assert newer["pr_number"] == first["pr_number"] == pr.number and pr.state == "OPEN"
        assert ops.server.state.ref_oid("main") == base
        assert ops.server.read(HEAD, "k8s/app00/values-prod.yaml") == values("app00", NEWER)
