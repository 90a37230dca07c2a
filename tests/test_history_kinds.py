"""Issue 11, point 6: what each change was in `history`; git-mode PR re-runs; auto-merge without GitHub."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest

from testing.cli import run
from testing.gitrepo import SHA, TAGS, GitOps, git, two_env_gitops


@pytest.fixture
def ops(tmp_path: Path) -> GitOps:
    return two_env_gitops(tmp_path)


def test_history_names_each_kind_of_change(ops: GitOps) -> None:
    work = ops.remote.work
    assert run("bump", "--env", "staging", "--app", "api", "--sha", SHA, cwd=work).returncode == 0
    assert run("rollback", "--env", "staging", "--app", "api", cwd=work).returncode == 0
    assert run("release", "--env", "staging", "--app", "api", cwd=work).returncode == 0
    time.sleep(1.1)  # commit times have one-second resolution: the hand edit comes visibly later
    edited = ops.values("api", "staging").decode().replace(TAGS[0], TAGS[1])
    ops.remote.commit({"k8s/api/values-staging.yaml": edited}, "hand edit: try TAGS[1]")
    assert run("promote", "--from", "staging", "--to", "production", "--app", "api", cwd=work).returncode == 0

    staging = run("history", "--env", "staging", "--app", "api", "--json", cwd=work)
    assert (staging.returncode, staging.stderr) == (0, "")
    kinds = [(e["tag"], e["kind"]) for e in json.loads(staging.stdout)["entries"]]
    assert kinds == [
        (TAGS[1], "manual edit"),
        (TAGS[0], "release"),  # the hold on TAGS[0] lifted
        (TAGS[0], "rollback"),
        (TAGS[2], "bump"),
        (TAGS[0], "manual edit"),  # the repository's first commit
    ]
    table = run("history", "--env", "staging", "--app", "api", cwd=work).stdout.splitlines()
    assert table[0].split() == ["TAG", "CHANGE", "COMMIT", "AUTHOR", "DATE"]
    assert table[1].startswith(f"{TAGS[1]}  manual edit  ")
    production = run("history", "--env", "production", "--app", "api", "--json", cwd=work)
    assert json.loads(production.stdout)["entries"][0]["kind"] == "promote"


def test_git_pull_request_rerun_is_a_no_op(ops: GitOps) -> None:
    work = ops.remote.work
    argv = ("bump", "--env", "staging", "--app", "api", "--sha", SHA, "--mode", "pull-request", "--json")
    first = run(*argv, cwd=work)
    assert (first.returncode, first.stderr) == (0, "")
    head = git("rev-parse", "refs/heads/updater/staging/api", cwd=ops.remote.bare).strip()
    assert json.loads(first.stdout)["commit"] == head
    again = run(*argv, cwd=work)
    assert (again.returncode, again.stderr) == (0, "")
    report = json.loads(again.stdout)
    assert report["changed"] is False and report["commit"] == head
    assert report["notes"] == ["branch updater/staging/api already has these changes"]
    # Not force-pushed: the branch still points at the first run's commit.
    assert git("rev-parse", "refs/heads/updater/staging/api", cwd=ops.remote.bare).strip() == head
    # Once main moves on, the PR head is rebuilt on the new base.
    ops.remote.commit({"README.md": "more\n"}, "docs")
    third = run(*argv, cwd=work)
    assert third.returncode == 0 and json.loads(third.stdout)["changed"] is True
    assert git("rev-parse", "refs/heads/updater/staging/api", cwd=ops.remote.bare).strip() != head


@pytest.mark.parametrize("provider", ["git", "files"])
def test_auto_merge_without_github_is_refused(ops: GitOps, provider: str) -> None:
    work = ops.remote.work
    config = work / ".updater.yaml"
    config.write_text(config.read_text().replace("provider: git", f"provider: {provider}"))
    head = ops.remote.head()
    flag = run(
        "bump", "--env", "staging", "--sha", SHA, "--mode", "auto-merge", "--wait-merged", "60", cwd=work
    )
    assert (flag.returncode, flag.stderr) == (
        2,
        f"updater: error: --mode auto-merge needs a provider that merges pull requests (github); "
        f"scm.provider {provider} cannot: use --mode pull-request or commit\n",
    )
    config.write_text(
        config.read_text().replace("staging: {branch: main,", "staging: {branch: main, mode: auto-merge,")
    )
    validate = run("config", "validate", cwd=work)
    assert (validate.returncode, validate.stderr) == (
        2,
        f"updater: error: {config}:4:33: environments.staging.mode: auto-merge needs a provider that "
        f"merges pull requests (github); provider {provider} cannot: use mode pull-request or commit\n",
    )
    assert ops.remote.head() == head
    assert b"tag: " + TAGS[0].encode() in ops.values("api", "staging")
