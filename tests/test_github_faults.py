"""Faults the loopback GitHub injects (5xx, rate limits, lost answers, 422s, 405/409 on merge), the
Git Data API fallback of older GitHub Enterprise servers, and permanent failures."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from testing.github_editors import bump, gitops_files, pr_spec, values
from testing.github_faults import Fault, graphql_rate_limit, primary_rate_limit, secondary_rate_limit
from testing.github_server import GitHubServer, start_github
from updater.infra import retry
from updater.infra.errors import EXIT_REMOTE, RemoteError
from updater.scm.base import Author, Backend, CommitRequest
from updater.scm.github import open_github

TOKEN = "ghp_" + "F4ult" * 8


@pytest.fixture
def gh(tmp_path: Path) -> Iterator[GitHubServer]:
    with start_github(tmp_path, gitops_files(5), token=TOKEN) as server:
        yield server
        assert server.validation_errors == []


@pytest.fixture
def sleeps(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    """Record the policy's sleeps instead of sleeping (the waits are asserted, not endured)."""
    recorded: list[float] = []
    monkeypatch.setattr(retry, "sleep", recorded.append)
    return recorded


def backend(gh: GitHubServer) -> Backend:
    return open_github("acme/gitops", token=TOKEN, base_url=gh.url)


def path(i: int) -> str:
    return f"k8s/app{i:02d}/values-production.yaml"


def commits_since(gh: GitHubServer, base: str | None, branch: str = "main") -> int:
    head = gh.state.ref_oid(branch)
    assert head and base
    return gh.repo.history(head, None, 100).index(base)


def test_502s_on_reads_and_writes_are_retried(gh: GitHubServer, sleeps: list[float]) -> None:
    base = gh.state.ref_oid("main")
    gh.inject(Fault("graphql", 502, times=2), Fault("graphql:createCommitOnBranch", 502))
    outcome = backend(gh).apply(CommitRequest("main", "bump"), bump({path(0): "v2"}))
    assert outcome.changed and gh.read("main", path(0)) == values("app00", "v2")
    assert commits_since(gh, base) == 1
    assert len(sleeps) == 3


def test_lost_answer_after_the_commit_landed_is_not_committed_twice(
    gh: GitHubServer, sleeps: list[float]
) -> None:
    base = gh.state.ref_oid("main")
    gh.inject(Fault("graphql:createCommitOnBranch", 502, after=True))
    outcome = backend(gh).apply(CommitRequest("main", "bump app00"), bump({path(0): "v2"}))
    assert outcome.changed and outcome.commit == gh.state.ref_oid("main")
    assert outcome.files == (path(0),)
    assert commits_since(gh, base) == 1
    assert any("landed" in note for note in outcome.notes)


def test_secondary_rate_limit_waits_for_retry_after(gh: GitHubServer, sleeps: list[float]) -> None:
    gh.inject(secondary_rate_limit("graphql", retry_after=7))
    assert backend(gh).apply(CommitRequest("main", "bump"), bump({path(1): "v2"})).changed
    assert sleeps and sleeps[0] >= 7


def test_primary_rate_limit_waits_for_the_reset(gh: GitHubServer, sleeps: list[float]) -> None:
    gh.inject(primary_rate_limit("PATCH /repos/acme/gitops/issues/", reset_in=5))
    spec = pr_spec("updater/production/app01", labels=("updater",))
    outcome = backend(gh).apply(
        CommitRequest("main", "bump", "pull-request", pull_request=spec), bump({path(1): "v2"})
    )
    assert outcome.pr_number == 1 and gh.state.pulls[1].labels == ["updater"]
    assert len(gh.state.pulls) == 1  # the retried attempt found its PR instead of opening another
    assert sleeps and 3 <= sleeps[0] <= 6


