"""Writing one edit to GitHub: the state one run carries across its attempts, the snapshot it reads,
and the writes (a commit through GraphQL createCommitOnBranch or the Git Data API, GraphQL documents,
REST writes) with what is known about each one's effect.

Each attempt reads the whole state it acts on in one query (branch heads, files, open PRs), runs
the editor on it, and plans the writes from it. A lost race or a failure whose effect is unknown
simply starts a new attempt (bounded and jittered by updater.infra.retry): a create is never re-sent
blindly, it is re-planned from what the new read shows already exists. A rate-limited request was
not performed: it is re-sent as it was, after the wait GitHub asks for, without a new read.
"""

from __future__ import annotations

import base64
from dataclasses import replace
from typing import Any

from updater.infra import retry
from updater.infra.errors import RemoteError
from updater.scm import _graphql as gql
from updater.scm.base import CommitRequest, Editor, Outcome, PullRequestSpec, Reader
from updater.scm.github_client import (
    GitHubClient,
    GitHubHTTPError,
    RateLimited,
    resend_when_limited,
    retry_call,
)


class LostRace(retry.Transient):
    """Somebody moved the branch (or created the ref/PR) between our read and our write."""


class NoCommitMutation(Exception):
    """The server has no createCommitOnBranch (an older GitHub Enterprise Server)."""


def race_policy() -> retry.Policy:
    """The process policy with more, shorter tries: a lost race is cheap to redo and soon won."""
    p = retry.policy()
    return replace(p, attempts=max(p.attempts, 30), initial=min(p.initial, 0.05), maximum=min(p.maximum, 2.0))


