"""Self-test of the loopback Argo CD (testing/argocd_server.py): its answers, checked against the swagger."""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import requests

from testing import argocd_swagger
from testing.argocd_server import AppSpec, ArgoCD, Grant, ImageSource, start_argocd
from testing.gitrepo import Remote, make_remote

TOKEN = "argocd-test-token"
AUTH = {"Authorization": f"Bearer {TOKEN}"}


def _values(tag: str) -> str:
    return f"image:\n  repository: example/api\n  tag: {tag}\nreplicas: 2\n"


def _spec(name: str, **kwargs: Any) -> AppSpec:
    return AppSpec(
        name=name,
        path="charts/api",
        value_files=("../../k8s/api/values.yaml",),
        images=(ImageSource("example/api", "k8s/api/values.yaml", "image.tag"),),
        **kwargs,
    )


@pytest.fixture()
def remote(tmp_path: Path) -> Remote:
    return make_remote(tmp_path, {"k8s/api/values.yaml": _values("v1")})


@contextmanager
def _argocd(remote: Remote, apps: list[AppSpec], **options: Any) -> Iterator[ArgoCD]:
    options.setdefault("sync_delay", 0.2)
    options.setdefault("health_delay", 0.2)
    with start_argocd(remote.bare, apps, **options) as server:
        yield server
        assert server.invalid == []  # every answer it sent was a valid swagger document


@pytest.fixture()
def argocd(remote: Remote) -> Iterator[ArgoCD]:
    apps = [_spec("api-staging", labels={"team": "a"}), _spec("api-manual", automated=False)]
    with _argocd(remote, apps) as server:
        yield server


def _get(server: ArgoCD, path: str, **params: Any) -> requests.Response:
    return requests.get(server.url + path, params=params, headers=AUTH, timeout=5)


def _app(server: ArgoCD, name: str, **params: Any) -> dict[str, Any]:
    response = _get(server, f"/api/v1/applications/{name}", **params)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    argocd_swagger.validate("v1alpha1Application", body)
    return body


def _until(server: ArgoCD, name: str, check: Any, timeout: float = 5.0) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while True:
        app = _app(server, name)
        if check(app):
            return app
        assert time.monotonic() < deadline, app["status"]
        time.sleep(0.05)


def test_an_app_starts_synced_and_healthy_at_the_branch_head(argocd: ArgoCD, remote: Remote) -> None:
    app = _app(argocd, "api-staging")
    status = app["status"]
    assert status["sync"] == {**status["sync"], "status": "Synced", "revision": remote.head()}
    assert status["health"]["status"] == "Healthy"
    assert status["operationState"]["phase"] == "Succeeded"
    assert status["summary"]["images"] == ["example/api:v1"]
    assert app["spec"]["source"]["repoURL"] == f"file://{remote.bare}"
    assert app["spec"]["source"]["helm"]["valueFiles"] == ["../../k8s/api/values.yaml"]


def test_a_new_commit_is_seen_only_at_the_next_reconcile_or_on_refresh(
    argocd: ArgoCD, remote: Remote
) -> None:
    old = remote.head()
    new = remote.commit({"k8s/api/values.yaml": _values("v2")}, "bump")
    # The 180 s poll has not come round: the status is the stale one, Synced at the old commit.
    stale = _app(argocd, "api-staging")["status"]
    assert (stale["sync"]["status"], stale["sync"]["revision"]) == ("Synced", old)
    refreshed = _app(argocd, "api-staging", refresh="normal")
    assert refreshed["status"]["sync"]["revision"] == new
    assert refreshed["operation"]["sync"]["revision"] == new  # automated: a sync to the new head runs
    assert refreshed["status"]["operationState"]["phase"] == "Running"
    done = _until(
        argocd,
        "api-staging",
        lambda a: (
            a["status"]["health"]["status"] == "Healthy"
            and a["status"]["operationState"]["phase"] == "Succeeded"
        ),
    )
    assert "operation" not in done
    assert done["status"]["operationState"]["syncResult"]["revision"] == new
    assert done["status"]["summary"]["images"] == ["example/api:v2"]
    assert [h["revision"] for h in done["status"]["history"]] == [old, new]


def test_periodic_reconcile_without_refresh(remote: Remote) -> None:
    with _argocd(remote, [_spec("api")], reconcile_interval=0.3, sync_delay=0.1, health_delay=0.1) as server:
        new = remote.commit({"k8s/api/values.yaml": _values("v2")}, "bump")
        # sync.revision moves to the new head at the reconcile, while the old images still run and
        # health is still the old Healthy: only the finished operation for `new` says it is deployed.
        app = _until(
            server,
            "api",
            lambda a: (
                a["status"]["operationState"]["syncResult"]["revision"] == new
                and a["status"]["operationState"]["phase"] == "Succeeded"
                and a["status"]["health"]["status"] == "Healthy"
            ),
        )
        assert app["status"]["summary"]["images"] == ["example/api:v2"]
        assert server.counts["refresh"] == 0