def test_rate_limit_beyond_the_budget_fails_fast(gh: GitHubServer, sleeps: list[float]) -> None:
    retry_policy = retry.policy()
    retry.set_policy(retry_policy.with_budget(30))
    try:
        gh.inject(primary_rate_limit("graphql", reset_in=3600, times=100))
        with pytest.raises(RemoteError, match="rate limit"):
            backend(gh).apply(CommitRequest("main", "bump"), bump({path(1): "v2"}))
    finally:
        retry.set_policy(retry_policy)
    assert sum(sleeps) < 30


def test_git_data_fallback_on_servers_without_create_commit_on_branch(gh: GitHubServer) -> None:
    gh.graphql_commit = False
    base = gh.state.ref_oid("main")
    b = backend(gh)
    author = Author("Deploy Bot", "deploy@example.com")
    outcome = b.apply(CommitRequest("main", "bump two", author=author), bump({path(0): "v2", path(1): "v2"}))
    assert outcome.changed and commits_since(gh, base) == 1
    info = gh.repo.commit(outcome.commit)
    assert (info.author_name, info.author_email, info.parents) == (
        "Deploy Bot",
        "deploy@example.com",
        (base,),
    )
    assert gh.read("main", path(1)) == values("app01", "v2")

    gh.reset_counts()
    spec = pr_spec("updater/production/app02")
    pr = b.apply(CommitRequest("main", "bump", "pull-request", pull_request=spec), bump({path(2): "v2"}))
    assert pr.pr_number == 1 and gh.read(spec.head, path(2)) == values("app02", "v2")
    kinds = [(kind, what) for kind, _, what in gh.log]
    assert ("rest", "/repos/acme/gitops/git/refs") in kinds  # the ref was created over REST


def test_reference_already_exists_is_replanned(gh: GitHubServer, sleeps: list[float]) -> None:
    gh.graphql_commit = False
    gh.inject(Fault("POST /repos/acme/gitops/git/refs", 422, message="Reference already exists"))
    spec = pr_spec("updater/production/app03")
    outcome = backend(gh).apply(
        CommitRequest("main", "bump", "pull-request", pull_request=spec), bump({path(3): "v2"})
    )
    assert outcome.pr_number == 1 and len(gh.state.pulls) == 1
    head = gh.state.ref_oid(spec.head)
    assert head and gh.repo.commit(head).parents == (gh.state.ref_oid("main"),)


def test_concurrent_bumps_through_the_git_data_api_all_land(gh: GitHubServer) -> None:
    gh.graphql_commit = False
    base = gh.state.ref_oid("main")
    errors: list[BaseException] = []

    def run(i: int) -> None:
        try:
            backend(gh).apply(CommitRequest("main", f"bump {i}"), bump({path(i): f"v{i}x"}))
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(5)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert commits_since(gh, base) == 5
    assert all(gh.read("main", path(i)) == values(f"app{i:02d}", f"v{i}x") for i in range(5))


def test_permanent_failure_exits_1_and_leaves_no_orphan_branch(gh: GitHubServer) -> None:
    gh.state.refuse_pull_requests = "Resource not accessible by integration"
    spec = pr_spec("updater/production/app04")
    with pytest.raises(RemoteError) as caught:
        backend(gh).apply(
            CommitRequest("main", "bump", "pull-request", pull_request=spec), bump({path(4): "v2"})
        )
    assert caught.value.exit_code == EXIT_REMOTE
    assert "Resource not accessible by integration" in caught.value.message
    assert "updater/production/app04" in caught.value.message
    assert caught.value.message.startswith("createPullRequest on acme/gitops: ")
    assert caught.value.message.endswith(
        "; give the token pull-requests: write (a classic token: the repo scope)"
    )
    assert gh.state.ref_oid(spec.head) is None  # the branch it created is gone again
    assert not gh.state.pulls


def test_server_down_exits_1_after_the_budget(gh: GitHubServer, sleeps: list[float]) -> None:
    gh.inject(Fault("graphql", 502, times=1000))
    with pytest.raises(RemoteError, match="502") as caught:
        backend(gh).apply(CommitRequest("main", "bump"), bump({path(0): "v2"}))
    assert caught.value.exit_code == EXIT_REMOTE
    assert len(sleeps) >= 5  # bounded: it tried, waited, and gave up


