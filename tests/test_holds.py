"""A rollback holds (issue 11, point 5): through the CLI, over a real git remote."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from testing.cli import run
from testing.gitrepo import SHA, TAGS, GitOps, two_env_gitops
from updater.config import load
from updater.flows.bump import bump
from updater.scm.git import GitBackend

HOLDS = ".updater/holds.yaml"
ALICE = {"GITHUB_ACTOR": "alice"}


@pytest.fixture
def ops(tmp_path: Path) -> GitOps:
    """staging went TAGS[0] -> TAGS[1] -> TAGS[2] by two bumps (in-process set-up)."""
    ops = two_env_gitops(tmp_path)
    config = load(ops.remote.work / ".updater.yaml")
    with GitBackend(ops.remote.url) as backend:
        assert bump(config, backend, "staging", ["api"], sha="1b2c3d4").changed
        assert bump(config, backend, "staging", ["api"], sha="4f9e2d1").changed
    return ops


def changed_files(ops: GitOps, commit: str) -> list[str]:
    out = subprocess.run(
        ["git", "show", "--name-only", "--format=", commit],
        cwd=ops.remote.bare,
        capture_output=True,
        text=True,
        check=True,
    )
    return sorted(out.stdout.split())


def test_rollback_holds_until_release(ops: GitOps) -> None:
    work = ops.remote.work
    rolled = run("rollback", "--env", "staging", "--app", "api", "--json", cwd=work, env=ALICE)
    assert (rolled.returncode, rolled.stderr) == (0, "")
    assert json.loads(rolled.stdout)["notes"] == [
        f"api (staging) is held at {TAGS[1]}: bump skips it until `updater release --env staging --app api`"
    ]
    head = ops.remote.head()
    # One commit: the tag and the hold together.
    assert changed_files(ops, head) == [HOLDS, "k8s/api/values-staging.yaml"]
    holds = ops.remote.show(HOLDS).decode()
    assert f'"api": {{from: "{TAGS[2]}", to: "{TAGS[1]}", by: "alice"' in holds

    # bump skips the held app with a note, bumps the others, exits 0.
    bumped = run("bump", "--env", "staging", "--sha", SHA, "--json", cwd=work)
    assert (bumped.returncode, bumped.stderr) == (0, "")
    report = json.loads(bumped.stdout)
    assert [a["app"] for a in report["apps"]] == ["web"]
    assert report["notes"] == [
        f"api (staging) skipped: held (rolled back from {TAGS[2]} by alice); "
        "`updater release --env staging --app api` lifts it"
    ]
    assert f"tag: {TAGS[1]}\n".encode() in ops.values("api", "staging")

    # status says so.
    table = run("status", "--env", "staging", cwd=work)
    assert table.returncode == 0
    assert f"api  staging  {TAGS[1]}  {TAGS[2]}  held (rolled back from {TAGS[2]} by alice)" in table.stdout

    # promote into the held environment refuses (exit 2, naming the hold), nothing written.
    before, commits = ops.remote.head(), ops.remote.count()
    promoted = run("promote", "--from", "production", "--to", "staging", "--app", "api", cwd=work)
    assert promoted.returncode == 2
    assert promoted.stderr == (
        f"updater: error: api (staging) is held (rolled back from {TAGS[2]} by alice): release it first "
        "(`updater release --env staging --app api`) or pass --ignore-hold\n"
    )
    assert ops.remote.head() == before
    dry = run(
        "promote",
        "--from",
        "production",
        "--to",
        "staging",
        "--app",
        "api",
        "--ignore-hold",
        "--dry-run",
        cwd=work,
    )
    assert (dry.returncode, dry.stderr) == (0, "")
    assert f"api (staging): {TAGS[1]} -> {TAGS[0]}" in dry.stdout

    # release lifts it in one commit; a second release has nothing to lift.
    released = run("release", "--env", "staging", "--app", "api", cwd=work)
    assert (released.returncode, released.stderr) == (0, "")
    assert ops.remote.count() == commits + 1
    assert changed_files(ops, ops.remote.head()) == [HOLDS]
    assert '"api"' not in ops.remote.show(HOLDS).decode()
    assert ops.remote.log()[0] == "release staging: api"
    again = run("release", "--env", "staging", "--app", "api", cwd=work)
    assert (again.returncode, again.stderr) == (
        2,
        "updater: error: app 'api' (staging) is not held: nothing to release\n",
    )

    # the next bump updates it again.
    assert run("bump", "--env", "staging", "--sha", SHA, cwd=work).returncode == 0
    assert f"tag: {TAGS[2]}\n".encode() in ops.values("api", "staging")


def test_ignore_hold_writes_a_held_app(ops: GitOps) -> None:
    work = ops.remote.work
    assert run("rollback", "--env", "staging", "--app", "api", cwd=work).returncode == 0
    forced = run("bump", "--env", "staging", "--app", "api", "--sha", SHA, "--ignore-hold", cwd=work)
    assert (forced.returncode, forced.stderr) == (0, "")
    assert f"tag: {TAGS[2]}\n".encode() in ops.values("api", "staging")
    # The hold stays recorded until released: the next plain bump is a no-op with the note.
    plain = run("bump", "--env", "staging", "--app", "api", "--sha", SHA, cwd=work)
    assert plain.returncode == 0 and "note: api (staging) skipped: held" in plain.stdout


def test_a_broken_holds_file_is_named(ops: GitOps) -> None:
    ops.remote.commit({HOLDS: "holds: [1, 2]\n"}, "break the holds file")
    head = ops.remote.head()
    result = run("bump", "--env", "staging", "--sha", SHA, cwd=ops.remote.work)
    assert result.returncode == 2
    assert result.stderr.startswith(f"updater: error: {HOLDS} (branch main): expected a mapping")
    assert ops.remote.head() == head


def test_release_in_pull_request_mode_has_its_own_head(ops: GitOps) -> None:
    work = ops.remote.work
    assert run("rollback", "--env", "staging", "--app", "api", cwd=work).returncode == 0
    released = run(
        "release", "--env", "staging", "--app", "api", "--mode", "pull-request", "--json", cwd=work
    )
    assert (released.returncode, released.stderr) == (0, "")
    assert json.loads(released.stdout)["notes"][-1] == (
        "pushed to branch updater/staging/api-release; open a pull request into main"
    )
    assert '"api"' in ops.remote.show(HOLDS).decode()  # held until that branch is merged
    assert '"api"' not in ops.remote.show(HOLDS, "updater/staging/api-release").decode()
