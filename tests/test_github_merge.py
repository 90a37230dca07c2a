"""Auto-merge mode against the loopback GitHub: GitHub auto-merge, direct merges, --wait-merged."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from testing.github_editors import bump, gitops_files, pr_spec, values
from testing.github_server import GitHubServer, start_github
from updater.infra import retry
from updater.infra.errors import RemoteError
from updater.scm.base import Backend, CommitRequest
from updater.scm.github import open_github

TOKEN = "ghp_" + "M3rge" * 8
APP = "k8s/app00/values-production.yaml"


@pytest.fixture
def gh(tmp_path: Path) -> Iterator[GitHubServer]:
    with start_github(tmp_path, gitops_files(2), token=TOKEN) as server:
        yield server
        assert server.validation_errors == []


@pytest.fixture
def fast_polls(monkeypatch: pytest.MonkeyPatch) -> None:
    """Poll every 50 ms instead of the policy's seconds: the checks finish on another thread."""
    monkeypatch.setattr(retry, "sleep", lambda seconds: threading.Event().wait(min(seconds, 0.05)))


def backend(gh: GitHubServer) -> Backend:
    return open_github("acme/gitops", token=TOKEN, base_url=gh.url)


def request(method: str = "squash", wait: float | None = None) -> CommitRequest:
    spec = pr_spec("updater/production/app00", title="Bump app00 to v2", merge_method=method)
    return CommitRequest("main", "Bump app00 to v2", "auto-merge", pull_request=spec, wait_merged=wait)


@pytest.mark.parametrize("method", ["merge", "squash", "rebase"])
def test_clean_pr_is_merged_directly(gh: GitHubServer, method: str) -> None:
    base = gh.state.ref_oid("main")
    outcome = backend(gh).apply(request(method), bump({APP: "v2"}))
    assert outcome.merged and gh.state.pulls[1].state == "MERGED"
    assert gh.read("main", APP) == values("app00", "v2")
    merged = gh.repo.commit(gh.state.ref_oid("main"))
    expected_parents = (base, outcome.commit) if method == "merge" else (base,)
    assert merged.parents == expected_parents


def test_blocked_pr_gets_github_auto_merge_and_merges_when_checks_pass(gh: GitHubServer) -> None:
    gh.state.require_checks = True
    outcome = backend(gh).apply(request("merge"), bump({APP: "v2"}))
    pr = gh.state.pulls[1]
    assert not outcome.merged and pr.auto_merge == "MERGE" and pr.state == "OPEN"
    assert any("auto-merge" in note for note in outcome.notes)
    gh.state.set_status(outcome.commit or "", "SUCCESS")
    assert pr.state == "MERGED" and gh.read("main", APP) == values("app00", "v2")


def test_wait_merged_blocks_until_the_merge(gh: GitHubServer, fast_polls: None) -> None:
    gh.state.require_checks = True
    head: list[str] = []

    def ci() -> None:  # CI finishes a moment after the PR is opened
        while not gh.state.pulls:
            threading.Event().wait(0.02)
        head.append(gh.state.head_oid(gh.state.pulls[1]))
        gh.state.set_status(head[0], "SUCCESS")

    thread = threading.Thread(target=ci)
    thread.start()
    outcome = backend(gh).apply(request(wait=30), bump({APP: "v2"}))
    thread.join()
    assert outcome.merged and gh.state.pulls[1].state == "MERGED"


def test_wait_merged_fails_when_checks_fail(gh: GitHubServer, fast_polls: None) -> None:
    gh.state.require_checks = True
    gh.state.auto_merge_allowed = False

    def ci() -> None:
        while not gh.state.pulls:
            threading.Event().wait(0.02)
        gh.state.set_status(gh.state.head_oid(gh.state.pulls[1]), "FAILURE")

    thread = threading.Thread(target=ci)
    thread.start()
    with pytest.raises(RemoteError, match=r"checks failed on pull request #1"):
        backend(gh).apply(request(wait=30), bump({APP: "v2"}))
    thread.join()
    assert gh.read("main", APP) == values("app00")


def test_wait_merged_fails_when_the_pr_is_closed(gh: GitHubServer, fast_polls: None) -> None:
    gh.state.require_checks = True

    def reviewer() -> None:
        while not gh.state.pulls or not gh.state.pulls[1].auto_merge:
            threading.Event().wait(0.02)
        gh.state.close(gh.state.pulls[1])

    thread = threading.Thread(target=reviewer)
    thread.start()
    with pytest.raises(RemoteError, match=r"#1 was closed without being merged"):
        backend(gh).apply(request(wait=30), bump({APP: "v2"}))
    thread.join()


def test_wait_merged_times_out(gh: GitHubServer, fast_polls: None) -> None:
    gh.state.require_checks = True
    with pytest.raises(RemoteError, match=r"not merged within 0.3s"):
        backend(gh).apply(request(wait=0.3), bump({APP: "v2"}))
    assert gh.state.pulls[1].state == "OPEN"  # left for humans, with auto-merge armed


def test_updated_pr_is_merged_with_its_new_head(gh: GitHubServer, fast_polls: None) -> None:
    gh.state.auto_merge_allowed = False
    gh.state.require_checks = True
    first = backend(gh).apply(request(), bump({APP: "v2"}))
    assert not first.merged and any("not merged" in note for note in first.notes)  # 405 until it gave up
    gh.state.require_checks = False
    gh.reset_counts()
    second = backend(gh).apply(request(), bump({APP: "v3"}))  # same head and title: the PR only moves
    assert second.merged and second.pr_number == 1 and len(gh.state.pulls) == 1
    assert gh.read("main", APP) == values("app00", "v3")
    assert [method for _, method, _ in gh.log].count("PUT") == 1  # merged with the new sha at once


def test_armed_auto_merge_stays_armed_on_a_new_push(gh: GitHubServer) -> None:
    gh.state.require_checks = True
    backend(gh).apply(request(), bump({APP: "v2"}))
    second = backend(gh).apply(request(), bump({APP: "v3"}))
    assert not second.merged and gh.state.pulls[1].auto_merge
    gh.state.set_status(second.commit or "", "SUCCESS")
    assert gh.state.pulls[1].state == "MERGED" and gh.read("main", APP) == values("app00", "v3")
