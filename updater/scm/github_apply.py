"""Landing one edit on GitHub: ONE commit, a pull request per head, auto-merge.

Each attempt reads the whole state it acts on in one query (branch heads, files, open PRs), runs
the editor on it, and plans the writes from it. A lost race or a failure whose effect is unknown
simply starts a new attempt (bounded and jittered by updater.infra.retry): a create is never re-sent
blindly, it is re-planned from what the new read shows already exists.
"""

from __future__ import annotations

import base64
from dataclasses import replace
from typing import Any

from updater.infra import retry
from updater.infra.errors import InputError, RemoteError, UpdaterError
from updater.scm import _graphql as gql
from updater.scm import github_merge
from updater.scm.base import CommitRequest, Editor, Outcome, PullRequestSpec, Reader
from updater.scm.github_client import GitHubClient, GitHubHTTPError, RateLimited, permission_hint, retry_call

MODES = ("commit", "pull-request", "auto-merge")
MERGE_METHODS = ("merge", "squash", "rebase")


class LostRace(retry.Transient):
    """Somebody moved the branch (or created the ref/PR) between our read and our write."""


class _NoCommitMutation(Exception):
    """The server has no createCommitOnBranch (an older GitHub Enterprise Server)."""


def race_policy() -> retry.Policy:
    """The process policy with more, shorter tries: a lost race is cheap to redo and soon won."""
    p = retry.policy()
    return replace(p, attempts=max(p.attempts, 30), initial=min(p.initial, 0.05), maximum=min(p.maximum, 2.0))


def apply(backend: GitHubClient, request: CommitRequest, editor: Editor) -> Outcome:
    """Run the editor on the branch head and land its result as one commit, PR or auto-merged PR."""
    if request.mode not in MODES:
        raise InputError(f"unknown mode {request.mode!r}: use one of {', '.join(MODES)}")
    run = _Run(backend, request, editor)
    if request.mode == "commit":
        return _attempts(run.commit_once)
    spec = request.pull_request
    if spec is None:
        raise InputError(f"mode {request.mode} needs pull request settings (head branch, title, body)")
    if spec.merge_method not in MERGE_METHODS:
        raise InputError(f"unknown merge method {spec.merge_method!r}: use one of {', '.join(MERGE_METHODS)}")
    try:
        outcome = _attempts(run.pull_request_once)
    except UpdaterError as exc:
        left = run.cleanup()
        if left:
            raise RemoteError(f"{exc.message}; {left}") from None
        raise
    if request.mode == "auto-merge" and run.pr is not None:
        outcome = run.finish_merge(outcome)
    return outcome


def _attempts(fn: Any) -> Outcome:
    try:
        result: Outcome = retry.call(fn, race_policy())
    except retry.Transient as exc:
        raise RemoteError(f"GitHub: {exc} (gave up after retries)") from None
    except GitHubHTTPError as exc:
        raise RemoteError(exc.describe()) from None
    return result


