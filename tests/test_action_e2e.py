"""The action's entrypoint run the way the GitHub runner runs it, end to end.

`python -m updater.action` gets INPUT_* variables (hyphens kept), GITHUB_OUTPUT, GITHUB_STEP_SUMMARY,
GITHUB_SHA, GITHUB_SERVER_URL, GITHUB_RUN_ID and GITHUB_REPOSITORY, and runs the real CLI against
Debian's real docker-registry on 127.0.0.1 (htpasswd auth, credentials given as a docker config) and a
real bare git remote. Nothing is mocked.
"""

from __future__ import annotations

import base64
import itertools
import json
import os
import re
import socket
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

import pytest
from test_action import inputs_env, parse_github_output

from testing.gitrepo import Remote, git, make_remote
from testing.registry import RunningRegistry, push_image, start_registry

ROOT = Path(__file__).resolve().parent.parent
SHA = "1a2b3c4d5e6f77889900aabbccddeeff00112233"
SERVER = "https://ghe.example.test"
BUILT = datetime(2026, 11, 20, 12, 0, tzinfo=timezone.utc)
API_VALUES = "image:\n  repository: apps/api\n  tag: stage-api-0000000 # pinned by updater\n"
WORKER_VALUES = 'replicas: 2\nimage:\n  tag: "stage-worker-0000000"\n'


@dataclass(frozen=True)
class Pushed:
    registry: RunningRegistry
    digests: dict[str, str]  # app -> digest of stage-<app>-<SHA:7>


@pytest.fixture(scope="module")
def pushed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Pushed]:
    """A real registry requiring a password, holding this commit's build of `api` and `worker`."""
    registry = start_registry(tmp_path_factory.mktemp("registry"), auth="htpasswd")
    try:
        digests = {
            app: push_image(
                registry.host,
                f"apps/{app}",
                [f"stage-{app}-{SHA[:7]}"],
                created=BUILT,
                auth=registry.credentials,
            )
            for app in ("api", "worker")
        }
        yield Pushed(registry, digests)
    finally:
        registry.stop()


def docker_config_json(registry: RunningRegistry) -> str:
    """A docker config.json holding the registry's password, as a CI secret would."""
    user, password = registry.credentials or ("", "")
    auth = base64.b64encode(f"{user}:{password}".encode()).decode()
    return json.dumps({"auths": {registry.host: {"auth": auth}}})


def gitops_repo(tmp: Path, registry_host: str, scm: str) -> dict[str, str]:
    """The files of a GitOps repo with two apps on staging; `scm` is the config's scm block."""
    config = f"""version: 1
{scm}
environments:
  staging:
    branch: main
    mode: commit
    tag: "stage-{{app}}-{{sha:7}}"
apps:
  api:
    image: {registry_host}/apps/api
    values: {{staging: k8s/api/values-stage.yaml}}
    key: image.tag
  worker:
    image: {registry_host}/apps/worker
    values: {{staging: k8s/worker/values-stage.yaml}}
    key: image.tag
"""
    return {
        ".updater.yaml": config,
        "k8s/api/values-stage.yaml": API_VALUES,
        "k8s/worker/values-stage.yaml": WORKER_VALUES,
    }


def make_gitops(tmp: Path, registry: RunningRegistry) -> Remote:
    remote_dir = tmp / "gitops"
    return make_remote(
        remote_dir, gitops_repo(tmp, registry.host, f"scm:\n  provider: git\n  url: {remote_dir}/remote.git")
    )


