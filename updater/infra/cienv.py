"""Links back to the CI run we are part of, read from the runner's environment.

Below the faces so that the write path (commit messages, PR bodies) and the Action's summary link
the same run.
"""

from __future__ import annotations

from collections.abc import Mapping


def github_run_url(environ: Mapping[str, str]) -> str | None:
    """Return the URL of the current workflow run (the attempt too, when it is a re-run)."""
    server = environ.get("GITHUB_SERVER_URL", "https://github.com").rstrip("/")
    repository, run_id = environ.get("GITHUB_REPOSITORY"), environ.get("GITHUB_RUN_ID")
    if not repository or not run_id:
        return None
    url = f"{server}/{repository}/actions/runs/{run_id}"
    attempt = environ.get("GITHUB_RUN_ATTEMPT", "1")
    return f"{url}/attempts/{attempt}" if attempt not in ("", "1") else url


def ci_branch(environ: Mapping[str, str], explicit: str | None = None) -> str | None:
    """Return the source branch for `{branch}`: --branch, else GitHub Actions' or CircleCI's variable."""
    return explicit or environ.get("GITHUB_REF_NAME") or environ.get("CIRCLE_BRANCH") or None


def ci_run(environ: Mapping[str, str], explicit: str | None = None) -> str | None:
    """Return the run number for `{run}`: --run, else GitHub Actions' or CircleCI's variable."""
    return explicit or environ.get("GITHUB_RUN_NUMBER") or environ.get("CIRCLE_BUILD_NUM") or None
