"""The loopback GitHub's GraphQL API: GitHub's own schema (a vendored subset) with resolvers over
the real bare repository. Mutations run in document order, as the GraphQL spec requires.
"""

from __future__ import annotations

import base64
import dataclasses
import functools
from pathlib import Path
from typing import Any

from graphql import GraphQLError, GraphQLSchema, build_ast_schema, graphql_sync, parse
from graphql.language import ObjectTypeDefinitionNode

from testing.github_git import ZERO
from testing.github_state import GitHubState, PullRequest, StateError, now

SCHEMA_PATH = Path(__file__).parent / "openapi" / "github-graphql.graphql"
COMMIT_MUTATION = "createCommitOnBranch"


@functools.cache
def schema(with_commit_mutation: bool = True) -> GraphQLSchema:
    """GitHub's schema subset; without createCommitOnBranch it behaves like an older GHES."""
    doc = parse(SCHEMA_PATH.read_text())
    if not with_commit_mutation:
        definitions = []
        for node in doc.definitions:
            if isinstance(node, ObjectTypeDefinitionNode) and node.name.value == "Mutation":
                fields = tuple(f for f in node.fields or () if f.name.value != COMMIT_MUTATION)
                node = dataclasses.replace(node, fields=fields)
            definitions.append(node)
        doc = dataclasses.replace(doc, definitions=tuple(definitions))
    built = build_ast_schema(doc)
    for name in ("GitObject", "Node", "RequestedReviewer"):
        built.type_map[name].resolve_type = lambda value, info, type_: value.typename  # type: ignore[attr-defined]
    return built


class GHError(Exception):
    def __init__(self, message: str, type_: str) -> None:
        super().__init__(message)
        self.type = type_


def execute(
    state: GitHubState, query: str, variables: dict[str, Any] | None, commit_mutation: bool
) -> dict[str, Any]:
    """Run one GraphQL request and return GitHub's response document (data and/or errors)."""
    result = graphql_sync(schema(commit_mutation), query, root_value=Root(state), variable_values=variables)
    out: dict[str, Any] = {}
    if result.data is not None or not result.errors:
        out["data"] = result.data
    if result.errors:
        out["errors"] = [_format(e) for e in result.errors]
    return out


def _format(error: GraphQLError) -> dict[str, Any]:
    doc: dict[str, Any] = dict(error.formatted)
    original = error.original_error
    if isinstance(original, (GHError, StateError)):
        doc["type"] = original.type
    return doc


