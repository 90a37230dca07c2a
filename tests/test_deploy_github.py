"""`updater bump --wait-deployed` with scm.provider github: ancestry through GitHub's compare API.

The loopback GitHub (testing/github_server.py) and the loopback Argo CD (testing/argocd_server.py)
share one bare repository, so Argo CD deploys exactly what the CLI committed through GitHub's API,
and whatever else lands on the branch in between.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from testing.argocd_server import AppSpec, ArgoCD, Grant, ImageSource, start_argocd
from testing.cli import run
from testing.github_git import ZERO
from testing.github_server import GitHubServer, start_github
from testing.oci_layout import LayoutImage, build_layout, utc
from updater.scm.github import open_github

TOKEN = "ghp_" + "Dep1oy" * 7
ARGO_TOKEN = "argocd-gh-secret-0042"
SHA = "4f9e2d1c0b3a5968778695a4b3c2d1e0f9a8b7c6"
OLD, NEW = "stage-0a1b2c3-1700000000", "stage-4f9e2d1-1700003600"
VALUES = "k8s/api/values-stage.yaml"


def values(tag: str) -> bytes:
    return f"image:\n  repository: example/api\n  tag: {tag}\n".encode()


@dataclass
class Setup:
    github: GitHubServer
    argocd: ArgoCD
    config: Path


def _spec(target: str = "main") -> AppSpec:
    source = ImageSource("example/api", VALUES, "image.tag")
    return AppSpec("api-staging", "k8s/api", ("values-stage.yaml",), (source,), target_revision=target)


@pytest.fixture
def setup(tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[Setup]:
    layout = tmp_path / "registry" / "api"
    build_layout(
        layout, [LayoutImage([OLD], utc(2023, 11, 14, 22)), LayoutImage([NEW], utc(2023, 11, 14, 23))]
    )
    files = {VALUES: values(OLD), "docs/README.md": b"docs\n"}
    target = getattr(request, "param", "main")
    with start_github(tmp_path / "github", files, token=TOKEN) as github:
        repo = github.repo
        repo.update_ref("refs/heads/frozen", github.state.ref_oid("main") or "", ZERO)
        with start_argocd(
            repo.path, [_spec(target)], {ARGO_TOKEN: Grant()}, sync_delay=0.5, health_delay=0.5
        ) as argo:
            config = tmp_path / ".updater.yaml"
            config.write_text(
                "version: 1\nscm: {provider: github, repository: acme/gitops}\n"
                'environments:\n  staging: {branch: main, mode: commit, tag: "stage-{sha:7}-*"}\n'
                f"apps:\n  api:\n    image: oci:{layout}\n    values: {{staging: {VALUES}}}\n"
                "    key: image.tag\n"
                f"deploy:\n  server: {argo.url}\n"
            )
            yield Setup(github, argo, config)
            assert argo.invalid == []
        assert github.validation_errors == []


def _bump(s: Setup, wait: str) -> tuple[int, dict[str, object] | None, str]:
    env = {
        "GITHUB_TOKEN": TOKEN,
        "GITHUB_API_URL": s.github.url,
        "ARGOCD_AUTH_TOKEN": ARGO_TOKEN,
        "UPDATER_RETRY_BUDGET": "5",
    }
    done = run(
        "bump", "--config", str(s.config), "--env", "staging", "--app", "api", "--sha", SHA,
        "--wait-deployed", wait, "--json", env=env, timeout=120,
    )  # fmt: skip
    out = json.loads(done.stdout) if done.stdout.strip() else None
    return done.returncode, out, done.stderr


def _compares(s: Setup) -> list[str]:
    return [what for kind, method, what in s.github.log if kind == "rest" and "/compare/" in what]


def _land_after_ours(s: Setup, files: dict[str, bytes], branch: str = "main") -> list[str]:
    """Once updater's commit lands, commit `files` on `branch` at once (another job's push), before
    Argo CD has looked; return (filled in) [ours, theirs]."""
    repo = s.github.repo
    seen: list[str] = []
    pushed = repo.on_update

    def after(ref: str) -> None:
        if pushed is not None:
            pushed(ref)
        if seen or ref != "refs/heads/main":
            return
        ours = repo.resolve("refs/heads/main")
        seen.append(ours)
        parent = repo.resolve(f"refs/heads/{branch}")
        tree = repo.write_tree(repo.commit(parent).tree, {p: ("100644", c) for p, c in files.items()})
        theirs = repo.commit_tree(tree, [parent], "someone else's change", ("Someone", "someone@example.com"))
        seen.append(theirs)
        assert repo.update_ref(f"refs/heads/{branch}", theirs, parent)

    repo.on_update = after
    return seen


def test_a_later_unrelated_commit_before_argo_cd_reconciles_still_succeeds(setup: Setup) -> None:
    landed = _land_after_ours(setup, {"docs/README.md": b"docs, edited by someone else\n"})
    code, out, err = _bump(setup, "30s")
    assert code == 0, err
    assert out is not None
    ours, theirs = landed
    assert out["commit"] == ours and setup.github.state.ref_oid("main") == theirs
    deploy = out["deploy"]
    assert isinstance(deploy, dict)
    (app,) = deploy["apps"]
    assert deploy["ok"] is True and app["state"] == "healthy"
    assert app["revision"] == theirs  # Argo CD runs the later commit, which descends from ours
    # One compare for the pair, however often the wait polled (answers are kept for the run).
    assert _compares(setup) == [f"/repos/acme/gitops/compare/{ours}...{theirs}"]


@pytest.mark.parametrize("setup", ["frozen"], indirect=True)
def test_a_revision_that_does_not_descend_from_ours_is_never_success(setup: Setup) -> None:
    # Argo CD follows `frozen`, where someone else wrote the same tag on the parent of our commit:
    # same images, Synced and Healthy, but not our commit: never a success.
    landed = _land_after_ours(setup, {VALUES: values(NEW)}, branch="frozen")
    code, out, err = _bump(setup, "4s")
    assert code == 1, err
    ours, theirs = landed
    assert out is not None and out["commit"] == ours
    deploy = out["deploy"]
    assert isinstance(deploy, dict)
    (app,) = deploy["apps"]
    assert deploy["ok"] is False and app["state"] == "timeout"
    assert app["revision"] == theirs and app["images"] == [f"example/api:{NEW}"]
    assert app["health"] == "Healthy" and app["sync"] == "Synced"
    assert _compares(setup) == [f"/repos/acme/gitops/compare/{ours}...{theirs}"]


def test_compare_answers_each_pair_once_and_a_404_is_not_a_descendant(tmp_path: Path) -> None:
    with start_github(tmp_path / "github", {VALUES: values(OLD)}, token=TOKEN) as github:
        repo = github.repo
        parent = github.state.ref_oid("main") or ""
        tree = repo.write_tree(repo.commit(parent).tree, {VALUES: ("100644", values(NEW))})
        child = repo.commit_tree(tree, [parent], "ours")
        backend = open_github("acme/gitops", token=TOKEN, base_url=github.url)
        descends = backend.descends  # type: ignore[attr-defined]
        unknown = "f" * 40
        assert descends("main", parent, child) is True  # "ahead"
        assert descends("main", child, parent) is False  # "behind": Argo CD still on the parent
        assert descends("main", child, unknown) is False  # 404: not yet, not a crash
        assert descends("main", child, unknown) is False  # ... and asked again (GitHub may learn it)
        assert descends("main", parent, child) is True  # kept: no new call
        assert descends("main", child, child) is True  # the same commit: no call
        assert descends("main", child, "main~1") is False  # not a SHA: never reaches a URL
        calls = [what for kind, _, what in github.log if kind == "rest" and "/compare/" in what]
        assert calls == [
            f"/repos/acme/gitops/compare/{parent}...{child}",
            f"/repos/acme/gitops/compare/{child}...{parent}",
            f"/repos/acme/gitops/compare/{child}...{unknown}",
            f"/repos/acme/gitops/compare/{child}...{unknown}",
        ]
        assert github.validation_errors == []
