"""Pull-request and auto-merge modes: one PR per head, updated in place, never closed by an update.

GitHub closes an open PR as merged when its head becomes an ancestor of its base, so an update builds
the new commit on a scratch branch first and moves the head once, forced, to it. Our PR is looked up
by its head name (one node, however many PRs are open); the other open PRs are paged for superseding
only when this run wrote. Labels, assignees and reviewers are sent only when missing
(github_decorate). Auto-merge with a merge method the repository disallows is refused before
anything is written.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from updater.infra.errors import RemoteError, UpdaterError
from updater.scm import _graphql as gql
from updater.scm import github_decorate, github_merge
from updater.scm.base import Outcome
from updater.scm.github_client import GitHubHTTPError, permission_hint, retry_call
from updater.scm.github_write import LostRace, NoCommitMutation, Run, is_stale

MERGE_METHODS = ("merge", "squash", "rebase")


class PullRun(Run):
    """A run in pull-request or auto-merge mode."""

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

    def pull_request_once(self) -> Outcome:
        spec = self.spec
        snap = self.snapshot(True)
        self.auto_merge_allowed = snap.auto_merge_allowed
        self.check_merge_method(snap)
        ours = snap.ours
        self.pr = ours
        changes = self.edit(snap)
        if not changes:
            return self.nothing_to_change(snap, ours)
        files = tuple(sorted(changes))
        ready = self.head_ready(snap, changes)
        commit = snap.head_oid if ready else None
        part = self.pull_part(snap, ours)
        pr: gql.PullRequest | None = None
        if not ready and ours is None:  # no open PR on the head: it may start from the base
            ref_mode = "create" if snap.head_ref_id is None else "reset"
            commit = self.write_commit(snap, spec.head, changes, ref_mode, part)
            if part is not None and part.alias in self.folded:
                pr = self.pull_result(part, *self.folded[part.alias], lagging=True)
        elif not ready:
            assert ours is not None
            commit = self.update_open(snap, ours, changes, part)
            # the open PR now points at the new commit; its merge state is being recomputed
            self.pr = ours = replace(ours, head_oid=commit, merge_state="UNKNOWN")
            if part is not None and part.alias in self.folded:
                pr = self.pull_result(part, *self.folded[part.alias])
        if part is not None and pr is None:
            pr = self.pull_result(part, *self.mutate([part])[part.alias])
        if pr is not None:
            self.pr = pr
        assert self.pr is not None
        self.decorate(self.pr)
        self.followups(snap, self.pr, more=not ready or ours is None)
        changed = self.wrote or not ready or ours is None
        notes = () if changed else (f"pull request #{self.pr.number} already has these changes",)
        return Outcome(changed, files, commit, self.pr.number, self.pr.url, notes=(*notes, *self.notes))

    def check_merge_method(self, snap: gql.Snapshot) -> None:
        """Auto-merge with a method the repository disallows would be refused (405, or an error arming
        it) on every run: say so before writing anything."""
        method = self.spec.merge_method
        if self.request.mode != "auto-merge" or method in snap.merge_methods:
            return
        allowed = ", ".join(m for m in MERGE_METHODS if m in snap.merge_methods) or "none"
        raise RemoteError(
            f"{self.gh.repository} does not allow {method} merges (allowed: {allowed}): set "
            f"pull-request merge-method in the config to an allowed one, or allow {method} merging in "
            "the repository's settings"
        )

    def nothing_to_change(self, snap: gql.Snapshot, ours: gql.PullRequest | None) -> Outcome:
        """The base already has the values. An open PR of ours then proposes nothing: close it with a
        comment (never reset its head to the base, which GitHub would show as merged)."""
        base = self.request.branch
        note = f"{base} already has these values"
        if ours is None or self.wrote:
            pr = ours or self.pr
            return Outcome(
                self.wrote, pr_number=pr.number if pr else None, pr_url=pr.url if pr else None, notes=(note,)
            )
        parts = [
            gql.comment("c0", ours.id, f"Closed by updater: {note}, nothing is left to change."),
            gql.close_pull("x0", ours.id),
        ]
        if ours.head_ref_id:
            parts.append(gql.delete_ref("d0", ours.head_ref_id))
        self.mutate(parts)
        return Outcome(False, notes=(note, f"closed pull request #{ours.number}: nothing left to change"))

    def update_open(
        self, snap: gql.Snapshot, ours: gql.PullRequest, changes: dict[str, bytes], part: gql.Part | None
    ) -> str:
        """Put the new commit on an open PR's head without ever pointing the head at the base.

        GitHub closes an open PR as merged when its head becomes an ancestor of its base, so the new
        commit (the base plus the changes) is built first on a scratch branch, then the head moves
        once, forced, to that commit, in one document with deleting the scratch branch and updating
        the PR (`part`, its answer left in `self.folded`). Two writes."""
        assert snap.base_oid is not None
        scratch = gql.scratch_branch(self.spec.head)
        if self.gh.graphql_commit is False:  # older GHES: the Git Data API builds the commit with no
            # ref at all, then the head moves to it (forced); the PR update goes alone (not folded)
            commit = self.rest_commit(snap, "", changes, ref_mode="none")
            move = {"sha": commit, "force": True}
            self.write_rest("PATCH", f"/git/refs/heads/{self.spec.head}", move, f"update {self.spec.head}")
            self.folded = {}
            return commit
        first = (
            gql.reset_ref(snap.scratch_ref_id, snap.base_oid, alias="scratch")
            if snap.scratch_ref_id
            else gql.create_ref(snap.repo_id, scratch, snap.base_oid, alias="scratch")
        )
        commit_part = gql.commit_on_branch(
            self.gh.repository, scratch, snap.base_oid, changes, self.request.message
        )
        try:
            results = self.mutate([first, commit_part])
        except NoCommitMutation:
            self.gh.graphql_commit = False
            return self.update_open(snap, ours, changes, part)
        self.gh.graphql_commit = True
        data, error = results["scratch"]
        if error or not data:
            raise LostRace(f"could not prepare {scratch}: {(error or {}).get('message')}")
        scratch_id = data["ref"]["id"]
        data, error = results["commit"]
        if error:
            if is_stale(error):
                raise LostRace(f"{scratch} moved while committing")
            raise RemoteError(f"GitHub refused the commit to {scratch}: {error.get('message')}")
        commit = str(data["commit"]["oid"])
        assert ours.head_ref_id is not None or snap.head_ref_id is not None
        parts = [
            gql.reset_ref(str(snap.head_ref_id or ours.head_ref_id), commit, alias="head"),
            gql.delete_ref("scratch", scratch_id),
        ]
        self.scratch_cleared = True
        if part is not None:
            parts.append(part)
        results = self.mutate(parts)
        _, error = results["head"]
        if error:
            raise LostRace(f"could not move {self.spec.head}: {error.get('message')}")
        self.folded = {part.alias: results[part.alias]} if part is not None else {}
        return commit

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
        """Give the PR the spec's labels, assignees and reviewers it lacks (compared as GitHub does)."""
        for write in github_decorate.writes(self.spec, pr):
            self._soft(lambda w=write: self.write_rest(w.verb, w.path, w.body, w.what))

    def _soft(self, fn: Any) -> None:
        """Run a decoration; GitHub refusing it (an unknown user, ...) is a note, not a failure."""
        try:
            fn()
        except GitHubHTTPError as exc:
            self.notes.append(f"GitHub refused a pull request setting: {exc.describe()}")

    def open_pulls(self, snap: gql.Snapshot, more: bool) -> list[gql.PullRequest]:
        """The open PRs into the base: the snapshot's first page, and when `more` (this run wrote) and
        there are more than a page, the other pages (GitHub serves at most 100 per request)."""
        pulls, cursor = list(snap.pulls), snap.more_pulls
        while more and cursor and self.spec.supersedes_prefix:
            page, cursor = self.page_of_pulls(cursor)
            pulls.extend(page)
        return pulls

    def page_of_pulls(self, after: str) -> tuple[tuple[gql.PullRequest, ...], str | None]:
        """The page of open PRs after the cursor `after`, and the next cursor."""
        variables = {"baseName": self.request.branch, "after": after}
        data = retry_call(lambda: self.gh.query(gql.OPEN_PULLS_QUERY, variables, "list pull requests"))
        return gql.parse_pulls(data["repository"].get("open"))

    def followups(self, snap: gql.Snapshot, pr: gql.PullRequest, more: bool = False) -> None:
        """Close the PRs this one supersedes and enable auto-merge: one document."""
        parts: list[gql.Part] = []
        old = [p for p in self.open_pulls(snap, more) if self.supersedes(p, pr)]
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
        if snap.scratch_ref_id and not self.scratch_cleared:  # a scratch branch an interrupted update left
            parts.append(gql.delete_ref("scratch", snap.scratch_ref_id))
        if not parts:
            return
        results = self.mutate(parts)
        for alias, (_, error) in results.items():
            if error and alias not in ("automerge", "scratch"):
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
