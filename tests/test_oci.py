"""The OCI client against Debian's real docker-registry (anonymous), through the counting proxy."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

import pytest

from testing.registry import RunningRegistry, push_image, start_registry
from testing.registry_proxy import RegistryProxy, start_proxy
from updater.domain.imageref import parse
from updater.infra.errors import InputError
from updater.registry.base import Registry, RegistryOptions, RepositoryNotFound
from updater.registry.http import Transport, is_loopback, parse_challenge, scheme_for
from updater.registry.oci import OciRegistry, next_link, parse_time, pick_platform

T0 = datetime(2026, 3, 1, 12, 0, tzinfo=timezone.utc)
PLATFORMS = ["linux/amd64", "linux/arm64", "linux/arm/v7"]


@dataclass(frozen=True)
class Images:
    registry: RunningRegistry
    oci: str
    docker: str
    index: str
    docker_list: str
    tags: frozenset[str]


@pytest.fixture(scope="module")
def images(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Images]:
    with start_registry(tmp_path_factory.mktemp("oci-registry")) as reg:
        oci = push_image(reg.url, "team/app", ["v1", "stage-aaaa111"], created=T0)
        docker = push_image(reg.url, "team/app", ["docker-v2"], created=T0.replace(hour=13), docker=True)
        index = push_image(reg.url, "team/app", ["multi"], created=T0.replace(hour=14), platforms=PLATFORMS)
        docker_list = push_image(
            reg.url, "team/app", ["dlist"], created=T0.replace(hour=15), platforms=PLATFORMS, docker=True
        )
        many = [f"p-{i:03d}" for i in range(230)]
        push_image(reg.url, "team/app", many, created=T0.replace(hour=16))
        tags = frozenset(["v1", "stage-aaaa111", "docker-v2", "multi", "dlist", *many])
        yield Images(reg, oci, docker, index, docker_list, tags)


@pytest.fixture
def proxy(images: Images) -> Iterator[RegistryProxy]:
    with start_proxy(images.registry.url, page_size=50) as running:
        yield running


def client(host: str, **options: str) -> OciRegistry:
    return OciRegistry(parse(f"{host}/team/app"), RegistryOptions(**options))  # type: ignore[arg-type]


def test_implements_the_registry_contract(images: Images) -> None:
    registry: Registry = client(images.registry.host)
    assert registry.name == f"{images.registry.host}/team/app"
    assert registry.requests == 0


@pytest.mark.parametrize("kind", ["oci", "docker", "index", "docker_list"])
def test_digest_is_one_head_for_every_manifest_type(images: Images, proxy: RegistryProxy, kind: str) -> None:
    tag = {"oci": "v1", "docker": "docker-v2", "index": "multi", "docker_list": "dlist"}[kind]
    registry = client(proxy.host)
    assert registry.digest(tag) == getattr(images, kind)
    assert registry.digest(tag) == getattr(images, kind)  # cached: no second request
    assert dict(proxy.counts) == {"manifest_head": 1}
    assert registry.requests == 1


def test_missing_tag_has_no_digest(proxy: RegistryProxy) -> None:
    registry = client(proxy.host)
    assert registry.digest("no-such-tag") is None
    assert dict(proxy.counts) == {"manifest_head": 1}


def test_digest_falls_back_to_get_when_head_lacks_the_digest_header(images: Images) -> None:
    with start_proxy(images.registry.url, drop_headers=("Docker-Content-Digest",)) as bare:
        registry = client(bare.host)
        assert registry.digest("multi") == images.index
        assert dict(bare.counts) == {"manifest_head": 1, "manifest_get": 1}
        # The manifest fetched by the fallback is reused for the build time.
        assert registry.created(images.index) == T0.replace(hour=14)
        assert bare.counts["manifest_get"] == 2  # + the amd64 child manifest, not the index again


def test_created_reads_the_config_blob_once_per_digest(images: Images, proxy: RegistryProxy) -> None:
    registry = client(proxy.host)
    assert registry.created(images.oci) == T0
    assert registry.created(images.docker) == T0.replace(hour=13)
    assert registry.created(images.oci) == T0
    assert dict(proxy.counts) == {"manifest_get": 2, "blob": 2}


@pytest.mark.parametrize(
    ("platform", "offset_minutes"), [("linux/amd64", 0), ("linux/arm64", 1), ("linux/arm/v7", 2)]
)
def test_created_of_an_index_follows_the_platform(images: Images, platform: str, offset_minutes: int) -> None:
    for digest, hour in ((images.index, 14), (images.docker_list, 15)):
        registry = client(images.registry.host, platform=platform)
        expected = T0.replace(hour=hour, minute=offset_minutes)
        assert registry.created(digest) == expected
        assert registry.requests == 3  # index, platform manifest, config blob


def test_unknown_platform_is_an_input_error_listing_the_platforms(images: Images) -> None:
    registry = client(images.registry.host, platform="windows/amd64")
    with pytest.raises(InputError, match=r"no windows/amd64 image .*linux/amd64, linux/arm/v7, linux/arm64"):
        registry.created(images.index)


@pytest.mark.parametrize(("style", "page"), [("relative", 50), ("absolute", 100), ("opaque", 40)])
def test_list_tags_follows_every_link_style(images: Images, style: str, page: int) -> None:
    with start_proxy(images.registry.url, page_size=page, link_style=style) as paged:
        registry = client(paged.host)
        tags = [info.tag for info in registry.list_tags()]
        assert sorted(tags) == sorted(images.tags)
        assert len(tags) == len(set(tags))
        pages = -(-len(images.tags) // page)
        assert paged.counts["tags"] == pages == registry.requests


def test_list_tags_without_pagination_is_one_request(images: Images) -> None:
    registry = client(images.registry.host)
    assert {info.tag for info in registry.list_tags()} == images.tags
    assert registry.requests == 1


def test_unknown_repository_names_registry_and_status(images: Images) -> None:
    registry = OciRegistry(parse(f"{images.registry.host}/team/nope"), RegistryOptions())
    # Like a missing tag, a missing repository is the user's input (exit 2), or "not yet" while waiting.
    with pytest.raises(
        RepositoryNotFound,
        match=rf"{images.registry.host}/team/nope does not exist \(registry .* answered HTTP 404",
    ):
        registry.list_tags()
    assert registry.requests == 1  # a 404 is an answer, not a transient failure


def test_a_layout_reference_is_not_a_registry(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="OCI layout"):
        OciRegistry(parse(f"oci:{tmp_path}"), RegistryOptions())


# --- pure helpers ----------------------------------------------------------------------------------


def test_plain_http_only_for_loopback_or_insecure_hosts() -> None:
    assert scheme_for("127.0.0.1:5000", ()) == "http"
    assert scheme_for("localhost:5000", ()) == "http"
    assert scheme_for("[::1]:5000", ()) == "http"
    assert scheme_for("ghcr.io", ()) == "https"
    assert scheme_for("registry.lan:5000", ("registry.lan:5000",)) == "http"
    assert scheme_for("10.0.0.8:5000", ()) == "https"
    assert not is_loopback("localhost.example.com")
    transport = Transport("registry-1.docker.io", "docker.io", (), lambda: None)
    assert transport.base == "https://registry-1.docker.io"


def test_parse_challenge_keeps_commas_inside_quotes() -> None:
    challenge = parse_challenge(
        'Bearer realm="https://auth.docker.io/token",service="registry.docker.io",'
        'scope="repository:library/nginx:pull,push"'
    )
    assert challenge is not None
    assert challenge.scheme == "bearer"
    assert dict(challenge.params) == {
        "realm": "https://auth.docker.io/token",
        "service": "registry.docker.io",
        "scope": "repository:library/nginx:pull,push",
    }
    basic = parse_challenge('Basic realm="Registry Realm"')
    assert basic is not None and basic.scheme == "basic" and basic.params["realm"] == "Registry Realm"
    assert parse_challenge("") is None


def test_next_link_finds_rel_next_among_links() -> None:
    header = '</v2/a/tags/list?n=2&last=b>; rel="next", <https://x/doc>; rel="help"'
    assert next_link(header) == "/v2/a/tags/list?n=2&last=b"
    assert (
        next_link("<https://h/v2/a/tags/list?cursor=Zm9v>; rel=next")
        == "https://h/v2/a/tags/list?cursor=Zm9v"
    )
    assert next_link('<https://x/doc>; rel="help"') is None
    assert next_link(None) is None


def test_parse_time_accepts_rfc3339_with_nanoseconds_and_offsets() -> None:
    assert parse_time("2026-03-01T12:00:00.123456789Z") == datetime(
        2026, 3, 1, 12, 0, 0, 123456, timezone.utc
    )
    assert parse_time("2026-03-01T14:00:00+02:00") == datetime(2026, 3, 1, 12, 0, tzinfo=timezone.utc)
    assert parse_time("2026-03-01T12:00:00Z") == datetime(2026, 3, 1, 12, 0, tzinfo=timezone.utc)
    assert parse_time("yesterday") is None
    assert parse_time(None) is None


def test_pick_platform_matches_arm64_with_or_without_v8() -> None:
    index = {
        "manifests": [
            {"digest": "a", "platform": {"os": "linux", "architecture": "amd64"}},
            {"digest": "b", "platform": {"os": "linux", "architecture": "arm64", "variant": "v8"}},
            {"digest": "c", "platform": {"os": "linux", "architecture": "arm", "variant": "v7"}},
        ]
    }
    assert (pick_platform(index, "linux/arm64") or {})["digest"] == "b"
    assert (pick_platform(index, "linux/arm64/v8") or {})["digest"] == "b"
    assert (pick_platform(index, "linux/arm/v7") or {})["digest"] == "c"
    assert pick_platform(index, "linux/arm/v6") is None
    assert pick_platform(index, "linux/s390x") is None