def runner_env(workspace: Path, tmp: Path, inputs: dict[str, str]) -> dict[str, str]:
    """The environment a Docker action sees: inputs, the runner's GITHUB_* variables, its files."""
    output, summary = tmp / "github_output", tmp / "step_summary"
    output.touch()
    summary.touch()
    base = {
        k: v for k, v in os.environ.items() if not k.startswith(("INPUT_", "GITHUB_", "CIRCLE", "UPDATER_"))
    }
    return {
        **base,
        "PYTHONPATH": str(ROOT),
        "HOME": str(tmp),
        "GITHUB_ACTIONS": "true",
        "GITHUB_WORKSPACE": str(workspace),
        "GITHUB_SHA": SHA,
        # Not github.com (the default): the run links below prove the variable is read.
        "GITHUB_SERVER_URL": SERVER,
        "GITHUB_REPOSITORY": "acme/monorepo",
        "GITHUB_RUN_ID": "4242",
        "GITHUB_OUTPUT": str(output),
        "GITHUB_STEP_SUMMARY": str(summary),
        **inputs_env(**inputs),
    }


def run_action(env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "updater.action"],
        env=env,
        cwd=env["GITHUB_WORKSPACE"],
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_action_bumps_every_changed_app_in_one_commit(tmp_path: Path, pushed: Pushed) -> None:
    remote = make_gitops(tmp_path, pushed.registry)
    before = remote.head()
    token = "ghs_" + "T0k3n" * 7 + "x"
    docker = docker_config_json(pushed.registry)
    env = runner_env(remote.work, tmp_path, {"env": "staging", "apps": "api worker", "token": token,
                                            "docker-config": docker})  # fmt: skip
    proc = run_action(env)
    assert proc.returncode == 0, proc.stdout + proc.stderr

    outputs = parse_github_output(Path(env["GITHUB_OUTPUT"]).read_text())
    head = remote.head()
    assert outputs["changed"] == "true"
    assert json.loads(outputs["tags"]) == {"api": "stage-api-1a2b3c4", "worker": "stage-worker-1a2b3c4"}
    assert json.loads(outputs["digests"]) == pushed.digests
    assert json.loads(outputs["changed-apps"]) == ["api", "worker"]
    assert (outputs["tag"], outputs["digest"]) == ("", "")
    assert outputs["commit-sha"] == head
    assert (outputs["pr-number"], outputs["pr-url"]) == ("", "")
    assert json.loads(outputs["json"])["command"] == "bump"

    summary = Path(env["GITHUB_STEP_SUMMARY"]).read_text()
    assert summary == (
        "### updater bump\n\n"
        "| App | Env | Old | New | PR |\n"
        "| --- | --- | --- | --- | --- |\n"
        "| `api` | `staging` | `stage-api-0000000` | `stage-api-1a2b3c4` | — |\n"
        "| `worker` | `staging` | `stage-worker-0000000` | `stage-worker-1a2b3c4` | — |\n\n"
        f"Commit: `{head}`\n"
        "Run: https://ghe.example.test/acme/monorepo/actions/runs/4242\n"
    )

    # ONE commit, only the tag bytes changed, and it links the source commit and the run.
    assert git("rev-list", f"{before}..{head}", cwd=remote.bare).split() == [head]
    assert remote.show("k8s/api/values-stage.yaml").decode() == API_VALUES.replace("0000000", "1a2b3c4")
    assert remote.show("k8s/worker/values-stage.yaml").decode() == WORKER_VALUES.replace("0000000", "1a2b3c4")
    message = git("log", "-1", "--format=%B", head, cwd=remote.bare)
    assert SHA in message and "https://ghe.example.test/acme/monorepo/actions/runs/4242" in message

    # Secrets: announced to the runner first, never printed anywhere else.
    _, password = pushed.registry.credentials or ("", "")
    lines = proc.stdout.splitlines()
    masks = {line for line in lines if line.startswith("::add-mask::")}
    assert f"::add-mask::{token}" in masks and f"::add-mask::{password}" in masks
    assert lines.index(f"::add-mask::{token}") < min(
        n for n, line in enumerate(lines) if not line.startswith("::add-mask::")
    )
    rest = "\n".join(line for line in lines if not line.startswith("::add-mask::")) + proc.stderr
    assert token not in rest and password not in rest


