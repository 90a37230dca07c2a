"""The GitHub backend through the real PyGithub client, against the loopback GitHub
(testing/github_server.py: GitHub's published REST/GraphQL API on a real bare git repository)."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from testing.github_editors import bump, gitops_files, pr_spec, unhinted, values
from testing.github_server import GitHubServer, start_github
from updater.infra import retry
from updater.scm.base import Backend, CommitRequest, Outcome
from updater.scm.github import open_github

TOKEN = "ghp_" + "T0k3n" * 8


@pytest.fixture
def gh(tmp_path: Path) -> Iterator[GitHubServer]:
    with start_github(tmp_path, gitops_files(50), token=TOKEN) as server:
        yield server
        assert server.validation_errors == []


def backend(gh: GitHubServer) -> Backend:
    return open_github("acme/gitops", token=TOKEN, base_url=gh.url)


def path(i: int) -> str:
    return f"k8s/app{i:02d}/values-production.yaml"


def calls(gh: GitHubServer) -> int:
    counts = gh.counts()
    return counts["rest"] + counts["graphql"]


def test_read_and_history(gh: GitHubServer) -> None:
    b = backend(gh)
    assert b.read("main", path(3)) == values("app03")
    assert b.read("main", "k8s/nope.yaml") is None
    b.apply(CommitRequest("main", "bump app03 to v2"), bump({path(3): "v2"}))
    revisions = b.history("main", path(3))
    assert [r.content for r in revisions] == [values("app03", "v2"), values("app03")]
    assert revisions[0].commit == gh.state.ref_oid("main")
    assert revisions[0].message == "bump app03 to v2"  # history reads updater's trailer from it


@pytest.mark.parametrize("apps", [1, 50])
def test_pull_request_one_commit_one_pr_few_calls(gh: GitHubServer, apps: int) -> None:
    b = backend(gh)
    base = gh.state.ref_oid("main")
    gh.reset_counts()
    spec = pr_spec(
        "updater/production/bulk",
        labels=("updater", "production"),
        reviewers=("alice",),
        team_reviewers=("sre",),
        assignees=("bob",),
    )
    edit = bump({path(i): "v2" for i in range(apps)})
    outcome = b.apply(CommitRequest("main", f"Bump {apps} apps", "pull-request", pull_request=spec), edit)

    # snapshot, ONE document (head ref, commit, PR), labels and assignees, reviewers
    assert calls(gh) == 4, gh.log
    assert outcome.changed and outcome.pr_number == 1 and len(outcome.files) == apps
    head = gh.state.ref_oid("updater/production/bulk")
    assert head == outcome.commit
    info = gh.repo.commit(head)
    assert info.parents == (base,)  # ONE commit on top of the base
    assert sorted(gh.repo.changed_paths(head)) == sorted(path(i) for i in range(apps))
    assert gh.read("updater/production/bulk", path(0)) == values("app00", "v2")
    assert gh.state.ref_oid("main") == base  # the base is untouched in PR mode
    [pr] = gh.state.pulls.values()
    assert (pr.head, pr.base, pr.title, pr.state) == ("updater/production/bulk", "main", "Bump app", "OPEN")
    assert pr.labels == ["production", "updater"] and pr.assignees == ["bob"]
    assert pr.reviewers == ["alice"] and pr.team_reviewers == ["sre"]


def test_rerun_updates_the_same_pr_without_an_empty_commit(gh: GitHubServer) -> None:
    b = backend(gh)
    spec = pr_spec("updater/production/app01", labels=("updater",))
    request = CommitRequest("main", "Bump app01 to v2", "pull-request", pull_request=spec)
    first = b.apply(request, bump({path(1): "v2"}))
    head = gh.state.ref_oid(spec.head)
    gh.reset_counts()

    again = b.apply(request, bump({path(1): "v2"}))
    assert not again.changed and again.pr_number == first.pr_number
    assert gh.state.ref_oid(spec.head) == head  # no new commit, no force-push
    assert calls(gh) == 1  # one read: nothing to write, labels already there
    assert len(gh.state.pulls) == 1

    # The same head without the paths hint reads file by file but still changes nothing.
    assert not b.apply(request, unhinted(bump({path(1): "v2"}))).changed
    assert gh.state.ref_oid(spec.head) == head

    # A newer tag for the same app and environment: same PR, branch reset from the base, new title.
    newer = pr_spec("updater/production/app01", title="Bump app01 to v3", labels=("updater",))
    third = b.apply(
        CommitRequest("main", "Bump app01 to v3", "pull-request", pull_request=newer), bump({path(1): "v3"})
    )
    assert third.changed and third.pr_number == first.pr_number and len(gh.state.pulls) == 1
    new_head = gh.state.ref_oid(spec.head)
    assert gh.repo.commit(new_head).parents == (gh.state.ref_oid("main"),)
    assert gh.read(spec.head, path(1)) == values("app01", "v3")
    assert gh.state.pulls[1].title == "Bump app01 to v3"


def test_newer_bump_supersedes_older_prs(gh: GitHubServer) -> None:
    b = backend(gh)
    old = pr_spec("updater/production/app02-v2", supersedes_prefix="updater/production/app02-")
    b.apply(CommitRequest("main", "app02 v2", "pull-request", pull_request=old), bump({path(2): "v2"}))
    gh.reset_counts()
    new = pr_spec("updater/production/app02-v3", supersedes_prefix="updater/production/app02-")
    outcome = b.apply(
        CommitRequest("main", "app02 v3", "pull-request", pull_request=new), bump({path(2): "v3"})
    )
    assert calls(gh) == 3, gh.log  # snapshot, head+commit+PR, comment+close+delete the old one
    assert outcome.pr_number == 2
    first, second = gh.state.pulls[1], gh.state.pulls[2]
    assert first.state == "CLOSED" and second.state == "OPEN"
    assert first.comments == [f"Superseded by #2 ({outcome.pr_url})."]
    assert gh.state.ref_oid("updater/production/app02-v2") is None  # its branch is cleaned up


def test_nothing_to_do_on_base_is_no_change(gh: GitHubServer) -> None:
    b = backend(gh)
    spec = pr_spec("updater/production/app04")
    outcome = b.apply(CommitRequest("main", "noop", "pull-request", pull_request=spec), bump({path(4): "v1"}))
    assert not outcome.changed and outcome.pr_number is None
    assert gh.state.ref_oid(spec.head) is None and not gh.state.pulls
    before = gh.state.ref_oid("main")
    assert not b.apply(CommitRequest("main", "noop"), bump({path(4): "v1"})).changed
    assert gh.state.ref_oid("main") == before


def test_commit_mode_one_commit_for_all_files(gh: GitHubServer) -> None:
    b = backend(gh)
    base = gh.state.ref_oid("main")
    gh.reset_counts()
    outcome = b.apply(
        CommitRequest("main", "Bump 50 apps\n\nall of them"), bump({path(i): "v9" for i in range(50)})
    )
    assert calls(gh) == 2  # one read, one createCommitOnBranch
    assert outcome.changed and outcome.commit == gh.state.ref_oid("main")
    info = gh.repo.commit(outcome.commit)
    assert info.parents == (base,) and info.message == "Bump 50 apps\n\nall of them"
    assert len(gh.repo.changed_paths(outcome.commit)) == 50


def test_twenty_concurrent_bumps_all_land(gh: GitHubServer) -> None:
    # Twenty runs are twenty processes, each with its own retry budget; here they share one.
    retry.set_policy(retry.policy().with_budget(20 * retry.policy().budget))
    base = gh.state.ref_oid("main")
    errors: list[BaseException] = []

    def run(i: int) -> None:
        try:
            b = backend(gh)
            b.apply(CommitRequest("main", f"bump app{i:02d}"), bump({path(i): f"v{i}-new"}))
        except BaseException as exc:  # reported below
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(20)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    for i in range(20):
        assert gh.read("main", path(i)) == values(f"app{i:02d}", f"v{i}-new")
    commits = gh.repo.history(gh.state.ref_oid("main"), None, 100)
    assert commits.index(base) == 20  # exactly twenty commits, none lost, none doubled
    lost = sum(1 for kind, _, what in gh.log if kind == "graphql" and "createCommitOnBranch" in what) - 20
    assert lost > 0  # they did race (a run that lost re-read, re-edited and committed again)
    print(f"20 concurrent bumps: {lost} lost races retried")


def test_two_pull_request_runs_racing_for_the_same_head_open_one_pr(gh: GitHubServer) -> None:
    """Both read "no head branch", both send createRef: GitHub's "A reference already exists" for
    one of them, which re-reads, finds the head holding exactly its change, and joins the one PR."""
    base = gh.state.ref_oid("main")
    spec = pr_spec("updater/production/app07")
    gh.gate("graphql:createRef", 2)
    outcomes: list[Outcome] = []
    errors: list[BaseException] = []

    def run() -> None:
        try:
            request = CommitRequest("main", "bump app07", "pull-request", pull_request=spec)
            outcomes.append(backend(gh).apply(request, bump({path(7): "v2"})))
        except BaseException as exc:  # reported below
            errors.append(exc)

    threads = [threading.Thread(target=run) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert [what for _, _, what in gh.log].count(
        "mutation createRef,createCommitOnBranch,createPullRequest"
    ) == 2
    head = gh.state.ref_oid(spec.head)
    assert head and gh.repo.commit(head).parents == (base,)  # one commit on the head
    assert len(gh.state.pulls) == 1 and gh.read(spec.head, path(7)) == values("app07", "v2")
    assert {o.pr_number for o in outcomes} == {1}


def test_read_many_is_one_query_and_hints_the_next_apply(gh: GitHubServer) -> None:
    b = backend(gh)
    gh.reset_counts()
    wanted = [path(i) for i in range(50)] + ["k8s/missing.yaml"]
    files = b.read_many("main", wanted)  # type: ignore[attr-defined]
    assert files[path(7)] == values("app07") and files["k8s/missing.yaml"] is None
    assert calls(gh) == 1
    gh.reset_counts()
    outcome = b.apply(CommitRequest("main", "bump all"), unhinted(bump({path(i): "v5" for i in range(50)})))
    assert outcome.changed and len(outcome.files) == 50
    # The read before served as the hint and as the first attempt's snapshot: one commit, no read.
    assert calls(gh) == 1


def test_a_branch_moved_since_read_many_is_re_read_not_overwritten(gh: GitHubServer) -> None:
    b = backend(gh)
    b.read_many("main", [path(1)])  # type: ignore[attr-defined]
    backend(gh).apply(CommitRequest("main", "another run"), bump({path(2): "v7"}))
    gh.reset_counts()
    outcome = b.apply(CommitRequest("main", "bump app01"), bump({path(1): "v6"}))
    assert outcome.changed and outcome.commit == gh.state.ref_oid("main")
    assert gh.read("main", path(1)) == values("app01", "v6") and gh.read("main", path(2)) == values(
        "app02", "v7"
    )
    # the commit from the stale read lost the compare-and-swap; a fresh read and commit followed
    assert [what for _, _, what in gh.log] == [
        "mutation createCommitOnBranch",
        "query",
        "mutation createCommitOnBranch",
    ]


def test_default_branch_is_one_query_then_cached(tmp_path: Path) -> None:
    with start_github(tmp_path, gitops_files(1), token=TOKEN, branch="trunk") as server:
        b = open_github("acme/gitops", token=TOKEN, base_url=server.url)
        server.reset_counts()
        assert b.default_branch() == "trunk"  # type: ignore[attr-defined]
        assert b.default_branch() == "trunk"  # type: ignore[attr-defined]
        assert server.counts() == {"rest": 0, "graphql": 1}
        assert server.validation_errors == []


def test_superseding_closes_only_prs_whose_apps_are_all_covered(gh: GitHubServer) -> None:
    b = backend(gh)
    prefix = "updater/production/"

    def land(head: str, covers: tuple[str, ...], edits: dict[str, str]) -> int | None:
        spec = pr_spec(prefix + head, supersedes_prefix=prefix, covers=covers)
        request = CommitRequest("main", head, "pull-request", pull_request=spec)
        return b.apply(request, bump(edits)).pr_number

    one = land("app01", ("app01",), {path(1): "v2"})
    pair = land("app02+app03", ("app02", "app03"), {path(2): "v2", path(3): "v2"})
    assert "<!-- updater:covers app02 app03 -->" in gh.state.pulls[pair or 0].body
    # app01 and app02 together cover the app01 PR, but not the app02+app03 one (app03 would be lost).
    wide = land("app01+app02", ("app01", "app02"), {path(1): "v3", path(2): "v3"})
    assert gh.state.pulls[one or 0].state == "CLOSED" and gh.state.pulls[pair or 0].state == "OPEN"
    assert any(f"#{wide}" in c for c in gh.state.pulls[one or 0].comments)