def test_405_and_409_on_merge_are_handled(gh: GitHubServer, sleeps: list[float]) -> None:
    gh.state.auto_merge_allowed = False
    gh.inject(
        Fault("PUT /repos/acme/gitops/pulls/1/merge", 405, message="Pull Request is not mergeable"),
        Fault("PUT /repos/acme/gitops/pulls/1/merge", 409, message="Head branch was modified."),
    )
    spec = pr_spec("updater/production/app00", merge_method="squash")
    outcome = backend(gh).apply(
        CommitRequest("main", "bump", "auto-merge", pull_request=spec), bump({path(0): "v2"})
    )
    assert outcome.merged and gh.state.pulls[1].state == "MERGED"
    assert gh.read("main", path(0)) == values("app00", "v2")
    merges = [what for kind, method, what in gh.log if method == "PUT"]
    assert len(merges) == 3


def test_graphql_rate_limit_waits_for_the_reset(gh: GitHubServer, sleeps: list[float]) -> None:
    gh.inject(graphql_rate_limit(reset_in=4))
    assert backend(gh).apply(CommitRequest("main", "bump"), bump({path(2): "v2"})).changed
    assert sleeps and 2 <= sleeps[0] <= 5


def test_lost_answers_in_pull_request_mode_create_nothing_twice(
    gh: GitHubServer, sleeps: list[float]
) -> None:
    base = gh.state.ref_oid("main")
    # One document creates the head, commits and opens the PR; its answer is lost.
    gh.inject(Fault("graphql:createPullRequest", 502, after=True))
    spec = pr_spec("updater/production/app01", draft=True)
    outcome = backend(gh).apply(
        CommitRequest("main", "bump", "pull-request", pull_request=spec), bump({path(1): "v2"})
    )
    assert outcome.pr_number == 1 and len(gh.state.pulls) == 1 and gh.state.pulls[1].draft
    assert commits_since(gh, base, spec.head) == 1  # the landed commit was found, not redone
    assert len(sleeps) == 1
    assert outcome.changed  # this run opened the PR, although the answer was lost


def test_lost_answer_on_a_pull_request_created_alone_still_reports_the_change(
    gh: GitHubServer, sleeps: list[float]
) -> None:
    """The head already holds the change but its PR was closed: the run opens a new PR alone."""
    spec = pr_spec("updater/production/app04")
    request = CommitRequest("main", "bump", "pull-request", pull_request=spec)
    backend(gh).apply(request, bump({path(4): "v2"}))
    gh.state.close(gh.state.pulls[1])
    gh.reset_counts()
    gh.inject(Fault("graphql:createPullRequest", 502, after=True))
    outcome = backend(gh).apply(request, bump({path(4): "v2"}))
    assert "mutation createPullRequest" in [what for _, _, what in gh.log]
    assert (outcome.changed, outcome.pr_number, gh.state.pulls[2].state) == (True, 2, "OPEN")
    assert len(gh.state.pulls) == 2 and len(sleeps) == 1


def test_lost_answer_on_requested_reviewers_still_reports_the_change(
    gh: GitHubServer, sleeps: list[float]
) -> None:
    gh.inject(Fault("POST /repos/acme/gitops/pulls/1/requested_reviewers", 502, after=True))
    spec = pr_spec("updater/production/app02", reviewers=("alice",), team_reviewers=("sre",))
    outcome = backend(gh).apply(
        CommitRequest("main", "bump", "pull-request", pull_request=spec), bump({path(2): "v2"})
    )
    pr = gh.state.pulls[1]
    assert (outcome.changed, outcome.pr_number, len(gh.state.pulls)) == (True, 1, 1)
    assert (pr.reviewers, pr.team_reviewers) == (["alice"], ["sre"])
    assert not any("already has these changes" in note for note in outcome.notes)
    assert len(sleeps) == 1


