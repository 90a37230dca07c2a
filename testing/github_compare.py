"""The loopback GitHub's "Compare two commits": `GET /repos/{owner}/{repo}/compare/{basehead}`.

Modelled on GitHub's documentation (https://docs.github.com/rest/commits/commits#compare-two-commits,
and the operation in @octokit/openapi's api.github.com.json, vendored in testing/openapi/):
- `basehead` is `BASE...HEAD`, each a branch, a tag or a commit SHA (abbreviated or full) of this
  repository; anything else (or a name that resolves to nothing) is a 404 "Not Found". Commits of
  unrelated histories are a 404 too ("No common ancestor between ...", as GitHub words it).
- `status`: `identical` (same commit), `ahead` (head descends from base), `behind` (base descends
  from head), else `diverged`; `ahead_by`/`behind_by` count the commits of `base..head`/`head..base`
  and `total_commits` is `ahead_by`, the commits GitHub lists (as `git log BASE..HEAD`, in
  chronological order).
- Without `per_page`/`page` the list holds at most 250 commits, the most recent last; with either,
  pages of `per_page` (default 30, at most 100). The changed files (at most 300) are on the first page only.
Line counts of the files (`additions`, `deletions`, `changes`) are not modelled (0). Every answer is
checked against the vendored `commit-comparison` schema before it is sent.
"""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import parse_qs

from testing.github_git import BareRepo, GitError
from testing.github_openapi import complete
from testing.github_state import GitHubState, StateError

OPERATION = "GET /repos/{owner}/{repo}/compare/{basehead}"
API = "https://api.github.invalid"
WEB = "https://github.invalid"
_HEX = re.compile(r"[0-9a-f]{4,64}")
_NAME = re.compile(r"[A-Za-z0-9._/-]+")
_STATUS_OF_FILE = {"A": "added", "D": "removed", "M": "modified", "T": "changed"}


def compare(state: GitHubState, basehead: str, query: str) -> tuple[int, dict[str, Any]]:
    """Answer one compare request (`basehead` as in the path, `query` the raw query string)."""
    repo = state.repo
    base_name, sep, head_name = basehead.partition("...")
    if not sep:
        raise StateError("Not Found", 404)
    base, head = _resolve(repo, base_name), _resolve(repo, head_name)
    try:
        merge_base = repo.git("merge-base", base, head).decode().strip()
    except GitError:
        raise StateError(f"No common ancestor between {base_name} and {head_name}.", 404) from None
    ahead = _rev_list(repo, f"{base}..{head}")
    behind = _rev_list(repo, f"{head}..{base}")
    if base == head:
        status = "identical"
    elif not behind:
        status = "ahead"
    elif not ahead:
        status = "behind"
    else:
        status = "diverged"
    params = parse_qs(query)
    paged = "per_page" in params or "page" in params
    chronological = list(reversed(ahead))
    first_page = True
    if paged:
        per_page = min(100, max(1, int(params.get("per_page", ["30"])[0])))
        page = max(1, int(params.get("page", ["1"])[0]))
        listed = chronological[(page - 1) * per_page : page * per_page]
        first_page = page == 1
    else:
        listed = chronological[-250:]
    full, owner = state.full_name, state.owner
    body = {
        "url": f"{API}/repos/{full}/compare/{basehead}",
        "html_url": f"{WEB}/{full}/compare/{basehead}",
        "permalink_url": f"{WEB}/{full}/compare/{owner}:{base[:7]}...{owner}:{head[:7]}",
        "diff_url": f"{WEB}/{full}/compare/{basehead}.diff",
        "patch_url": f"{WEB}/{full}/compare/{basehead}.patch",
        "base_commit": _commit(state, base),
        "merge_base_commit": _commit(state, merge_base),
        "status": status,
        "ahead_by": len(ahead),
        "behind_by": len(behind),
        "total_commits": len(ahead),
        "commits": [_commit(state, oid) for oid in listed],
    }
    if first_page:
        body["files"] = _files(state, merge_base, head)
    return 200, complete("commit-comparison", body)


def _resolve(repo: BareRepo, name: str) -> str:
    """Return the commit a branch, tag or (abbreviated) SHA names; 404 for anything else."""
    candidates = [f"refs/heads/{name}", f"refs/tags/{name}"] if _NAME.fullmatch(name) else []
    if _HEX.fullmatch(name):
        candidates.append(name)
    for candidate in candidates:
        if ".." in candidate:
            continue
        oid = repo.resolve(candidate)
        if oid is not None:
            return oid
    raise StateError("Not Found", 404)


def _rev_list(repo: BareRepo, spec: str) -> list[str]:
    """Return the commits of `spec` (e.g. `a..b`), newest first."""
    return repo.git("rev-list", spec).decode().split()


def _commit(state: GitHubState, oid: str) -> dict[str, Any]:
    info = state.repo.commit(oid)
    full = state.full_name
    person = {"name": info.author_name, "email": info.author_email, "date": info.date}
    return complete(
        "commit",
        {
            "sha": oid,
            "node_id": f"C_{oid}",
            "url": f"{API}/repos/{full}/commits/{oid}",
            "html_url": f"{WEB}/{full}/commit/{oid}",
            "comments_url": f"{API}/repos/{full}/commits/{oid}/comments",
            "commit": {
                "url": f"{API}/repos/{full}/git/commits/{oid}",
                "author": person,
                "committer": person,
                "message": info.message,
                "comment_count": 0,
                "tree": {"sha": info.tree, "url": f"{API}/repos/{full}/git/trees/{info.tree}"},
            },
            "author": None,
            "committer": None,
            "parents": [
                {"sha": p, "url": f"{API}/repos/{full}/commits/{p}", "html_url": f"{WEB}/{full}/commit/{p}"}
                for p in info.parents
            ],
        },
    )


def _files(state: GitHubState, merge_base: str, head: str) -> list[dict[str, Any]]:
    """Return the files changed from the merge base to head (GitHub's three-dot diff), at most 300."""
    out = state.repo.git("diff", "--raw", "--no-renames", "-z", merge_base, head).decode()
    parts = out.split("\0")
    files = []
    full = state.full_name
    for meta, path in zip(parts[0::2], parts[1::2], strict=False):
        if not meta.startswith(":"):
            continue
        _, _, _, new_oid, letter = meta[1:].split(" ")[:5]
        blob = new_oid if set(new_oid) != {"0"} else meta[1:].split(" ")[2]
        files.append(
            complete(
                "diff-entry",
                {
                    "sha": blob,
                    "filename": path,
                    "status": _STATUS_OF_FILE.get(letter[:1], "modified"),
                    "additions": 0,
                    "deletions": 0,
                    "changes": 0,
                    "blob_url": f"{WEB}/{full}/blob/{head}/{path}",
                    "raw_url": f"{WEB}/{full}/raw/{head}/{path}",
                    "contents_url": f"{API}/repos/{full}/contents/{path}?ref={head}",
                },
            )
        )
    return files[:300]
