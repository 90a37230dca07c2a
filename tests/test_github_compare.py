"""The loopback GitHub's "Compare two commits" follows GitHub's documentation (testing/github_compare.py):
statuses, counts, paging, 404s, and every answer valid against the vendored `commit-comparison` schema."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from testing.github_git import ZERO
from testing.github_server import GitHubServer, start_github

TOKEN = "ghp_" + "C0mpar" * 7


@pytest.fixture
def github(tmp_path: Path) -> Iterator[GitHubServer]:
    with start_github(tmp_path / "github", {"a.txt": b"a\n"}, token=TOKEN) as server:
        yield server
        assert server.validation_errors == []


def _child(server: GitHubServer, parent: str | None, name: str) -> str:
    repo = server.repo
    base = repo.commit(parent).tree if parent else None
    tree = repo.write_tree(base, {name: ("100644", name.encode())})
    return str(repo.commit_tree(tree, [parent] if parent else [], name))


def _get(server: GitHubServer, basehead: str, query: str = "") -> tuple[int, Any]:
    url = f"{server.url}/repos/acme/gitops/compare/{basehead}" + (f"?{query}" if query else "")
    request = urllib.request.Request(url, headers={"Authorization": f"token {TOKEN}"})
    try:
        with urllib.request.urlopen(request, timeout=10) as answer:
            return answer.status, json.loads(answer.read())
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read())


def test_statuses_and_counts_follow_the_commit_graph(github: GitHubServer) -> None:
    root = github.state.ref_oid("main") or ""
    a1 = _child(github, root, "a1")
    a2 = _child(github, a1, "a2")
    b1 = _child(github, root, "b1")
    cases = {
        f"{root}...{a2}": ("ahead", 2, 0),
        f"{a2}...{root}": ("behind", 0, 2),
        f"{a2}...{b1}": ("diverged", 1, 2),
        f"{a1}...{a1[:7]}": ("identical", 0, 0),  # an abbreviated SHA names the same commit
    }
    for basehead, (status, ahead, behind) in cases.items():
        code, body = _get(github, basehead)
        assert code == 200, body
        assert (body["status"], body["ahead_by"], body["behind_by"]) == (status, ahead, behind), basehead
        assert body["total_commits"] == ahead == len(body["commits"])
    _, body = _get(github, f"{root}...{a2}")
    assert [c["sha"] for c in body["commits"]] == [a1, a2]  # chronological, as documented
    assert body["merge_base_commit"]["sha"] == root and body["base_commit"]["sha"] == root
    assert sorted(f["filename"] for f in body["files"]) == ["a1", "a2"]
    # Branch names work as well as SHAs.
    assert github.repo.update_ref("refs/heads/feature", b1, ZERO)
    assert _get(github, "main...feature")[1]["status"] == "ahead"


def test_paging_bounds_the_commits_and_files_come_on_the_first_page_only(github: GitHubServer) -> None:
    root = github.state.ref_oid("main") or ""
    tip = root
    for i in range(3):
        tip = _child(github, tip, f"f{i}")
    code, first = _get(github, f"{root}...{tip}", "per_page=1")
    assert code == 200 and len(first["commits"]) == 1 and first["ahead_by"] == 3 and "files" in first
    _, second = _get(github, f"{root}...{tip}", "per_page=1&page=2")
    assert len(second["commits"]) == 1 and "files" not in second and second["status"] == "ahead"


def test_unknown_commits_unrelated_histories_and_bad_paths_are_404(github: GitHubServer) -> None:
    root = github.state.ref_oid("main") or ""
    orphan = _child(github, None, "orphan")
    code, body = _get(github, f"{root}...{'f' * 40}")
    assert code == 404 and body["message"] == "Not Found"
    code, body = _get(github, f"{root}...{orphan}")
    assert code == 404 and body["message"].startswith("No common ancestor")
    assert _get(github, f"{root}..{root}")[0] == 404  # the path wants three dots
    assert _get(github, f"{root}...main~1")[0] == 404  # revision expressions are not names
