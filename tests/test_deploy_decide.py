"""The pure wait decision (updater/deploy/decide.py) and the Application parser, on JSON documents."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from testing import argocd_swagger
from updater.deploy import points
from updater.deploy.application import ShapeError, parse, parse_list, printable
from updater.deploy.decide import (
    DEGRADED,
    FAILED,
    HEALTHY,
    NEEDS_SYNC,
    SYNCED,
    WAITING,
    Expectation,
    decide,
    images_include,
    revisions_to_check,
)

OURS = "a" * 40
OLD = "0" * 40
LATER = "b" * 40
WANT = Expectation(OURS, "v2", "example/api")


def _app(**status: Any) -> dict[str, Any]:
    doc: dict[str, Any] = {
        "metadata": {"name": "api-staging", "namespace": "argocd"},
        "spec": {
            "project": "default",
            "source": {
                "repoURL": "https://git.example/gitops",
                "path": "charts/api",
                "targetRevision": "main",
            },
            "syncPolicy": {"automated": {"prune": True}},
        },
        "status": {
            "sync": {"status": "Synced", "revision": OURS},
            "health": {"status": "Healthy"},
            "operationState": {
                "phase": "Succeeded",
                "startedAt": "2026-12-06T10:00:00Z",
                "finishedAt": "2026-12-06T10:00:01Z",
                "syncResult": {"revision": OURS},
            },
            "reconciledAt": "2026-12-06T10:00:01Z",
            "summary": {"images": ["example/api:v2"]},
        },
    }
    for key, value in status.items():
        doc["status"][key] = value
    argocd_swagger.validate("v1alpha1Application", doc)  # the cases are real Application shapes
    return doc


def _decide(doc: dict[str, Any], descends: dict[str, bool] | None = None) -> tuple[str, str]:
    verdict = decide(parse(doc), WANT, descends or {})
    return verdict.state, verdict.reason


def test_synced_healthy_at_our_commit_with_our_tag_is_success() -> None:
    assert _decide(_app())[0] == HEALTHY


def test_a_stale_synced_healthy_status_from_before_our_commit_never_counts() -> None:
    doc = _app(sync={"status": "Synced", "revision": OLD})
    doc["status"]["operationState"]["syncResult"]["revision"] = OLD
    state, reason = _decide(doc, {OLD: False})
    assert state == WAITING and "has not compared" in reason


def test_a_descendant_of_our_commit_counts() -> None:
    doc = _app(sync={"status": "Synced", "revision": LATER})
    doc["status"]["operationState"]["syncResult"]["revision"] = LATER
    assert _decide(doc, {LATER: True})[0] == HEALTHY
    assert _decide(doc, {LATER: False})[0] == WAITING  # an unrelated revision does not


def test_compared_but_the_sync_has_not_run_yet() -> None:
    doc = _app(sync={"status": "OutOfSync", "revision": OURS})
    doc["status"]["operationState"]["syncResult"]["revision"] = OLD
    assert _decide(doc)[0] == WAITING
    doc["spec"]["syncPolicy"] = {}
    state, reason = _decide(doc)
    assert state == NEEDS_SYNC and "auto-sync is off" in reason


def test_a_running_operation_is_waited_for_even_when_everything_else_is_green() -> None:
    doc = _app()
    doc["operation"] = {"sync": {"revision": OURS}}
    assert _decide(doc)[0] == WAITING
    running = _app()
    running["status"]["operationState"]["phase"] = "Running"
    assert _decide(running)[0] == WAITING


def test_a_failed_operation_for_our_revision_fails_with_argo_cds_message() -> None:
    doc = _app(sync={"status": "OutOfSync", "revision": OURS})
    doc["status"]["operationState"].update(phase="Failed", message="one or more objects failed to apply")
    state, reason = _decide(doc)
    assert state == FAILED and "failed to apply" in reason
    doc["status"]["operationState"]["syncResult"]["revision"] = OLD  # an old failure is not ours
    assert _decide(doc)[0] == WAITING


def test_degraded_after_our_sync_fails_with_the_health_message() -> None:
    state, reason = _decide(
        _app(health={"status": "Degraded", "message": 'Deployment "api" exceeded\x1b[31m'})
    )
    assert state == DEGRADED and "exceeded" in reason and "\x1b" not in reason


def test_progressing_is_synced_not_done() -> None:
    assert _decide(_app(health={"status": "Progressing"}))[0] == SYNCED


def test_our_tag_must_be_among_the_live_images() -> None:
    state, reason = _decide(_app(summary={"images": ["example/api:v1"]}))
    assert state == SYNCED and "lack v2" in reason
    assert _decide(_app(summary={"images": ["docker.io/example/api:v2", "redis:7"]}))[0] == HEALTHY


def test_the_controller_must_have_reconciled_after_the_sync() -> None:
    doc = _app(reconciledAt="2026-12-06T09:59:00Z")
    assert _decide(doc)[0] == WAITING


def test_multi_source_revisions() -> None:
    doc = _app(sync={"status": "Synced", "revisions": [OURS, "1.2.3"]})
    doc["status"]["operationState"]["syncResult"] = {"revisions": [OURS, "1.2.3"]}
    assert _decide(doc)[0] == HEALTHY
    assert revisions_to_check(parse(doc), OURS) == {"1.2.3"}


def test_images_include_matches_tag_digest_and_repository() -> None:
    assert images_include(("ghcr.io/o/api:v2@sha256:" + "1" * 64,), "v2@sha256:" + "1" * 64, "ghcr.io/o/api")
    assert not images_include(("ghcr.io/o/api:v2@sha256:" + "2" * 64,), "v2@sha256:" + "1" * 64, None)
    # When our repository is reported, another image with the same tag does not stand in for it.
    assert not images_include(("ghcr.io/o/api:v1", "ghcr.io/o/sidecar:v2"), "v2", "ghcr.io/o/api")
    assert images_include(("mirror.example/api:v2",), "v2", "oci:/tmp/layout")
    assert not images_include(("localhost:5000/api",), "5000", None)


def test_parse_refuses_other_shapes_in_one_line() -> None:
    for bad in ("<html>", [], {"metadata": {}}, {"metadata": {"name": "a"}, "status": {"sync": []}}):
        with pytest.raises(ShapeError):
            parse(bad)
    big = _app(summary={"images": ["x:1"] * 1001})
    with pytest.raises(ShapeError, match="more than 1000"):
        parse(big)
    assert parse_list({"metadata": {}}) == []
    doc = copy.deepcopy(_app())
    assert [a.name for a in parse_list({"items": [doc, doc]})] == ["api-staging"] * 2


def test_printable_escapes_and_bounds() -> None:
    assert printable("a\nb\x1b[0m") == "a\\nb\\x1b[0m"
    assert len(printable("x" * 1000, 50)) == 50


def _sources(*sources: dict[str, Any]) -> Any:
    doc = _app()
    doc["spec"].pop("source")
    doc["spec"]["sources"] = list(sources)
    return parse(doc)


def test_points_at_our_repo_branch_and_file() -> None:
    repo = "https://github.com/acme/gitops.git"
    helm = {
        "repoURL": "https://github.com/acme/gitops",
        "path": "charts/api",
        "targetRevision": "main",
        "helm": {"valueFiles": ["../../k8s/api/values-stage.yaml"]},
    }
    assert points.problems(_sources(helm), repo, "main", "k8s/api/values-stage.yaml") == []
    assert (
        points.problems(_sources(helm), "git@github.com:acme/gitops.git", "main", "k8s/api/values-stage.yaml")
        == []
    )
    wrong = points.problems(_sources(helm), repo, "staging", "k8s/api/values-prod.yaml")
    assert wrong == [
        "no source reads k8s/api/values-prod.yaml (https://github.com/acme/gitops path charts/api valueFiles "
        "../../k8s/api/values-stage.yaml)",
        "targetRevision is main, not branch staging",
    ]
    other = points.problems(_sources({**helm, "repoURL": "https://github.com/acme/other"}), repo, "main", "x")
    assert other == ["its source is https://github.com/acme/other, not https://github.com/acme/gitops.git"]
    chart = {
        "repoURL": "https://charts.example",
        "chart": "api",
        "targetRevision": "1.2.3",
        "helm": {"valueFiles": ["$values/k8s/api/values-stage.yaml"]},
    }
    values = {"repoURL": repo, "targetRevision": "main", "ref": "values"}
    assert points.problems(_sources(chart, values), repo, "main", "k8s/api/values-stage.yaml") == []
    plain = {"repoURL": repo, "path": "k8s/api", "targetRevision": "main"}
    assert points.problems(_sources(plain), repo, "main", "k8s/api/deployment.yaml") == []
    assert points.same_repository("file:///tmp/r/remote.git", "/tmp/r/remote.git")