class Root:
    def __init__(self, state: GitHubState) -> None:
        self.state = state

    def repository(self, info: Any, owner: str, name: str) -> RepoNode | None:
        if (owner, name) != (self.state.owner, self.state.name):
            raise GHError(f"Could not resolve to a Repository with the name '{owner}/{name}'.", "NOT_FOUND")
        return RepoNode(self.state)

    # --- mutations -------------------------------------------------------------------------------
    def createRef(self, info: Any, input: dict[str, Any]) -> dict[str, Any]:
        self._repo_id(input["repositoryId"])
        name, oid = input["name"], input["oid"]
        if not name.startswith("refs/"):
            raise GHError("Name must start with refs/", "UNPROCESSABLE")
        if self.state.repo.object_type(oid) != "commit":
            raise GHError(f"Could not resolve to a commit with oid '{oid}'", "NOT_FOUND")
        if not self.state.repo.update_ref(name, oid, ZERO):
            raise GHError(f'A ref named "{name}" already exists in the repository.', "UNPROCESSABLE")
        return {"ref": RefNode(self.state, name)}

    def updateRef(self, info: Any, input: dict[str, Any]) -> dict[str, Any]:
        name = _ref_name(input["refId"])
        current = self.state.repo.resolve(name)
        if current is None:
            raise GHError(
                f"Could not resolve to a node with the global id of '{input['refId']}'", "NOT_FOUND"
            )
        new = input["oid"]
        if not input.get("force") and not self.state.repo.is_ancestor(current, new):
            raise GHError("Update is not a fast forward", "UNPROCESSABLE")
        if not self.state.repo.update_ref(name, new, current):
            raise GHError("Reference cannot be updated", "UNPROCESSABLE")
        return {"ref": RefNode(self.state, name)}

    def deleteRef(self, info: Any, input: dict[str, Any]) -> dict[str, Any]:
        name = _ref_name(input["refId"])
        current = self.state.repo.resolve(name)
        if current is None or not self.state.repo.update_ref(name, ZERO, current):
            raise GHError(
                f"Could not resolve to a node with the global id of '{input['refId']}'", "NOT_FOUND"
            )
        self.state.ref_deleted(name.removeprefix("refs/heads/"))
        return {"clientMutationId": input.get("clientMutationId")}

    def createCommitOnBranch(self, info: Any, input: dict[str, Any]) -> dict[str, Any]:
        branch = input["branch"]
        if branch.get("repositoryNameWithOwner") not in (None, self.state.full_name):
            raise GHError("Could not resolve to a Repository", "NOT_FOUND")
        name = "refs/heads/" + branch["branchName"] if branch.get("branchName") else _ref_name(branch["id"])
        repo = self.state.repo
        head = repo.resolve(name)
        if head is None:
            raise GHError(f"Branch '{name}' does not exist", "NOT_FOUND")
        expected = input["expectedHeadOid"]
        if head != expected:
            raise GHError(
                f'Expected branch to point to "{expected}" but it did not. Pull and try again.', "STALE_DATA"
            )
        changes: dict[str, tuple[str, bytes | str]] = {}
        files = input.get("fileChanges") or {}
        for addition in files.get("additions") or []:
            entry = repo.entry(head, addition["path"])
            changes[addition["path"]] = (
                entry.mode if entry else "100644",
                base64.b64decode(addition["contents"]),
            )
        for deletion in files.get("deletions") or []:
            changes[deletion["path"]] = ("0", ZERO)
        tree = repo.write_tree(repo.commit(head).tree, changes)
        message = input["message"]["headline"] + (
            f"\n\n{input['message']['body']}" if input["message"].get("body") else ""
        )
        commit = repo.commit_tree(
            tree, [head], message, ("updater[bot]", "updater[bot]@users.noreply.github.com")
        )
        if not repo.update_ref(name, commit, head):  # the compare-and-swap: git's own
            raise GHError(
                f'Expected branch to point to "{expected}" but it did not. Pull and try again.', "STALE_DATA"
            )
        return {"commit": CommitNode(self.state, commit), "ref": RefNode(self.state, name)}

    def createPullRequest(self, info: Any, input: dict[str, Any]) -> dict[str, Any]:
        self._repo_id(input["repositoryId"])
        pr = self.state.create_pull(
            input["baseRefName"],
            input["headRefName"],
            input["title"],
            input.get("body") or "",
            bool(input.get("draft")),
        )
        return {"pullRequest": PRNode(self.state, pr)}

    def updatePullRequest(self, info: Any, input: dict[str, Any]) -> dict[str, Any]:
        pr = self._pull(input["pullRequestId"])
        with self.state.lock:
            if input.get("title") is not None:
                pr.title = input["title"]
            if input.get("body") is not None:
                pr.body = input["body"]
            if input.get("state") == "CLOSED":
                self.state.close(pr)
        return {"pullRequest": PRNode(self.state, pr)}

    def closePullRequest(self, info: Any, input: dict[str, Any]) -> dict[str, Any]:
        pr = self._pull(input["pullRequestId"])
        self.state.close(pr)
        return {"pullRequest": PRNode(self.state, pr)}

    def addComment(self, info: Any, input: dict[str, Any]) -> dict[str, Any]:
        pr = self._pull(input["subjectId"])
        with self.state.lock:
            pr.comments.append(input["body"])
        return {"subject": PRNode(self.state, pr)}

    def enablePullRequestAutoMerge(self, info: Any, input: dict[str, Any]) -> dict[str, Any]:
        pr = self._pull(input["pullRequestId"])
        self.state.enable_auto_merge(pr, input.get("mergeMethod") or "MERGE")
        return {"pullRequest": PRNode(self.state, pr)}

    def _repo_id(self, node_id: str) -> None:
        if node_id != self.state.repo_id:
            raise GHError(f"Could not resolve to a node with the global id of '{node_id}'", "NOT_FOUND")

    def _pull(self, node_id: str) -> PullRequest:
        number = int(node_id.removeprefix("PR_")) if node_id.startswith("PR_") else -1
        if number not in self.state.pulls:
            raise GHError(f"Could not resolve to a node with the global id of '{node_id}'", "NOT_FOUND")
        return self.state.pulls[number]


def _ref_name(ref_id: str) -> str:
    return base64.urlsafe_b64decode(ref_id.removeprefix("REF_").encode()).decode()


def _ref_id(name: str) -> str:
    return "REF_" + base64.urlsafe_b64encode(name.encode()).decode()


