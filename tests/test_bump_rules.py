"""Rules of the write path that need no registry call: frozen environments, selections, messages, CI links."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from testing.cli import run
from testing.gitrepo import SHA, TAGS, GitOps, git, two_env_gitops


@pytest.fixture
def ops(tmp_path: Path) -> GitOps:
    return two_env_gitops(tmp_path)


def edit_config(ops: GitOps, old: str, new: str) -> None:
    cfg = ops.remote.work / ".updater.yaml"
    text = cfg.read_text()
    assert old in text
    cfg.write_text(text.replace(old, new, 1))


def test_frozen_environment_refuses_writes_but_shows_status(ops: GitOps) -> None:
    edit_config(
        ops,
        "production: {branch: main, promote-from: staging}",
        "production: {branch: main, promote-from: staging, frozen: true}",
    )
    head = ops.remote.head()
    cfg = ops.remote.work / ".updater.yaml"
    for args in (
        ["bump", "--env", "production", "--sha", SHA],
        ["bump", "--env", "production", "--app", "web", "--tag", TAGS[1]],
        ["promote", "--from", "staging", "--to", "production"],
        ["rollback", "--env", "production", "--app", "api"],
    ):
        result = run(*args, cwd=ops.remote.work)
        assert (result.returncode, result.stdout) == (2, "")
        assert result.stderr == (
            f"updater: error: {cfg}:5: environment 'production' is frozen: "
            "unfreeze it in the config to change its tags\n"
        )
    assert ops.remote.head() == head
    status = run("status", "--env", "production", cwd=ops.remote.work)
    assert (status.returncode, status.stderr) == (0, "")  # a frozen environment still shows its tags
    assert "error" not in status.stdout and len(status.stdout.splitlines()) == 3


def test_app_and_all_exclude_each_other(ops: GitOps) -> None:
    result = run("bump", "--env", "staging", "--app", "api", "--all", cwd=ops.remote.work)
    assert (result.returncode, result.stderr) == (
        2,
        "updater: error: give --app NAME (repeatable) or --all, not both\n",
    )


def test_commit_message_template_and_circleci_link(ops: GitOps) -> None:
    edit_config(
        ops, "scm: {provider: git}", "scm: {provider: git}\ncommit: {message: 'chore({env}): deploy {tags}'}"
    )
    env = {"CIRCLE_BUILD_URL": "https://circleci.com/gh/org/repo/123", "GITHUB_RUN_ID": ""}
    result = run("bump", "--env", "staging", "--sha", SHA, "--app", "api", cwd=ops.remote.work, env=env)
    assert (result.returncode, result.stderr) == (0, "")
    assert git("log", "-1", "--format=%B", cwd=ops.remote.bare) == (
        f"chore(staging): deploy api {TAGS[2]}\n\n"
        f"- api (staging): {TAGS[0]} -> {TAGS[2]}\n"
        f"  image: oci:{ops.registry / 'api'}\n"
        f"  digest: {ops.digests['api'][TAGS[2]]}\n"
        "  files: k8s/api/values-staging.yaml\n"
        f"Source commit: {SHA}\n"
        "CI run: https://circleci.com/gh/org/repo/123\n\n"
        "Updater-Command: bump\n\n"
    )


def test_explicit_tag_flag_overrides_the_template(ops: GitOps) -> None:
    result = run("bump", "--env", "staging", "--app", "web", "--tag", TAGS[1], "--json", cwd=ops.remote.work)
    assert (result.returncode, result.stderr) == (0, "")
    app = json.loads(result.stdout)["apps"][0]
    assert (app["old"], app["new"], app["digest"]) == (TAGS[0], TAGS[1], ops.digests["web-stage"][TAGS[1]])
    assert ops.values("web", "staging") == (
        f"web:\n  tag: '{TAGS[1]}'\n  digest: '{ops.digests['web-stage'][TAGS[1]]}'\n  replicas: 2\n".encode()
    )


def test_github_rerun_link_names_the_attempt_like_the_step_summary(ops: GitOps) -> None:
    from updater import ci

    env = {
        "GITHUB_SERVER_URL": "https://github.com",
        "GITHUB_REPOSITORY": "acme/gitops",
        "GITHUB_RUN_ID": "4242",
        "GITHUB_RUN_ATTEMPT": "2",
        "CIRCLE_BUILD_URL": "",
    }
    result = run("bump", "--env", "staging", "--sha", SHA, "--app", "api", cwd=ops.remote.work, env=env)
    assert (result.returncode, result.stderr) == (0, "")
    message = git("log", "-1", "--format=%B", cwd=ops.remote.bare)
    url = "https://github.com/acme/gitops/actions/runs/4242/attempts/2"
    assert f"CI run: {url}\n" in message.splitlines(keepends=True)
    assert f"Run: {url}\n" in ci.summary({"command": "bump", "apps": []}, ci.github_run_url(env))
