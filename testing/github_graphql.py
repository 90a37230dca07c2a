"""The loopback GitHub's GraphQL API: GitHub's own schema (a vendored subset) with resolvers over
the real bare repository. Mutations run in document order, as the GraphQL spec requires.
"""

from __future__ import annotations

import base64
import dataclasses
import functools
import re
from pathlib import Path
from typing import Any

from graphql import GraphQLError, GraphQLSchema, build_ast_schema, graphql_sync, parse
from graphql.language import ObjectTypeDefinitionNode

from testing.github_git import ZERO
from testing.github_nodes import CommitNode, PaginationError, PRNode, RefNode, RepoNode, ref_name
from testing.github_state import GitHubState, PullRequest, StateError

SCHEMA_PATH = Path(__file__).parent / "openapi" / "github-graphql.graphql"
COMMIT_MUTATION = "createCommitOnBranch"
# Schema previews: members that exist only when the request's Accept header names the preview's media
# type. "Merge info preview ... you must provide a custom media type in the Accept header:
# application/vnd.github.merge-info-preview+json. Previewed schema members: PullRequest.canBeRebased,
# PullRequest.mergeStateStatus" (https://docs.github.com/en/graphql/overview/schema-previews). Of the
# page's other previews none covers a field in the vendored subset.
PREVIEWS: dict[str, tuple[tuple[str, str], ...]] = {
    "application/vnd.github.merge-info-preview+json": (
        ("PullRequest", "mergeStateStatus"),
        ("PullRequest", "canBeRebased"),
    ),
}


def previews(accept: str) -> frozenset[str]:
    """The preview media types an Accept header turns on."""
    asked = {part.split(";")[0].strip().lower() for part in accept.split(",")}
    return frozenset(media for media in PREVIEWS if media in asked)


@functools.cache
def schema(with_commit_mutation: bool = True, enabled: frozenset[str] = frozenset(PREVIEWS)) -> GraphQLSchema:
    """GitHub's schema subset; without createCommitOnBranch it behaves like an older GHES; preview
    members whose media type is not `enabled` do not exist."""
    doc = parse(SCHEMA_PATH.read_text())
    hidden = {member for media, members in PREVIEWS.items() if media not in enabled for member in members}
    if not with_commit_mutation:
        hidden.add(("Mutation", COMMIT_MUTATION))
    definitions = []
    for node in doc.definitions:
        if isinstance(node, ObjectTypeDefinitionNode):
            fields = tuple(f for f in node.fields or () if (node.name.value, f.name.value) not in hidden)
            node = dataclasses.replace(node, fields=fields)
        definitions.append(node)
    doc = dataclasses.replace(doc, definitions=tuple(definitions))
    built = build_ast_schema(doc)
    for name in ("GitObject", "Node", "RequestedReviewer", "Actor"):
        built.type_map[name].resolve_type = lambda value, info, type_: value.typename  # type: ignore[attr-defined]
    return built


class GHError(Exception):
    def __init__(self, message: str, type_: str) -> None:
        super().__init__(message)
        self.type = type_


def execute(
    state: GitHubState,
    query: str,
    variables: dict[str, Any] | None,
    commit_mutation: bool,
    accept: str = "",
) -> dict[str, Any]:
    """Run one GraphQL request and return GitHub's response document (data and/or errors); `accept`
    is the request's Accept header, which turns schema previews on."""
    built = schema(commit_mutation, previews(accept))
    result = graphql_sync(built, query, root_value=Root(state), variable_values=variables)
    out: dict[str, Any] = {}
    if result.data is not None or not result.errors:
        out["data"] = result.data
    if result.errors:
        out["errors"] = [_format(e) for e in result.errors]
    return out


_UNDEFINED = re.compile(r"Cannot query field '(\w+)' on type '(\w+)'\.")


def _format(error: GraphQLError) -> dict[str, Any]:
    doc: dict[str, Any] = dict(error.formatted)
    original = error.original_error
    if isinstance(original, (GHError, StateError, PaginationError)):
        doc["type"] = original.type
    undefined = _UNDEFINED.match(error.message)
    if undefined:  # GitHub's wording for an unknown field (a preview member without its media type)
        field, type_ = undefined.groups()
        doc["message"] = f"Field '{field}' doesn't exist on type '{type_}'"
        doc["extensions"] = {"code": "undefinedField", "typeName": type_, "fieldName": field}
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
        name = ref_name(input["refId"])
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
        name = ref_name(input["refId"])
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
        name = "refs/heads/" + branch["branchName"] if branch.get("branchName") else ref_name(branch["id"])
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
