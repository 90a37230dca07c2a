"""The loopback GitHub's REST operations (Git Data, issues, reviewers, merge, App installation),
answering with bodies shaped by GitHub's OpenAPI schemas (see testing/github_openapi.py).
"""

from __future__ import annotations

import base64
import time
from typing import Any, Protocol

from testing.github_git import ZERO
from testing.github_openapi import complete
from testing.github_state import GitHubState, StateError, new_token, now

API = "https://api.github.invalid"


class GitHubServer(Protocol):
    """What the REST handlers read of the loopback server (testing.github_server.GitHubServer)."""

    state: GitHubState
    tokens: set[str]
    app_id: str | None
    installation_id: int


def handle(gh: GitHubServer, operation: str, path: str, body: dict[str, Any]) -> tuple[int, Any]:
    """Run one REST operation; return (status, JSON body). StateError becomes a GitHub error."""
    state = gh.state
    repo = state.repo
    base = f"{API}/repos/{state.full_name}"
    tail = path.split(f"/repos/{state.full_name}/", 1)[-1]
    if operation == "POST /repos/{owner}/{repo}/git/blobs":
        content, encoding = body.get("content"), body.get("encoding", "utf-8")
        if not isinstance(content, str):
            raise StateError('Invalid request.\n\n"content" wasn\'t supplied.', 422)
        if encoding == "base64":
            try:
                data = base64.b64decode(content, validate=True)
            except ValueError:
                raise StateError("Invalid request.\n\ncontent is not valid Base64.", 422) from None
        elif encoding == "utf-8":
            data = content.encode()
        else:
            raise StateError("Invalid request.\n\nencoding must be utf-8 or base64.", 422)
        oid = repo.hash_blob(data)
        return 201, {"sha": oid, "url": f"{base}/git/blobs/{oid}"}
    if operation == "POST /repos/{owner}/{repo}/git/trees":
        changes: dict[str, tuple[str, bytes | str]] = {}
        for item in body.get("tree", []):
            if item.get("content") is not None:
                changes[item["path"]] = (item["mode"], item["content"].encode())
            elif item.get("sha") is None:
                changes[item["path"]] = ("0", ZERO)
            elif repo.object_type(item["sha"]) != item.get("type", "blob"):
                raise StateError(f"tree.sha {item['sha']} is not a valid {item.get('type', 'blob')}", 422)
            else:
                changes[item["path"]] = (item["mode"], item["sha"])
        base_tree = body.get("base_tree")
        if base_tree and repo.object_type(base_tree) != "tree":
            raise StateError("base_tree is not a valid tree oid", 422)
        tree = repo.write_tree(base_tree, changes)
        entries = [
            {
                "path": e.path,
                "mode": e.mode,
                "type": e.type,
                "sha": e.oid,
                "url": f"{base}/git/{e.type}s/{e.oid}",
            }
            for e in repo.entries(tree)
        ]
        return 201, {"sha": tree, "url": f"{base}/git/trees/{tree}", "truncated": False, "tree": entries}
    if operation == "POST /repos/{owner}/{repo}/git/commits":
        author = body.get("author") or {}
        who = (author["name"], author["email"]) if author.get("name") else None
        for parent in body.get("parents", []):
            if repo.object_type(parent) != "commit":
                raise StateError(f"Parent SHA does not exist or is not a commit object: {parent}", 422)
        oid = repo.commit_tree(body["tree"], list(body.get("parents", [])), body["message"], who)
        return 201, _commit(gh, oid)
    if operation == "POST /repos/{owner}/{repo}/git/refs":
        ref, sha = body["ref"], body["sha"]
        if not ref.startswith("refs/") or ref.count("/") < 2:
            raise StateError("Reference name is not valid", 422)
        if repo.object_type(sha) != "commit":
            raise StateError("Object does not exist", 422)
        if not repo.update_ref(ref, sha, ZERO):
            raise StateError("Reference already exists", 422)
        return 201, _ref(gh, ref, sha)
    if operation == "PATCH /repos/{owner}/{repo}/git/refs/{ref}":
        ref = "refs/" + tail.split("git/refs/", 1)[1]
        current = repo.resolve(ref)
        if current is None:
            raise StateError("Reference does not exist", 422)
        sha = body["sha"]
        if not body.get("force") and not repo.is_ancestor(current, sha):
            raise StateError("Update is not a fast forward", 422)
        if not repo.update_ref(ref, sha, current):
            raise StateError("Update is not a fast forward", 422)
        return 200, _ref(gh, ref, sha)
    if operation == "DELETE /repos/{owner}/{repo}/git/refs/{ref}":
        ref = "refs/" + tail.split("git/refs/", 1)[1]
        if ref == f"refs/heads/{state.default_branch}":  # documented: 422 for the default branch
            raise StateError("Cannot delete the default branch", 422)
        current = repo.resolve(ref)
        if current is None or not repo.update_ref(ref, ZERO, current):
            raise StateError("Reference does not exist", 422)
        state.ref_deleted(ref.removeprefix("refs/heads/"))
        return 204, None
    if operation == "GET /repos/{owner}/{repo}/git/blobs/{file_sha}":
        oid = tail.rsplit("/", 1)[1]
        if repo.object_type(oid) != "blob":
            raise StateError("Not Found", 404)
        data = repo.blob(oid)
        return 200, {
            "content": base64.b64encode(data).decode(),
            "encoding": "base64",
            "url": f"{base}/git/blobs/{oid}",
            "sha": oid,
            "size": len(data),
            "node_id": f"B_{oid}",
        }
    if operation == "PATCH /repos/{owner}/{repo}/issues/{issue_number}":
        pr = _pull(gh, tail)
        with state.lock:
            if "labels" in body:  # names match the repository's labels case-insensitively
                names = [lb if isinstance(lb, str) else lb["name"] for lb in body["labels"]]
                pr.labels = state.canonical_labels(names)
            if "assignees" in body:
                pr.assignees = list(body["assignees"])
            if body.get("title") is not None:
                pr.title = body["title"]
            if body.get("body") is not None:
                pr.body = body["body"]
            if body.get("state") == "closed":
                state.close(pr)
        return 200, _issue(gh, pr)
    if operation == "POST /repos/{owner}/{repo}/pulls/{pull_number}/requested_reviewers":
        pr = _pull(gh, tail)
        with state.lock:
            pr.reviewers += [r for r in body.get("reviewers", []) if r not in pr.reviewers]
            pr.team_reviewers += [t for t in body.get("team_reviewers", []) if t not in pr.team_reviewers]
        return 201, _pull_simple(gh, pr)
    if operation == "PUT /repos/{owner}/{repo}/pulls/{pull_number}/merge":
        pr = _pull(gh, tail)
        oid = state.merge(pr, body.get("merge_method", "merge"), body.get("sha"), body.get("commit_title"))
        return 200, {"sha": oid, "merged": True, "message": "Pull Request successfully merged"}
    if operation == "GET /repos/{owner}/{repo}/installation":
        account = complete("simple-user", {"login": state.owner, "id": 1, "type": "Organization"})
        return 200, complete(
            "installation",
            {
                "id": gh.installation_id,
                "app_id": int(gh.app_id or 1),
                "account": account,
                "target_type": "Organization",
                "permissions": {"contents": "write", "pull_requests": "write"},
                "repository_selection": "selected",
                "created_at": now(),
                "updated_at": now(),
                "events": [],
            },
        )
    if operation == "POST /app/installations/{installation_id}/access_tokens":
        if not path.startswith(f"/app/installations/{gh.installation_id}/"):
            raise StateError("Not Found", 404)

        token = new_token()
        gh.tokens.add(token)
        expires = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() + 3600))
        return 201, complete(
            "installation-token",
            {
                "token": token,
                "expires_at": expires,
                "permissions": {"contents": "write", "pull_requests": "write"},
                "repository_selection": "selected",
            },
        )
    raise StateError("Not Found", 404)


