"""`updater rollback` and `updater history` through the CLI, over a real git history."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from testing.cli import run
from testing.gitrepo import TAGS, GitOps, two_env_gitops
from updater.config import load
from updater.flows.bump import bump
from updater.scm.git import GitBackend


@pytest.fixture
def ops(tmp_path: Path) -> GitOps:
    """staging went TAGS[0] -> TAGS[1] -> TAGS[2], one bump each (with an unrelated commit between)."""
    ops = two_env_gitops(tmp_path)
    # Set up in-process (the CLI path of bump is tested elsewhere); the rollbacks below run the CLI.
    config = load(ops.remote.work / ".updater.yaml")
    with GitBackend(ops.remote.url) as backend:
        assert bump(config, backend, "staging", ["api"], sha="1b2c3d4").changed
    ops.remote.commit({"README.md": "unrelated\n"}, "docs")
    with GitBackend(ops.remote.url) as backend:
        assert bump(config, backend, "staging", ["api"], sha="4f9e2d1").changed
    return ops


def test_history_lists_each_tag_with_its_commit(ops: GitOps) -> None:
    result = run("history", "--env", "staging", "--app", "api", "--json", cwd=ops.remote.work)
    assert (result.returncode, result.stderr) == (0, "")
    entries = json.loads(result.stdout)["entries"]
    assert [e["tag"] for e in entries] == [TAGS[2], TAGS[1], TAGS[0]]
    assert entries[0]["commit"] == ops.remote.head()
    assert entries[0]["author"] == "updater <updater@users.noreply.localhost>"
    assert entries[2]["author"] == "Test Author <author@example.test>"
    table = run("history", "--env", "staging", "--app", "api", cwd=ops.remote.work).stdout.splitlines()
    assert table[0].split() == ["TAG", "CHANGE", "COMMIT", "AUTHOR", "DATE"]
    assert [line.split()[0] for line in table[1:]] == [TAGS[2], TAGS[1], TAGS[0]]


def test_rollback_one_step_then_to_a_tag(ops: GitOps) -> None:
    work = ops.remote.work
    result = run("rollback", "--env", "staging", "--app", "api", "--json", cwd=work)
    assert (result.returncode, result.stderr) == (0, "")
    report = json.loads(result.stdout)
    assert report["command"] == "rollback" and report["commit"] == ops.remote.head()
    assert [(a["old"], a["new"]) for a in report["apps"]] == [(TAGS[2], TAGS[1])]
    assert f"tag: {TAGS[1]}\n".encode() in ops.values("api", "staging")
    assert ops.remote.log()[0] == f"rollback staging: api {TAGS[1]}"
    # History now reads TAGS[1], TAGS[2], TAGS[1], TAGS[0]: --steps 2 skips repeats and reaches TAGS[0].
    two = run("rollback", "--env", "staging", "--app", "api", "--steps", "2", "--dry-run", cwd=work)
    assert two.returncode == 0 and f"+  tag: {TAGS[0]}\n" in two.stdout
    to = run("rollback", "--env", "staging", "--app", "api", "--to", TAGS[0], cwd=work)
    assert to.returncode == 0
    assert f"tag: {TAGS[0]}\n".encode() in ops.values("api", "staging")


def test_rollback_errors_leave_repo_untouched(ops: GitOps) -> None:
    work = ops.remote.work
    head = ops.remote.head()
    unknown = run("rollback", "--env", "staging", "--app", "api", "--to", "stage-nope", cwd=work)
    assert (unknown.returncode, unknown.stderr) == (
        2,
        f"updater: error: app 'api' (staging): stage-nope is not in its history; "
        f"earlier tags: {TAGS[1]}, {TAGS[0]}\n",
    )
    far = run("rollback", "--env", "staging", "--app", "api", "--steps", "5", cwd=work)
    assert (far.returncode, far.stderr) == (
        2,
        "updater: error: app 'api' (staging): only 2 earlier tag(s) in history, cannot go back 5\n",
    )
    assert ops.remote.head() == head


def test_files_backend_has_no_history(ops: GitOps) -> None:
    cfg = ops.remote.work / ".updater.yaml"
    cfg.write_text(cfg.read_text().replace("provider: git", "provider: files"))
    result = run("rollback", "--env", "staging", "--app", "api", cwd=ops.remote.work)
    assert result.returncode == 2
    assert result.stderr == (
        "updater: error: k8s/api/values-staging.yaml: the files backend keeps no history; set scm.provider "
        "to git (or github) in .updater.yaml to use history and rollback\n"
    )