def test_action_rerun_changes_nothing(tmp_path: Path, pushed: Pushed) -> None:
    remote = make_gitops(tmp_path, pushed.registry)
    inputs = {"env": "staging", "apps": "all", "docker-config": docker_config_json(pushed.registry)}
    (tmp_path / "first").mkdir()
    first = run_action(runner_env(remote.work, tmp_path / "first", inputs))
    assert first.returncode == 0, first.stderr
    head = remote.head()
    (tmp_path / "again").mkdir()
    env = runner_env(remote.work, tmp_path / "again", inputs)
    again = run_action(env)
    assert again.returncode == 0, again.stderr
    assert remote.head() == head
    outputs = parse_github_output(Path(env["GITHUB_OUTPUT"]).read_text())
    assert (outputs["changed"], outputs["commit-sha"], outputs["changed-apps"]) == ("false", "", "[]")
    assert (
        "| `api` | `staging` | `stage-api-1a2b3c4` | `stage-api-1a2b3c4` (unchanged) | — |"
        in Path(env["GITHUB_STEP_SUMMARY"]).read_text()
    )


def test_action_missing_image_fails_with_an_annotation_and_changes_nothing(
    tmp_path: Path, pushed: Pushed
) -> None:
    remote = make_gitops(tmp_path, pushed.registry)
    head = remote.head()
    inputs = {
        "env": "staging",
        "apps": "api",
        "sha": "f" * 40,
        "docker-config": docker_config_json(pushed.registry),
    }
    env = runner_env(remote.work, tmp_path, inputs)
    proc = run_action(env)
    assert proc.returncode == 2, proc.stdout  # the tag CI should have pushed is missing: an input error
    errors = [line for line in proc.stdout.splitlines() if line.startswith("::error title=updater::")]
    assert len(errors) == 1 and "fffffff" in errors[0]
    # The CLI's log is copied with workflow commands stopped, so nothing in it can act as one.
    lines = proc.stdout.splitlines()
    # Two inert blocks: the command line, then the CLI's log.
    _, stop = [n for n, line in enumerate(lines) if line.startswith("::stop-commands::")]
    resume = lines.index(f"::{lines[stop].removeprefix('::stop-commands::')}::")
    assert lines[resume - 1].startswith("updater: error: ") and "fffffff" in lines[resume - 1]
    assert stop < resume < lines.index(errors[0])
    assert Path(env["GITHUB_OUTPUT"]).read_text() == ""
    assert remote.head() == head


def test_action_status_summarises_every_app(tmp_path: Path, pushed: Pushed) -> None:
    remote = make_gitops(tmp_path, pushed.registry)
    inputs = {"command": "status", "env": "staging", "docker-config": docker_config_json(pushed.registry)}
    env = runner_env(remote.work, tmp_path, inputs)
    proc = run_action(env)
    assert proc.returncode == 0, proc.stdout
    outputs = parse_github_output(Path(env["GITHUB_OUTPUT"]).read_text())
    rows = json.loads(outputs["json"])["rows"]
    assert [(r["app"], r["env"], r["tag"]) for r in rows] == [
        ("api", "staging", "stage-api-0000000"),
        ("worker", "staging", "stage-worker-0000000"),
    ]
    assert outputs["changed"] == "false"
    summary = Path(env["GITHUB_STEP_SUMMARY"]).read_text()
    assert summary.startswith("### updater status\n\n| App | Env | Tag | Newest | State |\n")
    # The tag in git was never pushed to this registry: its build time is unknown, so no behind/ahead.
    assert [r["state"] for r in rows] == ["not in registry", "not in registry"]
    assert "| `api` | `staging` | `stage-api-0000000` | `stage-api-1a2b3c4` | not in registry |\n" in summary
    assert (
        "| `worker` | `staging` | `stage-worker-0000000` | `stage-worker-1a2b3c4` | not in registry |\n"
        in summary
    )


