"""Auto-merge's last step: merge directly where GitHub's auto-merge does not apply, and wait.

GitHub refuses to enable auto-merge on a PR that is already mergeable ("clean status") and on
repositories where it is off; then we merge ourselves with the head sha we pushed, so a concurrent
push to the PR branch (409) is never merged unseen. `--wait-merged` polls until the PR is merged,
and fails when it is closed or its checks fail.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from updater.infra import retry
from updater.infra.errors import RemoteError
from updater.scm import _graphql as gql
from updater.scm.base import CommitRequest, Outcome, PullRequestSpec
from updater.scm.github_client import GitHubClient, GitHubHTTPError, resend_when_limited

FAILED_CHECKS = ("FAILURE", "ERROR")


def finish(
    gh: GitHubClient,
    request: CommitRequest,
    spec: PullRequestSpec,
    pr: gql.PullRequest | None,
    outcome: Outcome,
    auto_merge_allowed: bool,
) -> Outcome:
    """Return the outcome after merging (or arming auto-merge) and, if asked, waiting for the merge."""
    if pr is None:
        return outcome
    merged, how = False, None
    notes = list(outcome.notes)
    if not pr.auto_merge:
        merged, note = _merge_directly(gh, pr, spec.merge_method)
        how = "direct" if merged else None
        if note:
            notes.append(note)
    else:
        how = "armed"
        notes.append(f"auto-merge ({spec.merge_method}) enabled on #{pr.number}")
    if not merged and request.wait_merged is not None:
        merged = _wait(gh, pr, request.wait_merged)
    return replace(outcome, merged=merged, merge=how, notes=tuple(notes))


def _merge_directly(gh: GitHubClient, pr: gql.PullRequest, method: str) -> tuple[bool, str | None]:
    """Merge with the expected head sha; (merged, note). 405 and 409 are retried a few times."""
    state = {"sha": pr.head_oid}

    def attempt() -> bool:
        body = {"merge_method": method, "sha": state["sha"]}
        try:  # a rate limit answer means the merge did not happen: the same request is re-sent
            resend_when_limited(
                lambda: gh.rest("PUT", f"/pulls/{pr.number}/merge", body, f"merge #{pr.number}")
            )
        except GitHubHTTPError as exc:
            if exc.status == 409:  # head moved: merge only what we can see
                state["sha"] = _pull(gh, pr.number)["headRefOid"]
                raise retry.Transient(f"merge #{pr.number}: {exc.message}") from None
            if exc.status == 405 and "not allowed" in exc.message.lower():
                # "Merge commits are not allowed on this repository.": a setting, not a moment
                raise RemoteError(
                    f"merge #{pr.number}: {exc.message} Set pull-request merge-method in the config to a "
                    "method the repository allows"
                ) from None
            if exc.status == 405:  # not mergeable yet (checks running, mergeability being computed)
                raise retry.Transient(f"merge #{pr.number}: {exc.message}") from None
            raise
        return True

    few = replace(retry.policy(), attempts=min(retry.policy().attempts, 4))
    try:
        return retry.call(attempt, few), None
    except retry.Transient as exc:
        return False, f"pull request #{pr.number} not merged: {exc}"
    except GitHubHTTPError as exc:
        raise RemoteError(f"merge #{pr.number}: GitHub answered {exc.status}: {exc.message}") from None


def _pull(gh: GitHubClient, number: int) -> dict[str, Any]:
    data = gh.query(gql.PULL_QUERY, {"number": number}, f"read #{number}")
    pull = data["repository"].get("pullRequest")
    if pull is None:
        raise RemoteError(f"pull request #{number} not found in {gh.repository}")
    return dict(pull)


def _wait(gh: GitHubClient, pr: gql.PullRequest, timeout: float) -> bool:
    """Block until the PR is merged; RemoteError when it is closed, its checks fail, or time runs out."""

    def check() -> bool | None:
        try:
            pull = _pull(gh, pr.number)
        except retry.Transient:
            return None
        if pull.get("merged"):
            return True
        if pull.get("state") == "CLOSED":
            raise RemoteError(f"pull request #{pr.number} was closed without being merged ({pr.url})")
        target = (pull.get("headRef") or {}).get("target") or {}
        rollup = (target.get("statusCheckRollup") or {}).get("state")
        if rollup in FAILED_CHECKS:
            raise RemoteError(f"checks failed on pull request #{pr.number} ({pr.url}): not merged")
        return None

    if retry.poll(check, timeout) is None:
        raise RemoteError(f"pull request #{pr.number} was not merged within {timeout:g}s ({pr.url})")
    return True
