"""The Argo CD client and the wait loop, against the loopback Argo CD over a real bare repo."""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from testing.argocd_server import AppSpec, ArgoCD, Grant, ImageSource, start_argocd
from testing.gitrepo import Remote, make_remote
from testing.tls import self_signed, server_context
from updater.deploy import argocd
from updater.deploy.decide import DEGRADED, HEALTHY, NEEDS_SYNC, Expectation
from updater.deploy.settings import Server
from updater.deploy.wait import TIMEOUT, Watch, wait
from updater.infra import retry
from updater.infra.errors import InputError, RemoteError

TOKEN = "argocd-secret-token-1234"


def _values(tag: str) -> str:
    return f"image:\n  repository: example/api\n  tag: {tag}\n"


def _spec(name: str, **kwargs: object) -> AppSpec:
    source = ImageSource("example/api", "k8s/api/values.yaml", "image.tag")
    return AppSpec(name, "charts/api", ("values.yaml",), (source,), **kwargs)  # type: ignore[arg-type]


@pytest.fixture()
def remote(tmp_path: Path) -> Remote:
    return make_remote(tmp_path, {"k8s/api/values.yaml": _values("v1")})


@pytest.fixture()
def server(remote: Remote) -> Iterator[ArgoCD]:
    apps = [_spec("api"), _spec("manual", automated=False), _spec("secret", project="other")]
    tokens = {TOKEN: Grant(apps=frozenset({"api", "manual"}))}
    with start_argocd(remote.bare, apps, tokens, sync_delay=0.3, health_delay=0.3, degraded_tags="bad$") as s:
        yield s
        assert s.invalid == []


def _client(server: ArgoCD) -> argocd.ArgoCD:
    return argocd.ArgoCD(Server(server.url), {"ARGOCD_AUTH_TOKEN": TOKEN})


def _ancestry(remote: Remote):  # type: ignore[no-untyped-def]
    from testing.gitrepo import git

    def descends(commit: str, revision: str) -> bool:
        try:
            git("merge-base", "--is-ancestor", commit, revision, cwd=remote.bare)
        except Exception:
            return False
        return True

    return descends


def test_get_refresh_list_and_the_calls_counted(server: ArgoCD) -> None:
    client = _client(server)
    assert client.get("api").sync_status == "Synced"
    assert client.get("api", refresh=True).health == "Healthy"
    assert [a.name for a in client.applications()] == ["api", "manual"]  # "secret" is not listed
    assert server.counts == {"get": 1, "refresh": 1, "list": 1}
    assert client.counts == {"get": 1, "refresh": 1, "list": 1}


def test_403_says_missing_or_forbidden_alike(server: ArgoCD) -> None:
    client = _client(server)
    for name in ("secret", "nope"):
        with pytest.raises(RemoteError, match="does not exist, or the token may not read") as info:
            client.get(name)
        assert info.value.exit_code == 1


def test_401_names_the_variable_not_the_token(server: ArgoCD) -> None:
    client = argocd.ArgoCD(Server(server.url, token_env="MY_ARGO"), {"MY_ARGO": "wrong-token-value"})
    with pytest.raises(RemoteError, match=r"HTTP 401: invalid session.*MY_ARGO") as info:
        client.get("api")
    assert "wrong-token-value" not in str(info.value)


def test_missing_token_and_bad_urls_are_input_errors() -> None:
    with pytest.raises(InputError, match="ARGOCD_AUTH_TOKEN is not set"):
        argocd.ArgoCD(Server("https://argocd.example"), {})
    for url in ("http://argocd.example.com", "ftp://x", "https://u:p@argocd.example"):
        with pytest.raises(InputError):
            argocd.check_url(url)
    assert argocd.check_url("http://127.0.0.1:8080/") == "http://127.0.0.1:8080"


def test_5xx_and_429_are_retried_honouring_retry_after(
    server: ArgoCD, monkeypatch: pytest.MonkeyPatch
) -> None:
    slept: list[float] = []
    monkeypatch.setattr(retry, "sleep", slept.append)
    server.fail("get", 503, times=2)
    server.fail("get", 429, retry_after="3")
    assert _client(server).get("api").name == "api"
    assert server.counts["get"] == 4
    assert slept[-1] >= 3