def _pull(gh: GitHubServer, tail: str) -> Any:
    number = int(tail.split("/")[1])
    if number not in gh.state.pulls:
        raise StateError("Not Found", 404)
    return gh.state.pulls[number]


def _ref(gh: GitHubServer, ref: str, sha: str) -> dict[str, Any]:
    base = f"{API}/repos/{gh.state.full_name}"
    return {
        "ref": ref,
        "node_id": "REF_x",
        "url": f"{base}/git/{ref}",
        "object": {"type": "commit", "sha": sha, "url": f"{base}/git/commits/{sha}"},
    }


def _commit(gh: GitHubServer, oid: str) -> dict[str, Any]:
    info = gh.state.repo.commit(oid)
    base = f"{API}/repos/{gh.state.full_name}"
    person = {"name": info.author_name, "email": info.author_email, "date": info.date}
    return complete(
        "git-commit",
        {
            "sha": oid,
            "node_id": f"C_{oid}",
            "url": f"{base}/git/commits/{oid}",
            "html_url": f"https://github.invalid/{gh.state.full_name}/commit/{oid}",
            "author": person,
            "committer": person,
            "message": info.message,
            "tree": {"sha": info.tree, "url": f"{base}/git/trees/{info.tree}"},
            "parents": [
                {"sha": p, "url": f"{base}/git/commits/{p}", "html_url": f"https://github.invalid/commit/{p}"}
                for p in info.parents
            ],
            "verification": {
                "verified": False,
                "reason": "unsigned",
                "signature": None,
                "payload": None,
                "verified_at": None,
            },
        },
    )