class Run:
    """The state one `apply` carries across its attempts."""

    def __init__(self, backend: GitHubClient, request: CommitRequest, editor: Editor) -> None:
        self.gh = backend
        self.request = request
        self.editor = editor
        # The files to fetch with the snapshot: the editor's hint, else what the caller read before.
        hint: Any = getattr(editor, "paths", None) or backend.read_paths.get(request.branch) or ()
        self.paths: tuple[str, ...] = tuple(dict.fromkeys(hint))
        self.uncertain: tuple[str, tuple[str, ...]] | None = (
            None  # (expected head, files) of a write in doubt
        )
        self.created_branch = False
        # True once any attempt wrote (or sent a write whose answer was lost): a later attempt that
        # finds the work done must still report it as this run's change.
        self.wrote = False
        # alias -> (data, error) of the parts folded into the last commit document (see write_commit)
        self.folded: dict[str, tuple[Any, dict[str, Any] | None]] = {}
        self.pr: gql.PullRequest | None = None
        self.auto_merge_allowed = False
        self.scratch_cleared = False  # update_open deleted the scratch branch (or was never needed)
        self.notes: list[str] = []

    @property
    def spec(self) -> PullRequestSpec:
        assert self.request.pull_request is not None
        return self.request.pull_request

    @property
    def body(self) -> str:
        """The PR body: the spec's, plus a hidden line saying what it covers (read back by `supersedes`)."""
        covers = self.spec.covers
        return self.spec.body + (f"\n\n{gql.COVERS_MARK} {' '.join(covers)} -->\n" if covers else "")

    # --- reading ----------------------------------------------------------------------------
    def snapshot(self, with_head: bool) -> gql.Snapshot:
        branch = self.request.branch
        prefetched = self.gh.prefetched.pop(branch, None)
        if prefetched is not None and not with_head and set(self.paths) <= set(prefetched.files):
            return prefetched  # read just before by read_many; a stale head fails the CAS and re-reads
        variables: dict[str, Any] = {"base": gql.qualified(branch)}
        variables.update({f"p{i}": p for i, p in enumerate(self.paths)})
        if with_head:
            variables.update(
                head=gql.qualified(self.spec.head),
                headName=self.spec.head,
                baseName=branch,
                scratch=gql.qualified(gql.scratch_branch(self.spec.head)),
            )
        data = self.gh.query(gql.snapshot_query(self.paths, with_head), variables, f"read {branch}")
        snap = gql.parse_snapshot(data, self.paths)
        if snap.base_oid is None:
            raise RemoteError(f"branch {branch!r} does not exist in {self.gh.repository}: create it first")
        for path, state in list(snap.files.items()):
            if state.content is None and state.oid is not None:  # binary or too big for GraphQL text
                snap.files[path] = replace(state, content=self.gh.fetch_blob(state.oid, path))
        return snap

    def reader(self, snap: gql.Snapshot, oid: str) -> Reader:
        """A reader of the commit `oid`; files missing from the snapshot cost one query each."""

        def read(path: str) -> bytes | None:
            if path not in snap.files:
                data = self.gh.query(gql.BLOB_QUERY, {"expr": f"{oid}:{path}"}, f"read {path}")
                obj = data["repository"].get("object")
                content = self.gh.blob_content(path, obj) if obj and "text" in obj else None
                snap.files[path] = gql.FileState(path, content, obj["oid"] if content is not None else None)
            return snap.files[path].content

        return read

    def edit(self, snap: gql.Snapshot) -> dict[str, bytes]:
        assert snap.base_oid is not None
        read = self.reader(snap, snap.base_oid)
        changes = self.editor(read)
        return {path: content for path, content in changes.items() if read(path) != content}

    # --- commit mode ------------------------------------------------------------------------
    def commit_once(self) -> Outcome:
        snap = self.snapshot(False)
        assert snap.base_oid is not None
        if (
            self.uncertain
            and snap.base_parent == self.uncertain[0]
            and same(snap.base_message, self.request.message)
        ):
            # Our previous write landed although its answer was lost: do not commit twice.
            return Outcome(
                True, self.uncertain[1], snap.base_oid, notes=("the commit landed despite an error",)
            )
        self.uncertain = None
        changes = self.edit(snap)
        if not changes:
            if self.wrote:  # an earlier attempt's commit landed (its answer was lost), then moved on
                return Outcome(True, notes=("the commit landed despite an error",))
            return Outcome(False, notes=(f"{self.request.branch} is already up to date",))
        files = tuple(sorted(changes))
        try:
            oid = self.write_commit(snap, self.request.branch, changes, ref_mode="fast-forward")
        except LostRace:
            raise
        except retry.Transient:
            self.uncertain = (snap.base_oid, files)
            raise
        return Outcome(True, files, oid)

    def write_commit(
        self,
        snap: gql.Snapshot,
        branch: str,
        changes: dict[str, bytes],
        ref_mode: str,
        then: gql.Part | None = None,
    ) -> str:
        """Commit `changes` on top of the base head to `branch`; return the new commit.

        `then` (creating or updating the PR) runs in the same GraphQL document, after the commit
        (mutations run in order), saving a request; its result is left in `self.folded`. Should the
        commit fail, the PR part finds the head at the base and fails harmlessly ("No commits
        between"). The Git Data fallback does not fold: the caller then sends it alone."""
        assert snap.base_oid is not None
        self.folded = {}
        if self.gh.graphql_commit is not False:
            parts = []
            if ref_mode == "create":
                parts.append(gql.create_ref(snap.repo_id, branch, snap.base_oid))
            elif ref_mode == "reset" and snap.head_ref_id is not None:
                parts.append(gql.reset_ref(snap.head_ref_id, snap.base_oid))
            parts.append(
                gql.commit_on_branch(self.gh.repository, branch, snap.base_oid, changes, self.request.message)
            )
            if then is not None:
                parts.append(then)
            try:
                results = self.mutate(parts)
            except NoCommitMutation:
                self.gh.graphql_commit = False
                return self.write_commit(snap, branch, changes, ref_mode)
            self.gh.graphql_commit = True
            if then is not None:
                self.folded[then.alias] = results[then.alias]
            if "ref" in results:
                data, error = results["ref"]
                if error:
                    raise LostRace(f"could not prepare branch {branch}: {error.get('message')}")
                self.created_branch = self.created_branch or ref_mode == "create"
            data, error = results["commit"]
            if error:
                if is_stale(error):
                    raise LostRace(f"{branch} moved while committing")
                raise RemoteError(f"GitHub refused the commit to {branch}: {error.get('message')}")
            return str(data["commit"]["oid"])
        return self.rest_commit(snap, branch, changes, ref_mode)

    def rest_commit(self, snap: gql.Snapshot, branch: str, changes: dict[str, bytes], ref_mode: str) -> str:
        """The Git Data API fallback: tree, commit, then a ref update.

        UTF-8 files go inline in the tree (no extra call); any other bytes first become a blob
        (POST git/blobs, base64), as a tree's `content` can only carry UTF-8 text."""
        entries = []
        for path, content in sorted(changes.items()):
            state = snap.files.get(path)
            mode = format(state.mode, "o") if state and state.mode else "100644"
            entry: dict[str, Any] = {"path": path, "mode": mode, "type": "blob"}
            try:
                entry["content"] = content.decode("utf-8")
            except UnicodeDecodeError:
                entry["sha"] = self.create_blob(path, content)
            entries.append(entry)
        tree_body = {"base_tree": snap.base_tree, "tree": entries}
        tree = resend_when_limited(lambda: self.gh.rest("POST", "/git/trees", tree_body, "create tree"))
        body: dict[str, Any] = {
            "message": self.request.message,
            "tree": tree["sha"],
            "parents": [snap.base_oid],
        }
        if self.request.author:
            body["author"] = {"name": self.request.author.name, "email": self.request.author.email}
        commit = resend_when_limited(lambda: self.gh.rest("POST", "/git/commits", body, "create commit"))
        sha = str(commit["sha"])
        if ref_mode == "none":  # the caller moves a ref to it
            return sha
        try:
            if ref_mode == "create":
                ref = {"ref": gql.qualified(branch), "sha": sha}
                self.write_rest("POST", "/git/refs", ref, f"create {branch}")
                self.created_branch = True
            else:
                update = {"sha": sha, "force": ref_mode == "reset"}
                self.write_rest("PATCH", f"/git/refs/heads/{branch}", update, f"update {branch}")
        except GitHubHTTPError as exc:
            if exc.status == 422:  # "Reference already exists" / "Update is not a fast forward"
                raise LostRace(f"{branch}: {exc.message}") from None
            raise
        return sha

    def create_blob(self, path: str, content: bytes) -> str:
        """Store `content` as a blob; return its id. Safe to repeat: a blob's id is its content's hash."""
        body = {"content": base64.b64encode(content).decode(), "encoding": "base64"}
        data = retry_call(lambda: self.gh.rest("POST", "/git/blobs", body, f"store {path}"))
        return str(data["sha"])

    def write_rest(self, verb: str, path: str, body: dict[str, Any] | None, what: str) -> Any:
        """A REST write; noted in `wrote` when it succeeds or its answer is lost."""
        try:
            data = resend_when_limited(lambda: self.gh.rest(verb, path, body, what))
        except RateLimited:
            raise
        except retry.Transient:
            self.wrote = True  # a 5xx or a dropped connection: the write may have landed
            raise
        self.wrote = True
        return data

    def mutate(self, parts: list[gql.Part]) -> dict[str, tuple[Any, dict[str, Any] | None]]:
        """Run the parts as one GraphQL document; return alias -> (data, error)."""
        doc, variables = gql.mutation(parts)
        what = ", ".join(p.field for p in parts)
        try:  # a rate-limited document did not run: it is re-sent as it was, without a new read
            data, errors = resend_when_limited(lambda: self.gh.graphql(doc, variables, what))
        except RateLimited:
            raise
        except retry.Transient:
            self.wrote = True  # the answer is lost: the mutation may have landed
            raise
        if errors and not data and not any(e.get("path") for e in errors):
            message = str(errors[0].get("message"))
            if "createCommitOnBranch" in message:
                raise NoCommitMutation
            raise RemoteError(f"GitHub GraphQL error: {message}")
        by_alias = {e["path"][0]: e for e in errors if e.get("path")}
        results = {p.alias: (data.get(p.alias), by_alias.get(p.alias)) for p in parts}
        if any(error is None and value is not None for value, error in results.values()):
            self.wrote = True
        return results


def same(a: str, b: str) -> bool:
    return a.strip() == b.strip()


def is_stale(error: dict[str, Any]) -> bool:
    message = str(error.get("message", "")).lower()
    return error.get("type") == "STALE_DATA" or "expected branch to point to" in message
