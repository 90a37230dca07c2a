"""The action's entrypoint against GitHub and the registry, end to end, as the runner runs it.

GitHub is the loopback server of testing/github_server.py (it follows GitHub's published REST and
GraphQL API on top of a real bare git repository; github.com cannot be reached from tests); the
registry is Debian's real docker-registry on 127.0.0.1 with htpasswd auth. The CLI under the action
uses the real PyGithub client. Inputs arrive as INPUT_* with hyphens (INPUT_GITHUB-URL).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from test_action import parse_github_output
from test_action_e2e import SHA, Pushed, docker_config_json, pushed, run_action, runner_env  # noqa: F401

from testing.github_server import GitHubServer, new_token, start_github

STAGE = b"image:\n  repository: apps/api\n  tag: stage-api-0000000\n"
PROD = b"image:\n  repository: apps/api\n  tag: stage-api-0000000 # production\n"


def config(registry_host: str) -> str:
    return f"""version: 1
scm:
  provider: github
  repository: acme/gitops
environments:
  staging:
    branch: main
    mode: commit
    tag: "stage-{{app}}-{{sha:7}}"
  production:
    branch: main
    mode: pull-request
    promote-from: staging
apps:
  api:
    image: {registry_host}/apps/api
    values: {{staging: k8s/api/values-stage.yaml, production: k8s/api/values-prod.yaml}}
    key: image.tag
"""


@contextmanager
def gitops_on_github(
    tmp_path: Path, text: str, stage: bytes = STAGE, checkout: str = "workspace"
) -> Iterator[tuple[GitHubServer, str, Path]]:
    """A loopback GitHub holding the GitOps repo (config `text`, the api app's two values files), its
    token, and a checkout of the repo holding the config, as a runner's workspace would."""
    files = {
        ".updater.yaml": text.encode(),
        "k8s/api/values-stage.yaml": stage,
        "k8s/api/values-prod.yaml": PROD,
    }
    token = new_token()
    workspace = tmp_path / checkout
    workspace.mkdir()
    (workspace / ".updater.yaml").write_text(text)
    with start_github(tmp_path / "github", files, token=token) as server:
        yield server, token, workspace


@pytest.fixture
def github(tmp_path: Path, pushed: Pushed) -> Iterator[tuple[GitHubServer, str, Path]]:  # noqa: F811
    """A loopback GitHub holding the GitOps repo, its token, and the workspace (the repo's checkout)."""
    with gitops_on_github(tmp_path, config(pushed.registry.host)) as github:
        yield github


def step(tmp: Path, name: str, workspace: Path, inputs: dict[str, str]) -> tuple[dict[str, str], str, str]:
    """Run one action step; return its outputs, its step summary and its log (stdout + stderr)."""
    (tmp / name).mkdir()
    env = runner_env(workspace, tmp / name, inputs)
    proc = run_action(env)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    outputs = parse_github_output(Path(env["GITHUB_OUTPUT"]).read_text())
    return outputs, Path(env["GITHUB_STEP_SUMMARY"]).read_text(), proc.stdout + proc.stderr


def test_bump_then_promote_by_pull_request(
    tmp_path: Path,
    pushed: Pushed,  # noqa: F811
    github: tuple[GitHubServer, str, Path],
) -> None:
    server, token, workspace = github
    login = {"token": token, "github-url": server.url, "docker-config": docker_config_json(pushed.registry)}

    # Bump staging: one commit on main through the API, single-app outputs are plain values.
    outputs, summary, log = step(tmp_path, "bump", workspace, {"env": "staging", "apps": "api", **login})
    head = server.state.ref_oid("main")
    assert outputs["changed"] == "true"
    assert (outputs["tag"], outputs["digest"]) == ("stage-api-1a2b3c4", pushed.digests["api"])
    assert outputs["commit-sha"] == head
    assert server.read("main", "k8s/api/values-stage.yaml") == STAGE.replace(b"0000000", b"1a2b3c4")
    assert server.read("main", "k8s/api/values-prod.yaml") == PROD
    assert "| `api` | `staging` | `stage-api-0000000` | `stage-api-1a2b3c4` | — |" in summary
    assert f"::add-mask::{token}" in log.splitlines()[0]
    assert token not in "\n".join(log.splitlines()[1:])

    # Promote to production: the config's pull-request mode opens a PR; outputs and summary link it.
    outputs, summary, log = step(
        tmp_path, "promote", workspace, {"command": "promote", "to": "production", **login}
    )
    (pr,) = server.state.pulls.values()
    assert (outputs["pr-number"], outputs["changed"]) == (str(pr.number), "true")
    assert outputs["pr-url"].endswith(f"/acme/gitops/pull/{pr.number}")
    assert json.loads(outputs["tags"]) == {"api": "stage-api-1a2b3c4"}
    assert server.state.ref_oid("main") == head  # production changes wait in the PR
    assert server.read(pr.head, "k8s/api/values-prod.yaml") == PROD.replace(b"0000000", b"1a2b3c4")
    assert f"| [#{pr.number}]({outputs['pr-url']}) |" in summary
    assert "| `api` | `production` | `stage-api-0000000` | `stage-api-1a2b3c4` |" in summary
    assert token not in "\n".join(log.splitlines()[1:])

    # Promoting again with nothing new changes nothing and opens nothing, and reports the pull request
    # that already carries the change: its number, link and head commit, with changed "false".
    pr_head = server.state.ref_oid(pr.head)
    again, summary, _ = step(
        tmp_path, "again", workspace, {"command": "promote", "to": "production", **login}
    )
    assert len(server.state.pulls) == 1 and server.state.ref_oid(pr.head) == pr_head
    assert (again["changed"], again["changed-apps"]) == ("false", "[]")
    assert (again["pr-number"], again["pr-url"]) == (outputs["pr-number"], outputs["pr-url"])
    assert (again["commit-sha"], again["tag"]) == (pr_head, "stage-api-1a2b3c4")
    assert f"| `api` | `production` | `stage-api-0000000` | `stage-api-1a2b3c4` | [#{pr.number}](" in summary
    assert f"Note: pull request #{pr.number} already has these changes\n" in summary


def test_mode_and_wait_merged_inputs_land_by_auto_merge(
    tmp_path: Path,
    pushed: Pushed,  # noqa: F811
    github: tuple[GitHubServer, str, Path],
) -> None:
    server, token, workspace = github
    login = {"token": token, "github-url": server.url, "docker-config": docker_config_json(pushed.registry)}
    base = server.state.ref_oid("main")
    # staging commits straight to main in the config; the `mode` input sends it through a PR that is
    # merged (clean: merged directly) before the step ends, as `wait-merged` asks.
    inputs = {"env": "staging", "apps": "api", "mode": "auto-merge", "wait-merged": "30s", **login}
    outputs, summary, log = step(tmp_path, "bump", workspace, inputs)
    (pr,) = server.state.pulls.values()
    assert pr.state == "MERGED" and outputs["pr-number"] == str(pr.number)
    assert f"[#{pr.number}]({outputs['pr-url']})" in summary
    assert "--mode auto-merge --wait-merged 30s" in log and f"--github-url {server.url}" in log
    assert server.state.ref_oid("main") != base
    assert server.read("main", "k8s/api/values-stage.yaml") == STAGE.replace(b"0000000", b"1a2b3c4")
    assert token not in "\n".join(log.splitlines()[1:])