def test_health_goes_progressing_then_degraded_for_a_bad_tag(remote: Remote) -> None:
    with _argocd(remote, [_spec("api")], degraded_tags=r"-bad$", health_delay=1.0) as server:
        remote.commit({"k8s/api/values.yaml": _values("v2-bad")}, "bump")
        _app(server, "api", refresh="normal")
        _until(server, "api", lambda a: a["status"]["health"]["status"] == "Progressing")
        app = _until(server, "api", lambda a: a["status"]["health"]["status"] == "Degraded")
        assert "progress deadline" in app["status"]["health"]["message"]
        assert app["status"]["operationState"]["phase"] == "Succeeded"


def test_a_failed_sync_operation(remote: Remote) -> None:
    with _argocd(remote, [_spec("api")], failed_tags=r"^broken") as server:
        remote.commit({"k8s/api/values.yaml": _values("broken-1")}, "bump")
        _app(server, "api", refresh="hard")
        app = _until(server, "api", lambda a: a["status"]["operationState"]["phase"] != "Running")
        state = app["status"]["operationState"]
        assert state["phase"] == "Failed" and "failed to apply" in state["message"]
        assert app["status"]["sync"]["status"] == "OutOfSync"
        assert app["status"]["summary"]["images"] == ["example/api:v1"]


def test_manual_sync_policy_waits_for_a_sync_request(argocd: ArgoCD, remote: Remote) -> None:
    new = remote.commit({"k8s/api/values.yaml": _values("v2")}, "bump")
    app = _app(argocd, "api-manual", refresh="normal")
    assert (app["status"]["sync"]["status"], app["status"]["sync"]["revision"]) == ("OutOfSync", new)
    assert "operation" not in app and app["status"]["operationState"]["syncResult"]["revision"] != new
    response = requests.post(
        f"{argocd.url}/api/v1/applications/api-manual/sync",
        json={"name": "api-manual", "revision": new},
        headers=AUTH,
        timeout=5,
    )
    assert response.status_code == 200, response.text
    assert response.json()["operation"]["sync"]["revision"] == new
    again = requests.post(
        f"{argocd.url}/api/v1/applications/api-manual/sync", json={}, headers=AUTH, timeout=5
    )
    assert again.status_code == 400 and again.json()["message"] == "another operation is already in progress"
    done = _until(
        argocd,
        "api-manual",
        lambda a: a["status"]["health"]["status"] == "Healthy" and a["status"]["sync"]["status"] == "Synced",
    )
    assert done["status"]["operationState"]["operation"]["initiatedBy"] == {"username": "admin"}
    bad = requests.post(
        f"{argocd.url}/api/v1/applications/api-manual/sync", json={"revision": 5}, headers=AUTH, timeout=5
    )
    assert bad.status_code == 400  # a request body that is not an ApplicationSyncRequest


def test_auth_401_and_403_like_argo_cd(remote: Remote) -> None:
    tokens = {"all": Grant(), "only-a": Grant(apps=frozenset({"a"}), sync=False)}
    with _argocd(remote, [_spec("a"), _spec("b", project="team-b")], tokens=tokens) as server:
        url = f"{server.url}/api/v1/applications/a"
        none = requests.get(url, timeout=5)
        assert none.status_code == 401 and none.json()["message"] == "no session information"
        wrong = requests.get(url, headers={"Authorization": "Bearer nope-nope"}, timeout=5)
        assert wrong.status_code == 401 and wrong.json()["code"] == 16
        cookie = requests.get(url, headers={"Cookie": "argocd.token=only-a"}, timeout=5)
        assert cookie.status_code == 200
        limited = {"Authorization": "Bearer only-a"}
        hidden = requests.get(f"{server.url}/api/v1/applications/b", headers=limited, timeout=5)
        missing = requests.get(f"{server.url}/api/v1/applications/zz", headers=limited, timeout=5)
        for response in (hidden, missing):  # the same answer: existence does not leak
            assert response.status_code == 403 and response.json() == {
                "error": "permission denied",
                "code": 7,
                "message": "permission denied",
            }
            argocd_swagger.validate("runtimeError", response.json())
        in_project = requests.get(
            f"{server.url}/api/v1/applications/zz",
            params={"project": "default"},
            headers={"Authorization": "Bearer all"},
            timeout=5,
        )
        assert in_project.status_code == 404
        listed = requests.get(f"{server.url}/api/v1/applications", headers=limited, timeout=5).json()
        assert [i["metadata"]["name"] for i in listed["items"]] == ["a"]
        sync = requests.post(f"{url}/sync", json={}, headers=limited, timeout=5)
        assert sync.status_code == 403