def test_a_failing_server_gives_up_within_the_budget(server: ArgoCD, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(retry, "sleep", lambda s: None)
    server.fail("get", 502, times=100)
    with pytest.raises(RemoteError, match="HTTP 502 for GET /api/v1/applications/api, after retries"):
        _client(server).get("api")
    assert server.counts["get"] == retry.policy().attempts


def test_shapes_and_sizes_are_checked(server: ArgoCD, monkeypatch: pytest.MonkeyPatch) -> None:
    server.fail("get", 200, body=b"<html>login</html>")
    with pytest.raises(RemoteError, match="not JSON"):
        _client(server).get("api")
    server.fail("get", 200, body=b'{"metadata": {"name": 7}}')
    with pytest.raises(RemoteError, match=r"unexpected answer for application api: metadata\.name"):
        _client(server).get("api")
    monkeypatch.setattr(argocd, "MAX_APP_BYTES", 100)
    with pytest.raises(RemoteError, match="exceeds 100 bytes"):
        _client(server).get("api")


def test_the_token_is_never_logged(server: ArgoCD, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    _client(server).get("api", refresh=True)
    assert TOKEN not in caplog.text


def test_wait_refreshes_and_returns_in_about_one_sync_delay(server: ArgoCD, remote: Remote) -> None:
    commit = remote.commit({"k8s/api/values.yaml": _values("v2")}, "bump")
    lines: list[str] = []
    started = time.monotonic()
    (result,) = wait(
        _client(server),
        [Watch("api", "staging", "api", Expectation(commit, "v2", "example/api"))],
        timeout=30,
        sync=False,
        ancestry=_ancestry(remote),
        progress=lines.append,
    )
    took = time.monotonic() - started
    assert result.verdict.state == HEALTHY, result.verdict
    assert took < 5  # sync 0.3 s + health 0.3 s + polling, far from the 180 s reconcile
    assert server.counts["refresh"] == 1
    assert result.synced_after is not None and result.healthy_after is not None
    assert result.to_json()["images"] == ["example/api:v2"]
    assert any("healthy" in line for line in lines)


def test_wait_reports_degraded_and_timeout(server: ArgoCD, remote: Remote) -> None:
    commit = remote.commit({"k8s/api/values.yaml": _values("v2-bad")}, "bump")
    (bad,) = wait(
        _client(server),
        [Watch("api", "staging", "api", Expectation(commit, "v2-bad"))],
        timeout=20,
        sync=False,
        ancestry=_ancestry(remote),
        progress=lambda line: None,
    )
    assert bad.verdict.state == DEGRADED and "progress deadline" in bad.verdict.reason
    (late,) = wait(
        _client(server),
        [Watch("api", "staging", "api", Expectation("c" * 40, "v9"))],
        timeout=1,
        sync=False,
        ancestry=lambda c, r: False,
        progress=lambda line: None,
    )
    assert late.verdict.state == TIMEOUT and "not deployed after 1s" in late.verdict.reason


def test_manual_sync_only_with_sync(server: ArgoCD, remote: Remote) -> None:
    commit = remote.commit({"k8s/api/values.yaml": _values("v2")}, "bump")
    watch = Watch("api", "staging", "manual", Expectation(commit, "v2"))
    args = {"timeout": 20, "ancestry": _ancestry(remote), "progress": lambda line: None}
    (held,) = wait(_client(server), [watch], sync=False, **args)  # type: ignore[arg-type]
    assert held.verdict.state == NEEDS_SYNC and server.counts["sync"] == 0
    (synced,) = wait(_client(server), [watch], sync=True, **args)  # type: ignore[arg-type]
    assert synced.verdict.state == HEALTHY and synced.to_json()["sync_requested"] is True
    assert server.counts["sync"] == 1


def test_tls_with_a_ca_file_or_insecure(remote: Remote, tmp_path: Path) -> None:
    cert, key = self_signed(tmp_path / "tls")
    with start_argocd(remote.bare, [_spec("api")], {TOKEN: Grant()}, tls=server_context(cert, key)) as s:
        assert s.url.startswith("https://")
        env = {"ARGOCD_AUTH_TOKEN": TOKEN}
        assert argocd.ArgoCD(Server(s.url, ca_file=str(cert)), env).get("api").name == "api"
        assert argocd.ArgoCD(Server(s.url, insecure=True), env).get("api").name == "api"
        with pytest.raises(RemoteError, match=r"TLS verification failed: set deploy\.ca-file"):
            argocd.ArgoCD(Server(s.url), env).get("api")


def test_a_sync_is_resent_only_when_it_did_not_happen(server: ArgoCD, remote: Remote) -> None:
    commit = remote.commit({"k8s/api/values.yaml": _values("v2")}, "bump")
    watch = Watch("api", "staging", "manual", Expectation(commit, "v2"))
    args: dict[str, Any] = {"timeout": 20, "sync": True, "ancestry": _ancestry(remote), "progress": print}
    server.fail("sync", 502, lost=True)  # Argo CD started the sync; the answer was lost on the way
    (first,) = wait(_client(server), [watch], **args)
    assert first.ok and server.counts["sync"] == 1  # read back, saw the operation: not sent again
    commit = remote.commit({"k8s/api/values.yaml": _values("v3")}, "bump")
    watch = Watch("api", "staging", "manual", Expectation(commit, "v3"))
    server.fail("sync", 503)  # refused before anything happened
    (second,) = wait(_client(server), [watch], **args)
    assert second.ok and server.counts["sync"] == 3  # the refused one, then one that worked