class RepoNode:
    typename = "Repository"

    def __init__(self, state: GitHubState) -> None:
        self.state = state
        self.id = state.repo_id
        self.nameWithOwner = state.full_name
        self.url = f"https://github.invalid/{state.full_name}"
        self.autoMergeAllowed = state.auto_merge_allowed
        self.mergeCommitAllowed = self.squashMergeAllowed = self.rebaseMergeAllowed = True

    def ref(self, info: Any, qualifiedName: str) -> RefNode | None:
        name = qualifiedName if qualifiedName.startswith("refs/") else f"refs/heads/{qualifiedName}"
        return RefNode(self.state, name) if self.state.repo.resolve(name) else None

    def object(self, info: Any, expression: str | None = None, oid: str | None = None) -> Any:
        if oid is not None:
            return _node(self.state, oid, "")
        assert expression is not None
        rev, _, path = expression.partition(":")
        commit = self.state.repo.resolve(rev) or self.state.repo.resolve(f"refs/heads/{rev}")
        if commit is None:
            return None
        if not path:
            return CommitNode(self.state, commit)
        entry = self.state.repo.entry(commit, path)
        return _node(self.state, entry.oid, path) if entry else None

    def pullRequest(self, info: Any, number: int) -> PRNode | None:
        pr = self.state.pulls.get(number)
        return PRNode(self.state, pr) if pr else None

    def pullRequests(
        self,
        info: Any,
        states: list[str] | None = None,
        headRefName: str | None = None,
        baseRefName: str | None = None,
        first: int | None = None,
    ) -> dict[str, Any]:
        with self.state.lock:
            pulls = [
                p
                for p in self.state.pulls.values()
                if (not states or p.state in states)
                and headRefName in (None, p.head)
                and baseRefName in (None, p.base)
            ]
        nodes = [PRNode(self.state, p) for p in pulls[: first or 100]]
        return {"nodes": nodes, "totalCount": len(pulls)}


def _node(state: GitHubState, oid: str, path: str) -> Any:
    kind = state.repo.object_type(oid)
    if kind == "commit":
        return CommitNode(state, oid)
    if kind == "tree":
        return TreeNode(state, oid, path)
    if kind == "blob":
        return BlobNode(state, oid)
    return None


class RefNode:
    typename = "Ref"

    def __init__(self, state: GitHubState, name: str) -> None:
        self.state = state
        self.id = _ref_id(name)
        self.prefix, _, self.name = (
            name.rpartition("/")
            if not name.startswith("refs/heads/")
            else ("refs/heads/", "", name.removeprefix("refs/heads/"))
        )
        self.full = name

    def target(self, info: Any) -> CommitNode | None:
        oid = self.state.repo.resolve(self.full)
        return CommitNode(self.state, oid) if oid else None

    def associatedPullRequests(
        self, info: Any, states: list[str] | None = None, first: int | None = None
    ) -> dict[str, Any]:
        with self.state.lock:
            pulls = [
                p
                for p in self.state.pulls.values()
                if p.head == self.name and (not states or p.state in states)
            ]
        return {"nodes": [PRNode(self.state, p) for p in pulls[: first or 100]], "totalCount": len(pulls)}


class CommitNode:
    typename = "Commit"

    def __init__(self, state: GitHubState, oid: str) -> None:
        self.state = state
        self.oid = oid
        self.id = f"C_{oid}"
        self.url = f"https://github.invalid/{state.full_name}/commit/{oid}"

    @functools.cached_property
    def info(self) -> Any:
        return self.state.repo.commit(self.oid)

    def message(self, info: Any) -> str:
        return str(self.info.message)

    def committedDate(self, info: Any) -> str:
        return str(self.info.date)

    def author(self, info: Any) -> dict[str, Any]:
        return {"name": self.info.author_name, "email": self.info.author_email, "date": self.info.date}

    def parents(self, info: Any, first: int | None = None) -> dict[str, Any]:
        nodes = [CommitNode(self.state, p) for p in self.info.parents]
        return {"nodes": nodes[: first or 100], "totalCount": len(nodes)}

    def tree(self, info: Any) -> TreeNode:
        return TreeNode(self.state, self.info.tree, "")

    def file(self, info: Any, path: str) -> dict[str, Any] | None:
        entry = self.state.repo.entry(self.oid, path)
        return _entry(self.state, entry) if entry else None

    def history(self, info: Any, first: int | None = None, path: str | None = None) -> dict[str, Any]:
        oids = self.state.repo.history(self.oid, path, first or 100)
        return {"nodes": [CommitNode(self.state, o) for o in oids], "totalCount": len(oids)}

    def changedFilesIfAvailable(self, info: Any) -> int:
        return len(self.state.repo.changed_paths(self.oid))

    def statusCheckRollup(self, info: Any) -> dict[str, Any] | None:
        check = self.state.check_state(self.oid)
        return {"state": check} if check else None


