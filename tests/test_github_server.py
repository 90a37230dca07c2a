"""The loopback GitHub itself: GitHub's semantics over a real bare repository, its GraphQL schema
(GitHub's own, subset), OpenAPI-validated REST responses, request counts and fault injection."""

from __future__ import annotations

import base64
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import requests

from testing import github_openapi
from testing.github_faults import Fault
from testing.github_server import GitHubServer, start_github

TOKEN = "ghp_" + "Srv3r" * 8
H = {"Authorization": f"token {TOKEN}"}
REPO = "/repos/acme/gitops"


@pytest.fixture
def gh(tmp_path: Path) -> Iterator[GitHubServer]:
    with start_github(tmp_path, {"a.yaml": b"tag: v1\n", "b.yaml": b"tag: v1\n"}, token=TOKEN) as server:
        yield server


def rest(gh: GitHubServer, method: str, path: str, body: Any = None) -> requests.Response:
    return requests.request(method, gh.url + path, json=body, headers=H, timeout=10)


def graphql(gh: GitHubServer, query: str, variables: dict[str, Any] | None = None) -> dict[str, Any]:
    headers = {**H, "Accept": "application/vnd.github.merge-info-preview+json"}  # mergeStateStatus
    answer = requests.post(
        gh.url + "/graphql", json={"query": query, "variables": variables or {}}, headers=headers
    )
    assert answer.status_code == 200
    result: dict[str, Any] = answer.json()
    return result


def commit(gh: GitHubServer, parent: str, path: str, content: bytes) -> str:
    tree = rest(
        gh,
        "POST",
        f"{REPO}/git/trees",
        {
            "base_tree": gh.repo.commit(parent).tree,
            "tree": [{"path": path, "mode": "100644", "type": "blob", "content": content.decode()}],
        },
    ).json()["sha"]
    created = rest(gh, "POST", f"{REPO}/git/commits", {"message": "c", "tree": tree, "parents": [parent]})
    assert created.status_code == 201
    return str(created.json()["sha"])


def test_ref_updates_follow_github(gh: GitHubServer) -> None:
    main = gh.state.ref_oid("main") or ""
    one = commit(gh, main, "a.yaml", b"tag: v2\n")
    two = commit(gh, main, "a.yaml", b"tag: v3\n")
    assert rest(gh, "PATCH", f"{REPO}/git/refs/heads/main", {"sha": one}).status_code == 200
    refused = rest(gh, "PATCH", f"{REPO}/git/refs/heads/main", {"sha": two, "force": False})
    assert (refused.status_code, refused.json()["message"]) == (422, "Update is not a fast forward")
    assert rest(gh, "PATCH", f"{REPO}/git/refs/heads/main", {"sha": two, "force": True}).status_code == 200
    assert gh.read("main", "a.yaml") == b"tag: v3\n"
    created = rest(gh, "POST", f"{REPO}/git/refs", {"ref": "refs/heads/x", "sha": one})
    assert created.status_code == 201
    again = rest(gh, "POST", f"{REPO}/git/refs", {"ref": "refs/heads/x", "sha": one})
    assert (again.status_code, again.json()["message"]) == (422, "Reference already exists")
    assert rest(gh, "DELETE", f"{REPO}/git/refs/heads/x").status_code == 204
    assert gh.state.ref_oid("x") is None
    # Documented 422s of DELETE ref: a missing ref, and the default branch (which stays).
    gone = rest(gh, "DELETE", f"{REPO}/git/refs/heads/x")
    assert (gone.status_code, gone.json()["message"]) == (422, "Reference does not exist")
    default = rest(gh, "DELETE", f"{REPO}/git/refs/heads/main")
    assert default.status_code == 422 and gh.read("main", "a.yaml") == b"tag: v3\n"
    # Every error body carries its own status, as GitHub's do.
    assert [r.json()["status"] for r in (refused, again, gone, default)] == ["422"] * 4
    missing = rest(gh, "GET", f"{REPO}/git/blobs/{'0' * 40}")
    assert (missing.status_code, missing.json()["status"]) == (404, "404")
    bad = requests.get(gh.url + f"{REPO}/git/blobs/{'0' * 40}", headers={"Authorization": "token nope"})
    assert (bad.status_code, bad.json()["status"]) == (401, "401")
    assert gh.validated >= 11 and gh.validation_errors == []


