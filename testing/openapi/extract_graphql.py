"""Vendor the subset of GitHub's official GraphQL schema that the loopback server implements.

Run once (or to refresh): `npm pack @octokit/graphql-schema`, unpack it, then
`python testing/openapi/extract_graphql.py package/schema.graphql`. It writes
`testing/openapi/github-graphql.graphql`: the types, fields and arguments listed in KEEP, copied from
the official schema with their descriptions (MIT, see LICENSE-graphql-schema.md). Input types and
enums are kept whole. A query valid against the subset is therefore valid against github.com.
"""

from __future__ import annotations

import sys
from dataclasses import replace
from pathlib import Path

from graphql import parse, print_ast
from graphql.language import (
    DocumentNode,
    EnumTypeDefinitionNode,
    InputObjectTypeDefinitionNode,
    InterfaceTypeDefinitionNode,
    ListTypeNode,
    NonNullTypeNode,
    ObjectTypeDefinitionNode,
    ScalarTypeDefinitionNode,
    TypeNode,
    UnionTypeDefinitionNode,
)

# type -> field -> the arguments kept (object types and interfaces only).
KEEP: dict[str, dict[str, list[str]]] = {
    "Query": {"repository": ["owner", "name"]},
    "Node": {"id": []},
    "GitObject": {"id": [], "oid": []},
    "Repository": {
        "id": [],
        "nameWithOwner": [],
        "url": [],
        "autoMergeAllowed": [],
        "defaultBranchRef": [],
        "mergeCommitAllowed": [],
        "squashMergeAllowed": [],
        "rebaseMergeAllowed": [],
        "ref": ["qualifiedName"],
        "object": ["expression", "oid"],
        "pullRequests": ["states", "headRefName", "baseRefName", "first", "after"],
        "pullRequest": ["number"],
    },
    "Ref": {"id": [], "name": [], "prefix": [], "target": [], "associatedPullRequests": ["states", "first"]},
    "Commit": {
        "id": [],
        "oid": [],
        "url": [],
        "message": [],
        "committedDate": [],
        "author": [],
        "parents": ["first"],
        "tree": [],
        "file": ["path"],
        "history": ["first", "path", "after"],
        "changedFilesIfAvailable": [],
        "statusCheckRollup": [],
    },
    "CommitConnection": {"nodes": [], "totalCount": []},
    "CommitHistoryConnection": {"nodes": [], "totalCount": [], "pageInfo": []},
    "GitActor": {"name": [], "email": [], "date": []},
    "Tree": {"id": [], "oid": [], "entries": []},
    "TreeEntry": {"name": [], "path": [], "mode": [], "oid": [], "type": [], "object": []},
    "Blob": {"id": [], "oid": [], "text": [], "isBinary": [], "isTruncated": [], "byteSize": []},
    "StatusCheckRollup": {"state": []},
    "PullRequest": {
        "id": [],
        "number": [],
        "url": [],
        "state": [],
        "closed": [],
        "merged": [],
        "headRefName": [],
        "baseRefName": [],
        "headRefOid": [],
        "headRef": [],
        "title": [],
        "body": [],
        "isDraft": [],
        "mergeStateStatus": [],
        "autoMergeRequest": [],
        "mergeCommit": [],
        "labels": ["first"],
        "assignees": ["first"],
        "reviewRequests": ["first"],
        "latestReviews": ["first"],
    },
    "PullRequestReviewConnection": {"nodes": []},
    "PullRequestReview": {"author": []},
    "Actor": {"login": []},
    "PullRequestConnection": {"nodes": [], "totalCount": [], "pageInfo": []},
    "PageInfo": {"hasNextPage": [], "endCursor": []},
    "AutoMergeRequest": {"mergeMethod": [], "enabledAt": []},
    "LabelConnection": {"nodes": []},
    "Label": {"id": [], "name": []},
    "UserConnection": {"nodes": []},
    "User": {"id": [], "login": []},
    "Team": {"id": [], "slug": []},
    "ReviewRequestConnection": {"nodes": []},
    "ReviewRequest": {"requestedReviewer": []},
    "Mutation": {
        "createRef": ["input"],
        "updateRef": ["input"],
        "deleteRef": ["input"],
        "createCommitOnBranch": ["input"],
        "createPullRequest": ["input"],
        "updatePullRequest": ["input"],
        "closePullRequest": ["input"],
        "addComment": ["input"],
        "enablePullRequestAutoMerge": ["input"],
    },
    "CreateRefPayload": {"ref": []},
    "UpdateRefPayload": {"ref": []},
    "DeleteRefPayload": {"clientMutationId": []},
    "CreateCommitOnBranchPayload": {"commit": [], "ref": []},
    "CreatePullRequestPayload": {"pullRequest": []},
    "UpdatePullRequestPayload": {"pullRequest": []},
    "ClosePullRequestPayload": {"pullRequest": []},
    "AddCommentPayload": {"subject": []},
    "EnablePullRequestAutoMergePayload": {"pullRequest": []},
}
# Input fields of kept inputs that would drag in much of the schema; GitHub treats them as optional.
DROP_INPUT_FIELDS = {"UpdatePullRequestInput": {"assigneeIds", "labelIds", "milestoneId", "projectIds"}}


