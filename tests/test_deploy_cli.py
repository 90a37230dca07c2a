"""`--wait-deployed`, `--rollback-on-failure`, `updater deployed` and `status --live` through the real CLI,
against the loopback Argo CD over the same bare git repository the CLI pushes to."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from testing.argocd_server import AppSpec, ArgoCD, Grant, ImageSource, start_argocd
from testing.cli import run
from testing.gitrepo import TAGS, GitOps, two_env_gitops
from updater.commands import deploy_options

TOKEN = "argocd-cli-secret-0042"
ENV = {"ARGOCD_AUTH_TOKEN": TOKEN}
SYNC, HEALTH = 1.0, 1.0


def _apps() -> list[AppSpec]:
    def app(name: str, env: str, **kwargs: Any) -> AppSpec:
        values = f"k8s/{name}/values-{env}.yaml"
        key = "image.tag" if name == "api" else "web.tag"
        source = ImageSource(f"example/{name}", values, key)
        return AppSpec(f"{name}-{env}", f"k8s/{name}", (f"values-{env}.yaml",), (source,), **kwargs)

    return [
        app("api", "staging"),
        app("web", "staging"),
        app("api", "production", automated=False),
        app("web", "production", automated=False),
    ]


@contextmanager
def _argocd(ops: GitOps, **options: Any) -> Iterator[ArgoCD]:
    options = {"sync_delay": SYNC, "health_delay": HEALTH, **options}
    with start_argocd(ops.remote.bare, _apps(), {TOKEN: Grant()}, **options) as server:
        config = (ops.remote.work / ".updater.yaml").read_text()
        ops.remote.commit({".updater.yaml": config + f"deploy:\n  server: {server.url}\n"}, "deploy section")
        server.controller.advance()
        yield server
        assert server.invalid == []


@pytest.fixture
def ops(tmp_path: Path) -> GitOps:
    return two_env_gitops(tmp_path)


def _updater(ops: GitOps, *args: str, env: dict[str, str] | None = None) -> Any:
    return run(*args, cwd=ops.remote.work, env={**ENV, **(env or {})}, timeout=120)


def test_bump_then_wait_is_healthy_in_about_one_sync_not_the_180s_poll(ops: GitOps) -> None:
    with _argocd(ops) as server:
        started = time.monotonic()
        result = _updater(
            ops,
            "--debug",
            "bump",
            "--env",
            "staging",
            "--app",
            "api",
            "--sha",
            "1b2c3d4",
            "--wait-deployed",
            "60s",
            "--json",
        )
        took = time.monotonic() - started
        assert result.returncode == 0, result.stderr
        out = json.loads(result.stdout)
        (app,) = out["deploy"]["apps"]
        assert out["deploy"]["ok"] is True and app["state"] == "healthy"
        assert app["revision"] == out["commit"] == ops.remote.head()
        assert app["images"] == [f"example/api:{TAGS[1]}"] and app["sync"] == "Synced"
        # One sync and one rollout after the refresh, far from Argo CD's 180 s git poll.
        assert SYNC + HEALTH <= app["healthy_after"] < 10 and took < 30
        assert app["synced_after"] <= app["healthy_after"]
        assert server.counts["refresh"] == 1
        assert "argocd: api (staging, api-staging): healthy" in result.stderr
        assert TOKEN not in result.stdout + result.stderr  # --debug logs every request, masked


def test_without_the_refresh_a_stale_synced_status_is_never_success(ops: GitOps) -> None:
    # Argo CD is slow to act on the refresh: for 3 s it answers Synced + Healthy at the OLD commit.
    with _argocd(ops, refresh_lag=3.0) as server:
        old = ops.remote.head()
        started = time.monotonic()
        result = _updater(
            ops,
            "bump",
            "--env",
            "staging",
            "--app",
            "api",
            "--sha",
            "1b2c3d4",
            "--wait-deployed",
            "60s",
            "--json",
        )
        assert result.returncode == 0, result.stderr
        (app,) = json.loads(result.stdout)["deploy"]["apps"]
        assert app["revision"] != old and app["healthy_after"] >= 3.0 + SYNC + HEALTH - 0.5
        assert time.monotonic() - started >= 3.0
        assert "has not compared" in result.stderr  # it saw the stale answer and kept waiting
        # And with a deadline shorter than the lag, the stale green status makes it fail, not pass.
        late = _updater(
            ops, "bump", "--env", "staging", "--app", "api", "--sha", "4f9e2d1", "--wait-deployed", "2s"
        )
        assert late.returncode == 1
        assert "api (staging, api-staging): timeout: not deployed after 2s" in late.stderr
        assert server.counts["refresh"] == 2


def test_degraded_exits_1_with_argo_cds_message(ops: GitOps) -> None:
    with _argocd(ops, degraded_tags="^stage-4f9e2d1"):
        result = _updater(
            ops, "bump", "--env", "staging", "--app", "api", "--sha", "4f9e2d1", "--wait-deployed", "60s"
        )
        assert result.returncode == 1
        error = result.stderr.strip().splitlines()[-1]
        assert error.startswith(
            "updater: error: not deployed: api (staging, api-staging): degraded: Degraded:"
        )
        assert 'Deployment "api-staging" exceeded its progress deadline' in error
        assert TAGS[2].encode() in ops.values("api", "staging")  # no rollback unless asked


def test_rollback_on_failure_restores_the_previous_tag_in_one_commit(ops: GitOps) -> None:
    with _argocd(ops, failed_tags="^stage-4f9e2d1"):
        before = ops.remote.count()
        result = _updater(
            ops,
            "bump",
            "--env",
            "staging",
            "--app",
            "api",
            "--sha",
            "4f9e2d1",
            "--wait-deployed",
            "60s",
            "--rollback-on-failure",
            "--json",
        )
        assert result.returncode == 1
        out = json.loads(result.stdout)
        assert out["deploy"]["apps"][0]["state"] == "failed"
        rollback = out["deploy"]["rollback"]
        assert rollback["apps"] == [{**rollback["apps"][0], "old": TAGS[2], "new": TAGS[0], "changed": True}]
        assert ops.remote.count() == before + 2  # the bump, then ONE rollback commit
        assert rollback["commit"] == ops.remote.head()
        assert TAGS[0].encode() in ops.values("api", "staging")
        error = result.stderr.strip().splitlines()[-1]
        assert "failed: sync operation Failed: one or more objects failed to apply" in error
        assert f"rolled back (api {TAGS[2]} -> {TAGS[0]}) in {ops.remote.head()}" in error
        # The rollback holds: the same commit records it, and the next bump leaves the app alone.
        assert '"api"' in ops.remote.show(".updater/holds.yaml").decode()
        again = _updater(ops, "bump", "--env", "staging", "--app", "api", "--sha", "4f9e2d1")
        assert again.returncode == 0, again.stderr
        assert "note: api (staging) skipped: held" in again.stdout
        assert ops.remote.count() == before + 2


def test_manual_sync_app_is_reported_without_sync_and_deployed_with_it(ops: GitOps) -> None:
    with _argocd(ops) as server:
        values = ops.values("api", "production").decode().replace(TAGS[0], TAGS[1])
        commit = ops.remote.commit({"k8s/api/values-production.yaml": values}, "hand-written promotion")
        held = _updater(ops, "deployed", "--env", "production", "--app", "api", "--wait", "20s")
        assert held.returncode == 1
        assert "api (production, api-production): needs-manual-sync: OutOfSync at" in held.stderr
        assert "auto-sync is off" in held.stderr and server.counts["sync"] == 0
        synced = _updater(
            ops, "deployed", "--env", "production", "--app", "api", "--wait", "20s", "--sync", "--json"
        )
        assert synced.returncode == 0, synced.stderr
        (app,) = json.loads(synced.stdout)["deploy"]["apps"]
        assert (app["state"], app["revision"], app["sync_requested"]) == ("healthy", commit, True)
        assert server.counts["sync"] == 1
        assert "asked Argo CD to sync api-production to" in synced.stderr


def test_status_live_shows_drift_after_a_hand_edit_in_the_cluster(ops: GitOps) -> None:
    with _argocd(ops) as server:
        # A manual-sync app: Argo CD reports the drift and leaves it (an automated app that never synced
        # the current head would sync it away at once, as the real controller does).
        server.controller.patch_live("argocd", "api-production", ["example/api:hotfix-1"])
        server.counts.clear()
        result = _updater(ops, "status", "--live", "--json")
        assert result.returncode == 0, result.stderr
        rows = {(r["app"], r["env"]): r for r in json.loads(result.stdout)["rows"]}
        api = rows[("api", "production")]
        assert (api["live"], api["sync"], api["tag"]) == ("hotfix-1", "OutOfSync", TAGS[0])
        assert "live≠git" in api["drift"] and "git≠newest" in api["drift"]
        web = rows[("web", "production")]
        assert (web["live"], web["sync"]) == (TAGS[0], "Synced") and "live≠git" not in web["drift"]
        assert server.counts == {"list": 1}  # one list call for every app, not one per app
        table = _updater(ops, "status", "--live").stdout.splitlines()
        assert table[0].split()[:4] == ["APP", "ENV", "TAG", "IN"] and "LIVE" in table[0]


def test_bad_deploy_config_and_missing_token_change_nothing(ops: GitOps) -> None:
    with _argocd(ops) as server:
        before = ops.remote.count()
        result = _updater(
            ops,
            "bump",
            "--env",
            "staging",
            "--app",
            "api",
            "--sha",
            "1b2c3d4",
            "--wait-deployed",
            "10s",
            env={"ARGOCD_AUTH_TOKEN": ""},
        )
        assert result.returncode == 2 and "ARGOCD_AUTH_TOKEN is not set" in result.stderr
        pr = _updater(
            ops,
            "bump",
            "--env",
            "staging",
            "--app",
            "api",
            "--sha",
            "1b2c3d4",
            "--mode",
            "pull-request",
            "--wait-deployed",
            "10s",
        )
        assert pr.returncode == 2 and "needs the change on the branch Argo CD reads" in pr.stderr
        lone = _updater(ops, "bump", "--env", "staging", "--app", "api", "--sha", "1b2c3d4", "--sync")
        assert lone.returncode == 2 and "need --wait-deployed" in lone.stderr
        assert ops.remote.count() == before and server.total() == 0


def test_a_bar_only_on_a_terminal(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    deploy_options.bar(30, 120, 2)
    deploy_options.progress("argocd: api (staging, api-staging): healthy: Synced")
    assert capsys.readouterr().err == "argocd: api (staging, api-staging): healthy: Synced\n"  # a CI log
    monkeypatch.setattr("sys.stderr.isatty", lambda: True)
    deploy_options.bar(30, 120, 2)
    deploy_options.progress("done")
    err = capsys.readouterr().err
    assert err == "\r\033[K[#######.......................] 30s/120s, waiting for 2 app(s)\r\033[Kdone\n"


def test_promote_waits_for_the_target_environment_and_syncs_it(ops: GitOps) -> None:
    with _argocd(ops) as server:
        bumped = _updater(ops, "bump", "--env", "staging", "--app", "api", "--sha", "1b2c3d4")
        assert bumped.returncode == 0, bumped.stderr
        result = _updater(
            ops, "promote", "--to", "production", "--app", "api", "--wait-deployed", "60s", "--sync", "--json"
        )
        assert result.returncode == 0, result.stderr
        out = json.loads(result.stdout)
        (app,) = out["deploy"]["apps"]
        assert (app["application"], app["state"], app["revision"]) == (
            "api-production",
            "healthy",
            out["commit"],
        )
        assert app["images"] == [f"example/api:{TAGS[1]}"] and app["sync_requested"] is True
        assert server.counts["sync"] == 1


def test_rollback_command_waits_and_a_later_commit_still_counts(ops: GitOps) -> None:
    with _argocd(ops):
        assert _updater(ops, "bump", "--env", "staging", "--app", "api", "--sha", "1b2c3d4").returncode == 0
        result = _updater(
            ops, "rollback", "--env", "staging", "--app", "api", "--wait-deployed", "60s", "--json"
        )
        assert result.returncode == 0, result.stderr
        (app,) = json.loads(result.stdout)["deploy"]["apps"]
        assert app["state"] == "healthy" and app["images"] == [f"example/api:{TAGS[0]}"]
        # Someone lands an unrelated commit after ours: Argo CD reports that descendant, which counts.
        later = ops.remote.commit({"README.md": "unrelated\n"}, "docs")
        waited = _updater(ops, "deployed", "--env", "staging", "--app", "api", "--wait", "30s", "--json")
        assert waited.returncode == 0, waited.stderr
        (again,) = json.loads(waited.stdout)["deploy"]["apps"]
        assert again["revision"] == later and again["commit"] != later and again["state"] == "healthy"


def test_every_app_of_a_bump_is_waited_for_in_one_loop(ops: GitOps) -> None:
    with _argocd(ops) as server:
        result = _updater(ops, "bump", "--env", "staging", "--sha", "1b2c3d4", "--wait-deployed", "60s")
        assert result.returncode == 0, result.stderr
        table = result.stdout.splitlines()
        rows = [line.split() for line in table if line.startswith(("api ", "web "))]
        assert [(r[0], r[1], r[2]) for r in rows[-2:]] == [("api", "api-staging", "healthy"),
                                                           ("web", "web-staging", "healthy")]  # fmt: skip
        assert server.counts["refresh"] == 2  # one refresh per Application, then plain reads


def test_files_backend_wait_is_refused_before_any_file_is_written(ops: GitOps) -> None:
    # The files backend makes no commit: there is nothing whose ancestry Argo CD's revision could show.
    config = ops.remote.work / ".updater.yaml"
    config.write_text(config.read_text().replace("provider: git}", "provider: files}"))
    values = ops.remote.work / "k8s/api/values-staging.yaml"
    before = values.read_bytes()
    with _argocd(ops) as server:
        result = _updater(
            ops, "bump", "--env", "staging", "--app", "api", "--sha", "1b2c3d4", "--wait-deployed", "5s"
        )
        assert result.returncode == 2 and "scm.provider files makes none" in result.stderr
        assert values.read_bytes() == before and server.total() == 0