def test_list_filters_by_project_selector_and_namespace(remote: Remote) -> None:
    apps = [
        _spec("a", labels={"team": "x"}),
        _spec("b", project="p2", labels={"team": "y"}),
        _spec("c", namespace="other", labels={"team": "x"}),
    ]
    with _argocd(remote, apps) as server:

        def names(server: ArgoCD = server, **params: Any) -> list[str]:
            body = _get(server, "/api/v1/applications", **params).json()
            argocd_swagger.validate("v1alpha1ApplicationList", body)
            return [i["metadata"]["name"] for i in body.get("items", [])]

        assert names() == ["a", "b", "c"]
        assert names(projects="p2") == ["b"]
        assert names(selector="team=x") == ["a", "c"]
        assert names(selector="team!=x") == ["b"]
        assert names(appNamespace="other") == ["c"]
        assert names(projects="nothing") == []
        assert server.counts["list"] == 6


def test_multi_source_apps_report_revisions(remote: Remote) -> None:
    with _argocd(remote, [_spec("api", multi_source=True)]) as server:
        app = _app(server, "api")
        assert app["status"]["sync"]["revisions"] == [remote.head(), "1.2.3"]
        assert "revision" not in app["status"]["sync"] and len(app["spec"]["sources"]) == 2


def test_hand_patched_cluster_goes_out_of_sync_and_self_heal_repairs(remote: Remote) -> None:
    with _argocd(remote, [_spec("plain"), _spec("healing", self_heal=True)]) as server:
        server.controller.patch_live("argocd", "plain", ["example/api:hotfix"])
        plain = _app(server, "plain")
        assert plain["status"]["sync"]["status"] == "OutOfSync"
        assert plain["status"]["summary"]["images"] == ["example/api:hotfix"]
        server.controller.patch_live("argocd", "healing", ["example/api:hotfix"])
        healed = _until(server, "healing", lambda a: a["status"]["sync"]["status"] == "Synced")
        assert healed["status"]["summary"]["images"] == ["example/api:v1"]


def test_injected_faults_and_request_counting(argocd: ArgoCD) -> None:
    argocd.fail("get", 503, times=1)
    argocd.fail("refresh", 429, retry_after="2")
    first = _get(argocd, "/api/v1/applications/api-staging")
    assert first.status_code == 503
    argocd_swagger.validate("runtimeError", first.json())
    assert _get(argocd, "/api/v1/applications/api-staging").status_code == 200
    limited = _get(argocd, "/api/v1/applications/api-staging", refresh="normal")
    assert limited.status_code == 429 and limited.headers["Retry-After"] == "2"
    argocd.fail("get", 200, body=b"<html>proxy</html>")
    assert _get(argocd, "/api/v1/applications/api-staging").text == "<html>proxy</html>"
    assert argocd.counts == {"get": 3, "refresh": 1}


def test_the_swagger_check_is_strict() -> None:
    good = {"metadata": {"name": "a"}, "status": {"sync": {"status": "Synced", "revision": "abc"}}}
    argocd_swagger.validate("v1alpha1Application", good)
    for bad in (
        {"metadata": {"name": 1}},
        {"status": {"sync": {"revison": "abc"}}},  # a misspelt field is not silently accepted
        {"status": {"reconciledAt": "yesterday"}},
        {"status": {"summary": {"images": "a:b"}}},
    ):
        with pytest.raises(jsonschema.ValidationError):
            argocd_swagger.validate("v1alpha1Application", bad)


def test_the_server_refuses_to_send_a_document_off_the_swagger(
    remote: Remote, monkeypatch: pytest.MonkeyPatch
) -> None:
    from testing import argocd_server

    real = argocd_server.render
    monkeypatch.setattr(argocd_server, "render", lambda c, s: {**real(c, s), "stauts": {}})
    with start_argocd(remote.bare, [_spec("api")]) as server:
        response = _get(server, "/api/v1/applications/api")
        assert response.status_code == 500
        assert server.invalid and "stauts" in server.invalid[0]


def test_a_lagging_refresh_answers_the_stale_status_first(remote: Remote) -> None:
    with _argocd(remote, [_spec("api")], refresh_lag=0.5) as server:
        old = remote.head()
        new = remote.commit({"k8s/api/values.yaml": _values("v2")}, "bump")
        stale = _app(server, "api", refresh="normal")["status"]
        assert (stale["sync"]["revision"], stale["sync"]["status"], stale["health"]["status"]) == (
            old,
            "Synced",
            "Healthy",
        )
        _until(server, "api", lambda a: a["status"]["sync"]["revision"] == new)