def _named(node: TypeNode) -> str:
    while isinstance(node, (NonNullTypeNode, ListTypeNode)):
        node = node.type
    return node.name.value  # type: ignore[attr-defined,no-any-return]


def extract(doc: DocumentNode) -> DocumentNode:
    """Return the kept subset of the official schema document, directives stripped."""
    by_name = {d.name.value: d for d in doc.definitions if hasattr(d, "name") and d.name is not None}
    out: dict[str, object] = {}
    todo = list(KEEP)
    while todo:
        name = todo.pop()
        if name in out or name in {"String", "Int", "Boolean", "ID", "Float"}:
            continue
        node = by_name[name]
        if isinstance(node, (ObjectTypeDefinitionNode, InterfaceTypeDefinitionNode)):
            wanted = dict(KEEP[name])
            for interface in node.interfaces or ():  # a kept interface's fields are required
                wanted.update(KEEP.get(interface.name.value, {}))
            fields = []
            for field in node.fields or ():
                if field.name.value not in wanted:
                    continue
                args = tuple(a for a in field.arguments or () if a.name.value in wanted[field.name.value])
                todo.extend(_named(a.type) for a in args)
                todo.append(_named(field.type))
                fields.append(replace(field, arguments=args, directives=()))
            missing = set(wanted) - {f.name.value for f in fields}
            assert not missing, f"{name}: no such fields {missing}"
            interfaces = tuple(i for i in node.interfaces or () if i.name.value in KEEP)
            out[name] = replace(node, fields=tuple(fields), interfaces=interfaces, directives=())
        elif isinstance(node, InputObjectTypeDefinitionNode):
            drop = DROP_INPUT_FIELDS.get(name, set())
            fields = [replace(f, directives=()) for f in node.fields or () if f.name.value not in drop]
            todo.extend(_named(f.type) for f in fields)
            out[name] = replace(node, fields=tuple(fields), directives=())
        elif isinstance(node, UnionTypeDefinitionNode):
            types = tuple(t for t in node.types or () if t.name.value in KEEP)
            out[name] = replace(node, types=types, directives=())
        elif isinstance(node, (EnumTypeDefinitionNode, ScalarTypeDefinitionNode)):
            out[name] = replace(node, directives=())
    return DocumentNode(definitions=tuple(out[k] for k in sorted(out)))  # type: ignore[arg-type]


def main(schema_path: str) -> None:
    doc = extract(parse(Path(schema_path).read_text()))
    target = Path(__file__).with_name("github-graphql.graphql")
    header = (
        "# Subset of GitHub's GraphQL schema (@octokit/graphql-schema, MIT: LICENSE-graphql-schema.md).\n"
    )
    target.write_text(header + "# Generated by extract_graphql.py; do not edit.\n\n" + print_ast(doc) + "\n")
    print(f"wrote {target}: {len(doc.definitions)} types")


if __name__ == "__main__":
    main(sys.argv[1])