def test_lost_answer_commit_then_buried_by_another_commit_is_still_this_runs_change(
    gh: GitHubServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The commit lands, its answer is lost, and another run commits on top before the retry: the
    retry finds the values already there and must still report the change as this run's."""
    base = gh.state.ref_oid("main")
    other = backend(gh)

    def another_run_commits(seconds: float) -> None:
        other.apply(CommitRequest("main", "bump app03"), bump({path(3): "v9"}))

    monkeypatch.setattr(retry, "sleep", another_run_commits)
    gh.inject(Fault("graphql:createCommitOnBranch", 502, after=True))
    outcome = backend(gh).apply(CommitRequest("main", "bump app00"), bump({path(0): "v2"}))
    assert commits_since(gh, base) == 2 and gh.read("main", path(0)) == values("app00", "v2")
    assert outcome.changed


def test_git_data_fallback_stores_a_non_utf8_file_as_a_blob(gh: GitHubServer) -> None:
    gh.graphql_commit = False
    latin1 = "# café\nimage:\n  tag: v1\n".encode("latin-1")
    base = gh.state.ref_oid("main")
    b = backend(gh)
    b.apply(CommitRequest("main", "add latin-1"), lambda read: {"k8s/latin1.yaml": latin1})
    gh.reset_counts()
    outcome = b.apply(CommitRequest("main", "bump latin-1"), bump({"k8s/latin1.yaml": "v2"}))
    assert outcome.changed and commits_since(gh, base) == 2
    assert gh.read("main", "k8s/latin1.yaml") == latin1.replace(b"v1", b"v2")
    posts = [what for kind, method, what in gh.log if method == "POST" and kind == "rest"]
    assert posts == [
        "/repos/acme/gitops/git/blobs",
        "/repos/acme/gitops/git/trees",
        "/repos/acme/gitops/git/commits",
    ]


@pytest.mark.parametrize(
    "target",
    ["POST /repos/acme/gitops/git/commits", "PATCH /repos/acme/gitops/git/refs/heads/main"],
)
def test_git_data_fallback_lost_answers_in_commit_mode_commit_once(
    gh: GitHubServer, sleeps: list[float], target: str
) -> None:
    gh.graphql_commit = False
    base = gh.state.ref_oid("main")
    gh.inject(Fault(target, 502, after=True))
    outcome = backend(gh).apply(CommitRequest("main", "bump app00"), bump({path(0): "v2"}))
    assert outcome.changed and outcome.commit == gh.state.ref_oid("main")
    assert commits_since(gh, base) == 1 and gh.read("main", path(0)) == values("app00", "v2")
    assert len(sleeps) == 1


def test_git_data_fallback_lost_answer_on_creating_the_head_opens_one_pr(
    gh: GitHubServer, sleeps: list[float]
) -> None:
    gh.graphql_commit = False
    gh.inject(Fault("POST /repos/acme/gitops/git/refs", 502, after=True))
    spec = pr_spec("updater/production/app01")
    outcome = backend(gh).apply(
        CommitRequest("main", "bump", "pull-request", pull_request=spec), bump({path(1): "v2"})
    )
    assert (outcome.changed, outcome.pr_number, len(gh.state.pulls)) == (True, 1, 1)
    assert commits_since(gh, gh.state.ref_oid("main"), spec.head) == 1
    assert gh.read(spec.head, path(1)) == values("app01", "v2")
    assert len(sleeps) == 1


SECONDARY = "You have exceeded a secondary rate limit. Please wait a few minutes before you try again."


@pytest.fixture
def budget() -> Iterator[Callable[[float], None]]:
    """Set the run's retry budget (a fresh account) for one test, restoring the policy after."""
    before = retry.policy()
    yield lambda seconds: retry.set_policy(before.with_budget(seconds))
    retry.set_policy(before)


@pytest.mark.parametrize("status", [429, 403])
def test_secondary_limit_without_retry_after_waits_a_minute_when_the_budget_allows(
    gh: GitHubServer, sleeps: list[float], budget: Callable[[float], None], status: int
) -> None:
    budget(200)
    gh.inject(Fault("graphql:createCommitOnBranch", status, message=SECONDARY))
    assert backend(gh).apply(CommitRequest("main", "bump"), bump({path(1): "v2"})).changed
    assert sleeps == [60.0]  # GitHub's guidance: at least a minute


@pytest.mark.parametrize("status", [429, 403])
def test_secondary_limit_without_retry_after_beyond_the_budget_fails_at_once(
    gh: GitHubServer, sleeps: list[float], budget: Callable[[float], None], status: int
) -> None:
    budget(60)
    base = gh.state.ref_oid("main")
    gh.inject(Fault("graphql:createCommitOnBranch", status, message=SECONDARY))
    with pytest.raises(RemoteError) as caught:
        backend(gh).apply(CommitRequest("main", "bump"), bump({path(1): "v2"}))
    message = caught.value.message
    assert caught.value.exit_code == EXIT_REMOTE and "\n" not in message
    assert f"GitHub secondary rate limit ({status}: {SECONDARY})" in message
    assert "asks to wait 60s, more than the 60s left of the retry budget" in message
    assert "--retry-budget" in message
    assert sleeps == [] and gh.state.ref_oid("main") == base  # nothing changed
    assert [what for _, _, what in gh.log].count("mutation createCommitOnBranch") == 1


def test_a_403_names_the_operation_and_the_permission_to_grant(gh: GitHubServer) -> None:
    gh.inject(Fault("graphql:createPullRequest", 403, message="Resource not accessible by integration"))
    spec = pr_spec("updater/production/app03")
    with pytest.raises(RemoteError) as caught:
        backend(gh).apply(
            CommitRequest("main", "bump", "pull-request", pull_request=spec), bump({path(3): "v2"})
        )
    assert caught.value.exit_code == EXIT_REMOTE
    # The refused request created the head, the commit and the PR in one document: all are named.
    assert caught.value.message.startswith(
        "createRef, createCommitOnBranch, createPullRequest on acme/gitops: 403 Resource not accessible "
        "by integration; give the token pull-requests: write"
    )
    assert gh.state.ref_oid(spec.head) is None and not gh.state.pulls  # its branch deleted again

    gh.inject(Fault("graphql:createCommitOnBranch", 403, message="Resource not accessible by integration"))
    with pytest.raises(RemoteError) as commit:
        backend(gh).apply(CommitRequest("main", "bump"), bump({path(3): "v2"}))
    assert commit.value.message.startswith(
        "createCommitOnBranch on acme/gitops: 403 Resource not accessible by integration; "
        "give the token contents: write"
    )


def test_lost_answer_on_deleting_the_orphan_branch_still_cleans_up(
    gh: GitHubServer, sleeps: list[float]
) -> None:
    gh.state.refuse_pull_requests = "Resource not accessible by integration"
    gh.inject(Fault("DELETE /repos/acme/gitops/git/refs/heads/updater/production/app04", 502, after=True))
    spec = pr_spec("updater/production/app04")
    with pytest.raises(RemoteError) as caught:
        backend(gh).apply(
            CommitRequest("main", "bump", "pull-request", pull_request=spec), bump({path(4): "v2"})
        )
    assert "left without a pull request" not in caught.value.message
    assert gh.state.ref_oid(spec.head) is None and not gh.state.pulls


def test_pull_request_not_seeing_the_fresh_commit_is_sent_again_alone(gh: GitHubServer) -> None:
    """GitHub may answer "No commits between" to the PR part of the commit document (replica lag):
    the PR is then created by itself, without a second commit."""
    gh.state.lagging_pull_views = 1
    spec = pr_spec("updater/production/app02")
    outcome = backend(gh).apply(
        CommitRequest("main", "bump", "pull-request", pull_request=spec), bump({path(2): "v2"})
    )
    assert (outcome.changed, outcome.pr_number, len(gh.state.pulls)) == (True, 1, 1)
    assert [what for kind, _, what in gh.log if kind == "graphql"] == [
        "query",
        "mutation createRef,createCommitOnBranch,createPullRequest",
        "mutation createPullRequest",
    ]
    assert commits_since(gh, gh.state.ref_oid("main"), spec.head) == 1
