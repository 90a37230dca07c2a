"""`updater bump` as a subprocess with scm.provider github, against the loopback GitHub
(testing/github_server.py: GitHub's published REST/GraphQL API over a real bare git repository) and an
OCI image layout on disk as the registry."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from testing.cli import run
from testing.github_server import GitHubServer, start_github
from testing.oci_layout import LayoutImage, build_layout, utc

TOKEN = "ghp_" + "Cl1T0k" * 7
SHA = "4f9e2d1c0b3a5968778695a4b3c2d1e0f9a8b7c6"
OLD, NEW = "stage-0a1b2c3-1700000000", "stage-4f9e2d1-1700003600"
APPS = ("api", "web", "worker")


def values(app: str, tag: str) -> bytes:
    return f"image:\n  repository: example/{app}\n  tag: {tag}  # set by updater\n".encode()


@pytest.fixture
def setup(tmp_path: Path) -> Iterator[tuple[GitHubServer, Path]]:
    images = {}
    for app in APPS:
        root = tmp_path / "registry" / app
        build_layout(
            root, [LayoutImage([OLD], utc(2023, 11, 14, 22)), LayoutImage([NEW], utc(2023, 11, 14, 23))]
        )
        images[app] = f"oci:{root}"
    apps = "".join(
        f"  {app}:\n    image: {images[app]}\n"
        f"    values: {{staging: k8s/{app}/values-stage.yaml, production: k8s/{app}/values-prod.yaml}}\n"
        "    key: image.tag\n"
        for app in APPS
    )
    config = (
        "version: 1\nscm: {provider: github, repository: acme/gitops}\n"
        "environments:\n"
        '  staging: {branch: main, mode: commit, tag: "stage-{sha:7}-*"}\n'
        '  production: {branch: main, mode: pull-request, tag: "stage-{sha:7}-*"}\n'
        f"apps:\n{apps}"
    )
    files = {f"k8s/{a}/values-{e}.yaml": values(a, OLD) for a in APPS for e in ("stage", "prod")}
    files[".updater.yaml"] = config.encode()
    (tmp_path / ".updater.yaml").write_text(config)
    with start_github(tmp_path / "github", files, token=TOKEN) as server:
        yield server, tmp_path / ".updater.yaml"
        assert server.validation_errors == []


def bump(server: GitHubServer, config: Path, *args: str) -> tuple[int, str, str]:
    env = {"GITHUB_TOKEN": TOKEN, "GITHUB_API_URL": server.url, "UPDATER_RETRY_BUDGET": "5"}
    done = run(*args, "--config", str(config), "--sha", SHA, env=env)
    return done.returncode, done.stdout, done.stderr


def test_bump_commit_mode_with_debug_never_prints_the_token(setup: tuple[GitHubServer, Path]) -> None:
    server, config = setup
    code, out, err = bump(server, config, "--debug", "bump", "--env", "staging", "--all")
    assert code == 0, err
    for app in APPS:
        assert server.read("main", f"k8s/{app}/values-stage.yaml") == values(app, NEW)
        assert server.read("main", f"k8s/{app}/values-prod.yaml") == values(app, OLD)
    head = server.state.ref_oid("main")
    assert head and len(server.repo.changed_paths(head)) == 3  # one commit for all three apps
    assert "github.Requester" in err  # PyGithub's request log is shown with --debug ...
    assert TOKEN not in out + err  # ... and the token never is


def test_bump_pull_request_mode_then_rerun(setup: tuple[GitHubServer, Path]) -> None:
    server, config = setup
    base = server.state.ref_oid("main")
    code, _, err = bump(server, config, "bump", "--env", "production", "--all")
    assert code == 0, err
    [pr] = server.state.pulls.values()
    assert pr.base == "main" and pr.state == "OPEN"
    head = server.state.ref_oid(pr.head)
    assert head and server.repo.commit(head).parents == (base,)
    assert server.read(pr.head, "k8s/web/values-prod.yaml") == values("web", NEW)
    assert server.state.ref_oid("main") == base

    code, _, err = bump(server, config, "bump", "--env", "production", "--all")
    assert code == 0, err
    assert len(server.state.pulls) == 1 and server.state.ref_oid(pr.head) == head  # same PR, no new commit


def test_bump_permanent_failure_exits_1_without_an_orphan_branch(setup: tuple[GitHubServer, Path]) -> None:
    server, config = setup
    server.state.refuse_pull_requests = "Resource not accessible by integration"
    code, out, err = bump(server, config, "bump", "--env", "production", "--app", "api")
    assert code == 1
    [line] = err.strip().splitlines()
    assert line.startswith("updater: error: ") and "Resource not accessible by integration" in line
    assert [name for name in server.repo.refs() if name != "refs/heads/main"] == []
    assert TOKEN not in out + err