class _Run:
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

    def supersedes(self, stale: gql.PullRequest, ours: gql.PullRequest) -> bool:
        """True when `stale` is an older PR this one replaces: under the prefix, and (when this PR says
        what it covers) proposing nothing this one does not, so closing it loses no change."""
        prefix = self.spec.supersedes_prefix
        if not prefix or not stale.head.startswith(prefix) or stale.number == ours.number:
            return False
        if not self.spec.covers:
            return True
        theirs = gql.covered(stale.body)
        return bool(theirs) and theirs <= set(self.spec.covers)

    # --- reading ----------------------------------------------------------------------------
    def snapshot(self, with_head: bool) -> gql.Snapshot:
        branch = self.request.branch
        prefetched = self.gh.prefetched.pop(branch, None)
        if prefetched is not None and not with_head and set(self.paths) <= set(prefetched.files):
            return prefetched  # read just before by read_many; a stale head fails the CAS and re-reads
        variables: dict[str, Any] = {"base": gql.qualified(branch)}
        variables.update({f"p{i}": p for i, p in enumerate(self.paths)})
        if with_head:
            variables.update(head=gql.qualified(self.spec.head), baseName=branch)
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
            and _same(snap.base_message, self.request.message)
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
            except _NoCommitMutation:
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
                if _is_stale(error):
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
        tree = self.gh.rest(
            "POST", "/git/trees", {"base_tree": snap.base_tree, "tree": entries}, "create tree"
        )
        body: dict[str, Any] = {
            "message": self.request.message,
            "tree": tree["sha"],
            "parents": [snap.base_oid],
        }
        if self.request.author:
            body["author"] = {"name": self.request.author.name, "email": self.request.author.email}
        sha = str(self.gh.rest("POST", "/git/commits", body, "create commit")["sha"])
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
            data = self.gh.rest(verb, path, body, what)
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
        try:
            data, errors = self.gh.graphql(doc, variables, ", ".join(p.field for p in parts))
        except RateLimited:
            raise
        except retry.Transient:
            self.wrote = True  # the answer is lost: the mutation may have landed
            raise
        if errors and not data and not any(e.get("path") for e in errors):
            message = str(errors[0].get("message"))
            if "createCommitOnBranch" in message:
                raise _NoCommitMutation
            raise RemoteError(f"GitHub GraphQL error: {message}")
        by_alias = {e["path"][0]: e for e in errors if e.get("path")}
        results = {p.alias: (data.get(p.alias), by_alias.get(p.alias)) for p in parts}
        if any(error is None and value is not None for value, error in results.values()):
            self.wrote = True
        return results

    # --- pull-request and auto-merge modes --------------------------------------------------
    def pull_request_once(self) -> Outcome:
        spec, base = self.spec, self.request.branch
        snap = self.snapshot(True)
        self.auto_merge_allowed = snap.auto_merge_allowed
        ours = next((p for p in snap.pulls if p.head == spec.head), None)
        self.pr = ours
        changes = self.edit(snap)
        if not changes:
            note = f"{base} already has these values"
            return Outcome(
                self.wrote,
                pr_number=ours.number if ours else None,
                pr_url=ours.url if ours else None,
                notes=(note,),
            )
        files = tuple(sorted(changes))
        ready = self.head_ready(snap, changes)
        commit = snap.head_oid if ready else None
        part = self.pull_part(snap, ours)
        pr: gql.PullRequest | None = None
        if not ready:
            ref_mode = "create" if snap.head_ref_id is None else "reset"
            commit = self.write_commit(snap, spec.head, changes, ref_mode, part)
            if ours is not None:  # the open PR now points at the new commit; its state is being recomputed
                self.pr = ours = replace(ours, head_oid=commit, merge_state="UNKNOWN")
            if part is not None and part.alias in self.folded:
                pr = self.pull_result(part, *self.folded[part.alias], lagging=True)
        if part is not None and pr is None:
            pr = self.pull_result(part, *self.mutate([part])[part.alias])
        if pr is not None:
            self.pr = pr
        assert self.pr is not None
        self.decorate(self.pr)
        self.followups(snap, self.pr)
        changed = self.wrote or not ready or ours is None
        notes = () if changed else (f"pull request #{self.pr.number} already has these changes",)
        return Outcome(changed, files, commit, self.pr.number, self.pr.url, notes=(*notes, *self.notes))

    def head_ready(self, snap: gql.Snapshot, changes: dict[str, bytes]) -> bool:
        """True when the head branch is the base plus exactly these changes (nothing to push)."""
        if (
            snap.head_oid is None
            or snap.head_parents != (snap.base_oid,)
            or snap.head_changed != len(changes)
        ):
            return False
        for path, content in changes.items():
            if path not in snap.head_blobs:
                data = self.gh.query(gql.BLOB_QUERY, {"expr": f"{snap.head_oid}:{path}"}, f"read {path}")
                snap.head_blobs[path] = (data["repository"].get("object") or {}).get("oid")
            if snap.head_blobs[path] != gql.blob_oid(content):
                return False
        return True

    def pull_part(self, snap: gql.Snapshot, ours: gql.PullRequest | None) -> gql.Part | None:
        """The mutation creating our PR, or updating its title and body; None when it is up to date."""
        spec = self.spec
        if ours is None:
            return gql.create_pull(
                snap.repo_id, self.request.branch, spec.head, spec.title, self.body, spec.draft
            )
        if (ours.title, ours.body) != (spec.title, self.body):
            return gql.update_pull(ours.id, spec.title, self.body)
        return None

    def pull_result(
        self, part: gql.Part, data: Any, error: dict[str, Any] | None, lagging: bool = False
    ) -> gql.PullRequest | None:
        """The PR a create/update answered; None when `lagging` and GitHub did not see the new commit
        yet ("No commits between", possible right after the commit): the caller sends it again alone."""
        spec = self.spec
        if error:
            message = str(error.get("message"))
            if "already exists" in message.lower():
                raise LostRace(f"a pull request for {spec.head} appeared meanwhile")
            if lagging and "no commits between" in message.lower():
                return None
            hint = f"; {permission_hint(part.field)}" if error.get("type") == "FORBIDDEN" else ""
            raise RemoteError(
                f"{part.field} on {self.gh.repository}: GitHub refused the pull request for {spec.head} "
                f"into {self.request.branch}: {message}{hint}"
            )
        if data is None:  # no answer for it: the caller sends it alone
            return None
        return gql.parse_pull(data["pullRequest"])

    def decorate(self, pr: gql.PullRequest) -> None:
        """Add the spec's labels, assignees and reviewers that the PR lacks (REST: names, not ids)."""
        spec = self.spec
        body: dict[str, Any] = {}
        if set(spec.labels) - pr.labels:
            body["labels"] = sorted(pr.labels | set(spec.labels))
        if set(spec.assignees) - pr.assignees:
            body["assignees"] = sorted(pr.assignees | set(spec.assignees))
        if body:
            self._soft(
                lambda: self.write_rest("PATCH", f"/issues/{pr.number}", body, "label the pull request")
            )
        users = [r for r in spec.reviewers if r not in pr.reviewers]
        teams = [t for t in spec.team_reviewers if t not in pr.reviewers]
        if users or teams:
            request = {"reviewers": users, "team_reviewers": teams}
            path = f"/pulls/{pr.number}/requested_reviewers"
            self._soft(lambda: self.write_rest("POST", path, request, "request reviewers"))

    def _soft(self, fn: Any) -> None:
        """Run a decoration; GitHub refusing it (an unknown user, ...) is a note, not a failure."""
        try:
            fn()
        except GitHubHTTPError as exc:
            self.notes.append(f"GitHub refused a pull request setting: {exc.describe()}")

    def followups(self, snap: gql.Snapshot, pr: gql.PullRequest) -> None:
        """Close the PRs this one supersedes and enable auto-merge: one document."""
        parts: list[gql.Part] = []
        old = [p for p in snap.pulls if self.supersedes(p, pr)]
        for i, stale in enumerate(old):
            text = f"Superseded by #{pr.number} ({pr.url})."
            parts += [gql.comment(f"c{i}", stale.id, text), gql.close_pull(f"x{i}", stale.id)]
            if stale.head_ref_id and stale.head != self.spec.head:
                parts.append(gql.delete_ref(f"d{i}", stale.head_ref_id))
        want_auto = (
            self.request.mode == "auto-merge"
            and snap.auto_merge_allowed
            and not pr.auto_merge
            and pr.merge_state != "CLEAN"
        )
        if want_auto:
            parts.append(gql.enable_auto_merge(pr.id, self.spec.merge_method))
        if not parts:
            return
        results = self.mutate(parts)
        for alias, (_, error) in results.items():
            if error and alias != "automerge":
                self.notes.append(f"closing a superseded pull request: {error.get('message')}")
        if old:
            self.notes.append("superseded " + ", ".join(f"#{p.number}" for p in old))
        if want_auto:
            _, error = results["automerge"]
            if error is None:
                self.pr = replace(pr, auto_merge=True)
            else:
                self.notes.append(f"auto-merge not enabled ({error.get('message')}); merging directly")

    def finish_merge(self, outcome: Outcome) -> Outcome:
        return github_merge.finish(
            self.gh, self.request, self.spec, self.pr, outcome, self.auto_merge_allowed
        )

    def cleanup(self) -> str | None:
        """Delete the branch this run created if no PR points at it; return what is left behind."""
        if not self.created_branch or self.pr is not None:
            return None
        head = self.spec.head

        def delete() -> None:
            try:
                self.gh.rest("DELETE", f"/git/refs/heads/{head}", None, f"delete {head}")
            except GitHubHTTPError as exc:  # gone already: a retry after a lost answer, or someone else
                if not (exc.status == 422 and "does not exist" in exc.message):
                    raise

        try:
            retry_call(delete)
        except UpdaterError as exc:
            return f"branch {head} is left without a pull request ({exc.message}): delete it"
        return None


def _same(a: str, b: str) -> bool:
    return a.strip() == b.strip()


def _is_stale(error: dict[str, Any]) -> bool:
    message = str(error.get("message", "")).lower()
    return error.get("type") == "STALE_DATA" or "expected branch to point to" in message