def _labels(pr: Any) -> list[dict[str, Any]]:
    return [
        {
            "id": 1,
            "node_id": f"L_{n}",
            "url": f"{API}/labels/{n}",
            "name": n,
            "description": None,
            "color": "ededed",
            "default": False,
        }
        for n in pr.labels
    ]


def _user(login: str) -> dict[str, Any]:
    return complete("simple-user", {"login": login, "id": abs(hash(login)) % 10**6 + 1, "type": "User"})


def _team(gh: GitHubServer, slug: str) -> dict[str, Any]:
    return complete(
        "team",
        {
            "id": abs(hash(slug)) % 10**6 + 1,
            "node_id": f"T_{slug}",
            "name": slug,
            "slug": slug,
            "url": f"{API}/orgs/{gh.state.owner}/teams/{slug}",
            "html_url": f"https://github.invalid/orgs/{gh.state.owner}/teams/{slug}",
            "description": None,
            "permission": "pull",
            "parent": None,
        },
    )


def _issue(gh: GitHubServer, pr: Any) -> dict[str, Any]:
    state = "open" if pr.state == "OPEN" else "closed"
    return complete(
        "inline-patch-repos-owner-repo-issues-issue-number-200",
        {
            "id": pr.number,
            "node_id": f"PR_{pr.number}",
            "number": pr.number,
            "title": pr.title,
            "body": pr.body,
            "state": state,
            "labels": _labels(pr),
            "assignees": [_user(a) for a in pr.assignees],
            "assignee": _user(pr.assignees[0]) if pr.assignees else None,
            "url": f"{API}/repos/{gh.state.full_name}/issues/{pr.number}",
            "html_url": f"https://github.invalid/{gh.state.full_name}/pull/{pr.number}",
            "created_at": pr.created_at,
            "updated_at": now(),
            "user": _user("updater[bot]"),
            "pull_request": {
                "url": f"{API}/repos/{gh.state.full_name}/pulls/{pr.number}",
                "html_url": None,
                "diff_url": None,
                "patch_url": None,
            },
        },
    )


def _pull_simple(gh: GitHubServer, pr: Any) -> dict[str, Any]:
    repo = complete(
        "repository",
        {
            "id": 1,
            "node_id": gh.state.repo_id,
            "name": gh.state.name,
            "full_name": gh.state.full_name,
            "owner": _user(gh.state.owner),
        },
    )
    head = gh.state.head_oid(pr)
    return complete(
        "pull-request-simple",
        {
            "id": pr.number,
            "node_id": f"PR_{pr.number}",
            "number": pr.number,
            "title": pr.title,
            "body": pr.body,
            "state": "open" if pr.state == "OPEN" else "closed",
            "draft": pr.draft,
            "labels": _labels(pr),
            "assignees": [_user(a) for a in pr.assignees],
            "requested_reviewers": [_user(r) for r in pr.reviewers],
            "requested_teams": [_team(gh, t) for t in pr.team_reviewers],
            "html_url": f"https://github.invalid/{gh.state.full_name}/pull/{pr.number}",
            "head": {
                "ref": pr.head,
                "sha": head,
                "label": f"{gh.state.owner}:{pr.head}",
                "repo": repo,
                "user": _user(gh.state.owner),
            },
            "base": {
                "ref": pr.base,
                "sha": gh.state.ref_oid(pr.base) or ZERO,
                "label": f"{gh.state.owner}:{pr.base}",
                "repo": repo,
                "user": _user(gh.state.owner),
            },
            "created_at": pr.created_at,
            "updated_at": now(),
            "user": _user("updater[bot]"),
        },
    )