def _entry(state: GitHubState, entry: Any) -> dict[str, Any]:
    return {
        "name": entry.path.rsplit("/", 1)[-1],
        "path": entry.path,
        "mode": int(entry.mode, 8),
        "oid": entry.oid,
        "type": entry.type,
        "object": _node(state, entry.oid, entry.path),
    }


class TreeNode:
    typename = "Tree"

    def __init__(self, state: GitHubState, oid: str, path: str) -> None:
        self.state, self.oid, self.id, self.path = state, oid, f"T_{oid}", path

    def entries(self, info: Any) -> list[dict[str, Any]]:
        out = []
        for e in self.state.repo.entries(self.oid):
            full = f"{self.path}/{e.path}" if self.path else e.path
            out.append(_entry(self.state, type(e)(e.mode, e.type, e.oid, full)))
        return out


class BlobNode:
    typename = "Blob"

    def __init__(self, state: GitHubState, oid: str) -> None:
        self.state, self.oid, self.id = state, oid, f"B_{oid}"

    @functools.cached_property
    def content(self) -> bytes:
        return self.state.repo.blob(self.oid)

    def byteSize(self, info: Any) -> int:
        return len(self.content)

    def isBinary(self, info: Any) -> bool:
        try:
            self.content.decode("utf-8")
        except UnicodeDecodeError:
            return True
        return b"\0" in self.content

    def isTruncated(self, info: Any) -> bool:
        return False

    def text(self, info: Any) -> str | None:
        return None if self.isBinary(info) else self.content.decode("utf-8")


class PRNode:
    typename = "PullRequest"

    def __init__(self, gh: GitHubState, pr: PullRequest) -> None:
        self.gh, self.pr = gh, pr
        self.id = f"PR_{pr.number}"
        self.number = pr.number
        self.url = f"https://github.invalid/{gh.full_name}/pull/{pr.number}"

    def state(self, info: Any) -> str:
        return self.pr.state

    def closed(self, info: Any) -> bool:
        return self.pr.state != "OPEN"

    def merged(self, info: Any) -> bool:
        return self.pr.state == "MERGED"

    def headRefName(self, info: Any) -> str:
        return self.pr.head

    def baseRefName(self, info: Any) -> str:
        return self.pr.base

    def title(self, info: Any) -> str:
        return self.pr.title

    def body(self, info: Any) -> str:
        return self.pr.body

    def isDraft(self, info: Any) -> bool:
        return self.pr.draft

    def headRef(self, info: Any) -> RefNode | None:
        name = f"refs/heads/{self.pr.head}"
        return RefNode(self.gh, name) if self.gh.repo.resolve(name) else None

    def headRefOid(self, info: Any) -> str:
        return self.gh.head_oid(self.pr)

    def mergeStateStatus(self, info: Any) -> str:
        return self.gh.merge_state(self.pr) if self.pr.state == "OPEN" else "UNKNOWN"

    def autoMergeRequest(self, info: Any) -> dict[str, Any] | None:
        if not self.pr.auto_merge:
            return None
        return {"mergeMethod": self.pr.auto_merge, "enabledAt": self.pr.auto_merge_at or now()}

    def mergeCommit(self, info: Any) -> CommitNode | None:
        return CommitNode(self.gh, self.pr.merge_commit) if self.pr.merge_commit else None

    def labels(self, info: Any, first: int | None = None) -> dict[str, Any]:
        return {"nodes": [{"id": f"L_{n}", "name": n} for n in self.pr.labels]}

    def assignees(self, info: Any, first: int | None = None) -> dict[str, Any]:
        return {"nodes": [{"id": f"U_{n}", "login": n} for n in self.pr.assignees]}

    def reviewRequests(self, info: Any, first: int | None = None) -> dict[str, Any]:
        users = [_Reviewer("User", login=n) for n in self.pr.reviewers]
        teams = [_Reviewer("Team", slug=n) for n in self.pr.team_reviewers]
        return {"nodes": [{"requestedReviewer": r} for r in users + teams]}


class _Reviewer:
    def __init__(self, typename: str, login: str = "", slug: str = "") -> None:
        self.typename, self.login, self.slug = typename, login, slug
        self.id = f"{typename}_{login or slug}"