def test_action_accepts_a_workspace_owned_by_another_user(tmp_path: Path, pushed: Pushed) -> None:
    # The runner's checkout belongs to the runner's uid, the container runs as another one: git refuses
    # such a repository ("dubious ownership") unless the action marks GITHUB_WORKSPACE safe for itself.
    assert os.geteuid() == 0, "the suite runs as root here, so it can hand the checkout to another uid"
    remote_dir = tmp_path / "gitops"
    remote = make_remote(remote_dir, gitops_repo(tmp_path, pushed.registry.host, "scm:\n  provider: git"))
    subprocess.run(["chown", "-R", "12345:12345", str(remote.work)], check=True)
    refused = subprocess.run(["git", "remote", "get-url", "origin"], cwd=remote.work, capture_output=True)
    assert b"dubious ownership" in refused.stderr
    inputs = {"env": "staging", "apps": "api", "docker-config": docker_config_json(pushed.registry)}
    env = runner_env(remote.work, tmp_path, inputs)
    proc = run_action(env)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert remote.show("k8s/api/values-stage.yaml").decode() == API_VALUES.replace("0000000", "1a2b3c4")
    # Only this process trusts the workspace: the user's own git config is left alone.
    assert not (tmp_path / ".gitconfig").exists()


def test_action_masks_secrets_given_only_in_the_environment(tmp_path: Path, pushed: Pushed) -> None:
    # The registry password reaches the CLI through UPDATER_REGISTRY_PASSWORD alone (no docker config,
    # no input), and a GitHub App key sits in the environment: the runner knows neither, so the action
    # announces both (the key line by line) before printing anything, and neither shows up anywhere else.
    remote = make_gitops(tmp_path, pushed.registry)
    user, password = pushed.registry.credentials or ("", "")
    body = [base64.b64encode(os.urandom(48)).decode() for _ in range(3)]
    key = "-----BEGIN PRIVATE KEY-----\n" + "\n".join(body) + "\n-----END PRIVATE KEY-----\n"
    env = runner_env(remote.work, tmp_path, {"env": "staging", "apps": "api", "debug": "true"})
    env |= {"UPDATER_REGISTRY_USERNAME": user, "UPDATER_REGISTRY_PASSWORD": password,
            "UPDATER_GITHUB_APP_PRIVATE_KEY": key}  # fmt: skip
    proc = run_action(env)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert remote.show("k8s/api/values-stage.yaml").decode() == API_VALUES.replace("0000000", "1a2b3c4")

    lines = proc.stdout.splitlines()
    first = list(itertools.takewhile(lambda line: line.startswith("::add-mask::"), lines))
    assert first[0] == f"::add-mask::{password}"
    assert {f"::add-mask::{line}" for line in body} <= set(first)
    assert not any("BEGIN PRIVATE KEY" in line and "%0A" not in line for line in first)
    assert not any(line.startswith("::add-mask::") for line in lines[len(first) :])
    rest = "\n".join(lines[len(first) :]) + proc.stderr
    rest += Path(env["GITHUB_OUTPUT"]).read_text() + Path(env["GITHUB_STEP_SUMMARY"]).read_text()
    assert re.search(r"GET http://\S+/v2/", proc.stdout + proc.stderr)  # --debug logged the registry requests
    for secret in (password, *body):
        assert secret not in rest


def test_action_registry_down_fails_with_exit_1_and_changes_nothing(tmp_path: Path) -> None:
    # A registry that refuses connections is a remote failure (exit 1), not the user's input (exit 2).
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        down = f"127.0.0.1:{probe.getsockname()[1]}"
    remote_dir = tmp_path / "gitops"
    remote = make_remote(
        remote_dir, gitops_repo(tmp_path, down, f"scm:\n  provider: git\n  url: {remote_dir}/remote.git")
    )
    head = remote.head()
    env = runner_env(remote.work, tmp_path, {"env": "staging", "apps": "api", "retry-budget": "1"})
    proc = run_action(env)
    assert proc.returncode == 1, proc.stdout
    errors = [line for line in proc.stdout.splitlines() if line.startswith("::error title=updater::")]
    assert len(errors) == 1 and down in errors[0]
    assert Path(env["GITHUB_OUTPUT"]).read_text() == ""
    assert remote.head() == head