def test_create_commit_on_branch_checks_expected_head(gh: GitHubServer) -> None:
    main = gh.state.ref_oid("main")
    mutation = (
        "mutation($i: CreateCommitOnBranchInput!) { createCommitOnBranch(input: $i) { commit { oid } } }"
    )
    change = {"additions": [{"path": "b.yaml", "contents": base64.b64encode(b"tag: v9\n").decode()}]}
    stale = {
        "branch": {"repositoryNameWithOwner": "acme/gitops", "branchName": "main"},
        "expectedHeadOid": "0" * 40,
        "message": {"headline": "x"},
        "fileChanges": change,
    }
    result = graphql(gh, mutation, {"i": stale})
    [error] = result["errors"]
    assert error["type"] == "STALE_DATA" and "Expected branch to point to" in error["message"]
    assert gh.state.ref_oid("main") == main
    result = graphql(gh, mutation, {"i": {**stale, "expectedHeadOid": main}})
    assert result["data"]["createCommitOnBranch"]["commit"]["oid"] == gh.state.ref_oid("main")
    assert gh.read("main", "b.yaml") == b"tag: v9\n"


def test_queries_outside_githubs_schema_are_rejected(gh: GitHubServer) -> None:
    result = graphql(gh, '{ repository(owner: "acme", name: "gitops") { madeUpField } }')
    assert "data" not in result and "madeUpField" in result["errors"][0]["message"]
    gh.graphql_commit = False  # an older GHES: the mutation does not exist
    result = graphql(gh, "mutation { createCommitOnBranch(input: {}) { commit { oid } } }")
    assert "createCommitOnBranch" in result["errors"][0]["message"]


def test_one_open_pull_request_per_head_and_base(gh: GitHubServer) -> None:
    main = gh.state.ref_oid("main") or ""
    gh.repo.update_ref("refs/heads/feature", commit(gh, main, "a.yaml", b"tag: v2\n"), "0" * 40)
    create = (
        'mutation { createPullRequest(input: {repositoryId: "R_kgDOloopback", baseRefName: "main",'
        ' headRefName: "feature", title: "t"}) { pullRequest { number mergeStateStatus } } }'
    )
    first = graphql(gh, create)
    # GitHub computes mergeability in the background: UNKNOWN on the first read, then the real state
    assert first["data"]["createPullRequest"]["pullRequest"] == {"number": 1, "mergeStateStatus": "UNKNOWN"}
    read = (
        'query { repository(owner: "acme", name: "gitops") { pullRequest(number: 1) { mergeStateStatus } } }'
    )
    assert graphql(gh, read)["data"]["repository"]["pullRequest"] == {"mergeStateStatus": "CLEAN"}
    second = graphql(gh, create)
    assert "A pull request already exists" in second["errors"][0]["message"]
    assert len(gh.state.pulls) == 1


def test_merge_refuses_a_moved_head_and_conflicts(gh: GitHubServer) -> None:
    main = gh.state.ref_oid("main") or ""
    head = commit(gh, main, "a.yaml", b"tag: v2\n")
    gh.repo.update_ref("refs/heads/feature", head, "0" * 40)
    pr = gh.state.create_pull("main", "feature", "t", "", False)
    moved = rest(gh, "PUT", f"{REPO}/pulls/1/merge", {"sha": main, "merge_method": "squash"})
    assert moved.status_code == 409
    gh.repo.update_ref("refs/heads/main", commit(gh, main, "a.yaml", b"tag: other\n"), main)
    conflict = rest(gh, "PUT", f"{REPO}/pulls/1/merge", {"sha": head, "merge_method": "squash"})
    assert (conflict.status_code, conflict.json()["message"]) == (405, "Pull Request is not mergeable")
    assert gh.state.merge_state(pr) == "DIRTY" and gh.validation_errors == []


def test_openapi_validation_can_fail() -> None:
    good = {
        "ref": "refs/heads/x",
        "node_id": "n",
        "url": "https://api.github.invalid/x",
        "object": {"type": "commit", "sha": "a" * 40, "url": "https://api.github.invalid/c"},
    }
    github_openapi.validate("POST /repos/{owner}/{repo}/git/refs", 201, good)
    with pytest.raises(jsonschema.ValidationError):
        github_openapi.validate(
            "POST /repos/{owner}/{repo}/git/refs", 201, {k: v for k, v in good.items() if k != "object"}
        )
    with pytest.raises(jsonschema.ValidationError):
        github_openapi.validate(
            "PUT /repos/{owner}/{repo}/pulls/{pull_number}/merge", 200, {"sha": 1, "merged": "yes"}
        )


def test_counts_and_faults(gh: GitHubServer) -> None:
    gh.inject(Fault("graphql", 502), Fault(f"POST {REPO}/git/refs", 502, after=True))
    assert requests.post(gh.url + "/graphql", json={"query": "{ __typename }"}, headers=H).status_code == 502
    assert graphql(gh, "{ __typename }")["data"] == {"__typename": "Query"}
    lost = rest(gh, "POST", f"{REPO}/git/refs", {"ref": "refs/heads/y", "sha": gh.state.ref_oid("main")})
    assert lost.status_code == 502 and gh.state.ref_oid("y") is not None  # processed, answer lost
    assert gh.counts() == {"rest": 1, "graphql": 2}
    assert requests.get(gh.url + f"{REPO}/git/blobs/abc", timeout=10).status_code == 401
