"""Artifact Registry: the real google-cloud-artifact-registry client (REST transport, anonymous
credentials, api_endpoint on 127.0.0.1) against testing/gar_server.py, a loopback server that follows
the published v1 REST API and answers with the library's own message types."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest

from testing.cli import run
from testing.gar_server import GarServer, start_gar_server
from testing.oci_layout import utc
from updater.domain.imageref import parse
from updater.infra import retry
from updater.infra.errors import InputError, RemoteError
from updater.registry.base import RegistryOptions
from updater.registry.gar import ENDPOINT_ENV, GarRegistry
from updater.registry.open import open_registry
from updater.resolve import Strategy, TemplateVars, resolve

IMAGE = "europe-docker.pkg.dev/airqo/images/team/docs"
OPTIONS = RegistryOptions(api="artifact-registry")


@pytest.fixture
def gar(monkeypatch: pytest.MonkeyPatch) -> Iterator[GarServer]:
    with start_gar_server() as server:
        server.max_page = 2  # force pagination
        monkeypatch.setenv(ENDPOINT_ENV, server.endpoint)
        yield server


def _seed(server: GarServer) -> dict[str, str]:
    digests = {}
    # Upload order differs from build order: the newest upload wins, as the docstring of gar.py argues.
    for i, build_day in enumerate([5, 1, 3]):
        tags = [f"stage-{i}", f"v1.{i}.0"]
        digests[f"stage-{i}"] = server.add_image(
            IMAGE, tags, utc(2026, 2, 1 + i), build_time=utc(2026, 1, build_day)
        )
    digests["latest"] = server.add_image(IMAGE, ["stage-3", "latest"], utc(2026, 2, 9))
    server.add_image("europe-docker.pkg.dev/airqo/images/other", ["stage-9", "latest"], utc(2026, 3, 1))
    return digests


def _open() -> GarRegistry:
    registry = open_registry(parse(IMAGE), OPTIONS)
    assert isinstance(registry, GarRegistry)
    return registry


def test_pagination_gives_tags_with_digest_and_upload_time(gar: GarServer) -> None:
    digests = _seed(gar)
    registry = _open()
    tags = {info.tag: info for info in registry.list_tags()}
    assert sorted(tags) == [
        "latest",
        "stage-0",
        "stage-1",
        "stage-2",
        "stage-3",
        "v1.0.0",
        "v1.1.0",
        "v1.2.0",
    ]
    assert tags["v1.1.0"].digest == digests["stage-1"]
    assert tags["latest"].digest == tags["stage-3"].digest == digests["latest"]
    assert tags["stage-2"].created == utc(2026, 2, 3)
    assert gar.counts == {"list_images": 3}  # 5 images, 2 per page
    assert registry.requests == 3
    assert registry.created(digests["stage-1"]) == utc(2026, 2, 2)  # from the listing: no request
    assert registry.requests == 3


def test_strategies_cost_pages_only(gar: GarServer) -> None:
    digests = _seed(gar)
    registry = _open()
    newest = resolve(registry, Strategy("newest", include=r"^stage-"), TemplateVars())
    assert (newest.tag, newest.created, newest.requests) == ("stage-3", utc(2026, 2, 9), 3)
    by_upload = resolve(registry, Strategy("newest", include=r"^v1\."), TemplateVars())
    assert by_upload.tag == "v1.2.0"  # uploaded last, although built before v1.0.0
    sibling = resolve(registry, Strategy("digest", tag="latest"), TemplateVars())
    assert (sibling.tag, sibling.digest, sibling.requests) == ("stage-3", digests["latest"], 3)  # pages only
    semver = resolve(registry, Strategy("semver", range="^1"), TemplateVars())
    assert (semver.tag, semver.digest, semver.requests) == ("v1.2.0", digests["stage-2"], 3)
    template = resolve(registry, Strategy(template="stage-{run}"), TemplateVars(run="1"))
    assert (template.tag, template.digest, template.requests) == ("stage-1", digests["stage-1"], 1)
    assert gar.counts["get_tag"] == 1  # the exact template only


def test_get_tag_and_image_by_name(gar: GarServer) -> None:
    digests = _seed(gar)
    registry = _open()
    assert registry.digest("stage-0") == digests["stage-0"]
    assert registry.digest("nope") is None
    assert registry.created(digests["stage-0"]) == utc(2026, 2, 1)
    assert registry.created("sha256:" + "0" * 64) is None
    # the package "team/docs" travels as one resource-name segment, team%2Fdocs
    assert all("/packages/team%252Fdocs/" in p or "/dockerImages/team%252Fdocs" in p for p in gar.paths)


def test_missing_repository_is_a_clear_input_error(gar: GarServer) -> None:
    registry = open_registry(parse("europe-docker.pkg.dev/airqo/nothere/docs"), OPTIONS)
    with pytest.raises(InputError) as info:
        registry.list_tags()
    assert info.value.message == (
        "europe-docker.pkg.dev/airqo/nothere/docs: Artifact Registry repository "
        "projects/airqo/locations/europe/repositories/nothere not found: check the project, location and "
        "repository in the image name"
    )


def test_not_an_artifact_registry_image() -> None:
    with pytest.raises(InputError, match=r"needs LOCATION-docker\.pkg\.dev/PROJECT/REPOSITORY/IMAGE"):
        open_registry(parse("ghcr.io/org/app"), OPTIONS)


def test_transient_faults_are_retried(gar: GarServer, monkeypatch: pytest.MonkeyPatch) -> None:
    _seed(gar)
    waits: list[float] = []
    monkeypatch.setattr(retry, "sleep", waits.append)
    gar.faults = [(503, None), (429, 7), (500, None)]
    assert len(_open().list_tags()) == 8
    assert gar.counts["list_images"] == 3 + 3
    assert max(waits) >= 7  # Retry-After honoured


def test_permanent_failure_and_permission(gar: GarServer, monkeypatch: pytest.MonkeyPatch) -> None:
    _seed(gar)
    monkeypatch.setattr(retry, "sleep", lambda s: None)
    gar.faults = [(502, None)] * 50
    with pytest.raises(RemoteError) as info:
        _open().digest("stage-1")
    assert info.value.exit_code == 1
    assert (
        info.value.message == f"{IMAGE}: Artifact Registry get tag failed after retries: 502 injected fault"
    )
    assert gar.counts["get_tag"] == retry.policy().attempts
    gar.faults = [(403, None)]
    with pytest.raises(RemoteError, match=r"refused \(403 injected fault\): the credentials need roles/"):
        _open().digest("stage-1")


def test_cli_resolve_through_artifact_registry(gar: GarServer) -> None:
    digests = _seed(gar)
    env = {ENDPOINT_ENV: gar.endpoint}
    result = run("resolve", f"{IMAGE}:latest", "--api", "artifact-registry", "--json", env=env)
    assert result.returncode == 0, result.stderr
    out = json.loads(result.stdout)
    assert (out["tag"], out["digest"], out["strategy"], out["requests"]) == (
        "stage-3",
        digests["latest"],
        "digest",
        3,
    )
    missing = run(
        "resolve",
        IMAGE,
        "--api",
        "artifact-registry",
        "--template",
        "stage-{sha:7}",
        "--sha",
        "abcdef1",
        env=env,
    )
    assert missing.returncode == 2
    assert missing.stderr == (
        f"updater: error: {IMAGE}:stage-abcdef1 does not exist: "
        "push the image first, or pass --wait DURATION\n"
    )


def test_unreachable_endpoint_is_a_remote_error(monkeypatch: pytest.MonkeyPatch) -> None:
    with start_gar_server() as server:
        endpoint = server.endpoint
    monkeypatch.setenv(ENDPOINT_ENV, endpoint)  # the port is closed now
    monkeypatch.setattr(retry, "sleep", lambda s: None)
    with pytest.raises(RemoteError) as info:
        _open().list_tags()
    assert info.value.message == (
        f"{IMAGE}: Artifact Registry list images failed after retries: connection failed: ConnectionError"
    )


def test_server_lists_package_tags_in_pages(gar: GarServer) -> None:
    """The tags endpoint, through the real client's own pager (what `gcloud artifacts tags list` calls)."""
    digests = _seed(gar)
    registry = _open()
    tags = {
        t.name.rsplit("/", 1)[1]: t.version.rsplit("/", 1)[1]
        for t in registry.client().list_tags(parent=registry.package)
    }
    assert tags["latest"] == tags["stage-3"] == digests["latest"]
    assert len(tags) == 8
    assert gar.counts["list_tags"] == 4  # 8 tags, 2 per page
