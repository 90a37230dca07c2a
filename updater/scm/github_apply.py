"""Landing one edit on GitHub: ONE commit, a pull request per head, auto-merge.

`apply` picks the mode and turns what the attempts end with into the user's answer: a write whose
effect could not be read back is reported as an unknown outcome that a re-run settles safely.
"""

from __future__ import annotations

from typing import Any

from updater.infra import retry
from updater.infra.errors import InputError, OutcomeUnknown, RemoteError, UpdaterError
from updater.scm.base import CommitRequest, Editor, Outcome
from updater.scm.github_client import GitHubClient, GitHubHTTPError
from updater.scm.github_pulls import MERGE_METHODS, PullRun
from updater.scm.github_write import Run, race_policy

MODES = ("commit", "pull-request", "auto-merge")


def apply(backend: GitHubClient, request: CommitRequest, editor: Editor) -> Outcome:
    """Run the editor on the branch head and land its result as one commit, PR or auto-merged PR."""
    if request.mode not in MODES:
        raise InputError(f"unknown mode {request.mode!r}: use one of {', '.join(MODES)}")
    if request.mode == "commit":
        run = Run(backend, request, editor)
        return _attempts(run.commit_once, run)
    spec = request.pull_request
    if spec is None:
        raise InputError(f"mode {request.mode} needs pull request settings (head branch, title, body)")
    if spec.merge_method not in MERGE_METHODS:
        raise InputError(f"unknown merge method {spec.merge_method!r}: use one of {', '.join(MERGE_METHODS)}")
    pulls = PullRun(backend, request, editor)
    try:
        outcome = _attempts(pulls.pull_request_once, pulls)
    except UpdaterError as exc:
        left = pulls.cleanup()
        if left:
            exc.args = (f"{exc.message}; {left}",)
        raise
    if request.mode == "auto-merge" and pulls.pr is not None:
        outcome = pulls.finish_merge(outcome)
    return outcome


def _attempts(fn: Any, run: Run) -> Outcome:
    try:
        result: Outcome = retry.call(fn, race_policy())
    except retry.Transient as exc:
        if run.wrote:  # a write went out; whether it landed could not be read back
            raise OutcomeUnknown(f"GitHub: {exc} (gave up after retries)") from None
        raise RemoteError(f"GitHub: {exc} (gave up after retries)") from None
    except GitHubHTTPError as exc:
        raise RemoteError(exc.describe()) from None
    return result
