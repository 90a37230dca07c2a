"""Issue 11, point 6: what each change was in `history`, in order even within one second; git-mode PR re-runs;
auto-merge without GitHub."""

from __future__ import annotations

import json
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from testing import github_gitops
from testing.cli import run
from testing.gitrepo import SHA, TAGS, GitOps, git, two_env_gitops
from updater.flows.history import Entry, newest_first

# One commit time for every commit a test makes: the one-second tie that CI runs hit.
SAME_SECOND = "2030-01-01T00:00:00+00:00"


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


def test_history_orders_commits_of_one_second_by_ancestry(ops: GitOps) -> None:
    """Rollback, release and bump share one commit time; history still lists them as they landed."""
    work = ops.remote.work
    same = {"GIT_AUTHOR_DATE": SAME_SECOND, "GIT_COMMITTER_DATE": SAME_SECOND}
    for argv in (
        ("bump", "--env", "staging", "--app", "api", "--sha", SHA),
        ("rollback", "--env", "staging", "--app", "api"),
        ("release", "--env", "staging", "--app", "api"),
        ("bump", "--env", "staging", "--app", "api", "--sha", SHA),
    ):
        done = run(*argv, cwd=work, env=same)
        assert (done.returncode, done.stderr) == (0, ""), done.stdout
    dates = git("log", "-4", "--format=%aI %cI", "refs/heads/main", cwd=ops.remote.bare).split()
    assert set(dates) == {SAME_SECOND}  # the tie is real: no date can order these four

    staging = run("history", "--env", "staging", "--app", "api", "--json", cwd=work)
    assert (staging.returncode, staging.stderr) == (0, "")
    assert [(e["tag"], e["kind"]) for e in json.loads(staging.stdout)["entries"]] == [
        (TAGS[2], "bump"),
        (TAGS[0], "release"),
        (TAGS[0], "rollback"),
        (TAGS[2], "bump"),
        (TAGS[0], "manual edit"),
    ]


def test_github_history_settles_each_tie_with_one_compare_call(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """On GitHub too; a release ties with two tag changes here, so two compare calls, no more."""
    with github_gitops.gitops(tmp_path, 1, mode="commit") as ops:
        # The loopback GitHub commits in this process: its commits share the one second as well.
        monkeypatch.setenv("GIT_AUTHOR_DATE", SAME_SECOND)
        monkeypatch.setenv("GIT_COMMITTER_DATE", SAME_SECOND)
        for argv in (("bump",), ("rollback",), ("release",), ("bump",)):
            extra = ("--sha", github_gitops.SHA) if argv == ("bump",) else ()
            done = ops.run(*argv, "--env", "production", "--app", "app00", *extra)
            assert (done.returncode, done.stderr) == (0, ""), done.stdout
        ops.server.reset_counts()
        shown = ops.run("history", "--env", "production", "--app", "app00", "--json")
        assert (shown.returncode, shown.stderr) == (0, "")
        assert [(e["tag"], e["kind"]) for e in json.loads(shown.stdout)["entries"]] == [
            (github_gitops.NEW, "bump"),
            (github_gitops.OLD, "release"),
            (github_gitops.OLD, "rollback"),
            (github_gitops.NEW, "bump"),
            (github_gitops.OLD, "manual edit"),
        ]
        compares = [call for call in ops.call_log() if "/compare/" in call]
        assert len(compares) == 2, ops.call_log()


def _entry(name: str, second: int, kind: str) -> Entry:
    return Entry(
        name, None, name, "a", datetime(2030, 1, 1, tzinfo=timezone.utc) + timedelta(seconds=second), kind
    )


def test_newest_first_asks_ancestry_only_on_a_tie_and_keeps_each_list_order() -> None:
    changes = [_entry("c3", 2, "bump"), _entry("c2", 1, "rollback"), _entry("c1", 0, "bump")]
    releases = [_entry("r2", 1, "release"), _entry("r1", 0, "release")]
    asked: list[tuple[str, str]] = []

    def descends(commit: str, revision: str) -> bool:
        asked.append((commit, revision))
        return False  # nothing related: the tie keeps the release first

    merged = newest_first(changes, releases, descends)
    assert [e.commit for e in merged] == ["c3", "r2", "c2", "r1", "c1"]
    assert asked == [("r2", "c2"), ("r1", "c1")]  # c3 is newer by date: no question asked
    assert [e.commit for e in newest_first(changes, releases, lambda c, r: True)] == [
        "c3",
        "c2",
        "r2",
        "c1",
        "r1",
    ]


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
