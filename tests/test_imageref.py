"""Image references: Docker's normalisation rules and one-line errors for bad input."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from updater.domain.imageref import ImageRef, parse
from updater.infra.errors import InputError

DIGEST = "sha256:" + "ab" * 32


@pytest.mark.parametrize(
    ("text", "registry", "repository", "tag", "digest"),
    [
        ("nginx", "docker.io", "library/nginx", None, None),
        ("nginx:1.25", "docker.io", "library/nginx", "1.25", None),
        ("docker.io/library/nginx:1.25", "docker.io", "library/nginx", "1.25", None),
        ("index.docker.io/nginx", "docker.io", "library/nginx", None, None),
        ("bitnami/redis:7", "docker.io", "bitnami/redis", "7", None),
        (f"localhost:5000/app:t@{DIGEST}", "localhost:5000", "app", "t", DIGEST),
        (f"localhost/app@{DIGEST}", "localhost", "app", None, DIGEST),
        ("europe-docker.pkg.dev/p/r/img", "europe-docker.pkg.dev", "p/r/img", None, None),
        ("gcr.io/p/img:stage-1a2b3c4", "gcr.io", "p/img", "stage-1a2b3c4", None),
        (
            "eu.gcr.io/airqo-250220/airqo-stage-analytics-api",
            "eu.gcr.io",
            "airqo-250220/airqo-stage-analytics-api",
            None,
            None,
        ),
        ("ghcr.io/o/img", "ghcr.io", "o/img", None, None),
        ("127.0.0.1:5000/a/b__c.d-e:v_1.0-rc", "127.0.0.1:5000", "a/b__c.d-e", "v_1.0-rc", None),
        ("[::1]:5000/app:1", "[::1]:5000", "app", "1", None),
        ("  nginx  ", "docker.io", "library/nginx", None, None),
    ],
)
def test_parse_normalises_like_docker(
    text: str, registry: str, repository: str, tag: str | None, digest: str | None
) -> None:
    assert parse(text) == ImageRef(registry, repository, tag, digest)


def test_docker_hub_api_host_and_names() -> None:
    ref = parse("nginx:1.25")
    assert ref.api_host == "registry-1.docker.io"
    assert ref.name == "docker.io/library/nginx"
    assert str(ref) == "docker.io/library/nginx:1.25"
    other = parse(f"127.0.0.1:5000/app:t@{DIGEST}")
    assert other.api_host == "127.0.0.1:5000"
    assert str(other) == f"127.0.0.1:5000/app:t@{DIGEST}"


def test_with_tag_replaces_tag_and_drops_digest() -> None:
    ref = parse(f"ghcr.io/o/img:old@{DIGEST}").with_tag("new")
    assert (ref.tag, ref.digest, ref.name) == ("new", None, "ghcr.io/o/img")
    with pytest.raises(InputError, match="invalid tag"):
        ref.with_tag("-bad")


def test_layout_references() -> None:
    assert parse("oci:/srv/layout") == ImageRef("", "", layout="/srv/layout")
    ref = parse("oci:./images/app:v1")
    assert (ref.layout, ref.tag, ref.registry, ref.name) == ("./images/app", "v1", "", "oci:./images/app")


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "empty image reference"),
        ("Nginx/app", "lowercase"),
        ("ghcr.io/Org/app", "lowercase"),
        ("ghcr.io/o/app:-x", "invalid tag"),
        ("ghcr.io/o/app:" + "a" * 129, "invalid tag"),
        ("ghcr.io/o/app@sha256:abc", "invalid digest"),
        ("ghcr.io/o/app@sha256:" + "a" * 63, "64 hex"),
        ("ghcr.io/o//app", "invalid repository"),
        ("ghcr.io/o/app-", "invalid repository"),
        ("bad_host.io:x/app", "invalid registry host"),
        ("oci:", "needs the path"),
        ("ghcr.io/" + "a" * 300, "longer than 255"),
    ],
)
def test_bad_references_raise_one_line_input_errors(text: str, message: str) -> None:
    with pytest.raises(InputError, match=message) as info:
        parse(text)
    assert "\n" not in info.value.message
    assert info.value.exit_code == 2


_component = st.from_regex(r"[a-z0-9]{1,6}(?:[._-][a-z0-9]{1,6}){0,2}", fullmatch=True)
_host = st.sampled_from(["ghcr.io", "127.0.0.1:5000", "localhost:5000", "europe-docker.pkg.dev", "docker.io"])
_tag = st.from_regex(r"[A-Za-z0-9_][A-Za-z0-9_.-]{0,20}", fullmatch=True)


@given(host=_host, path=st.lists(_component, min_size=1, max_size=4), tag=st.none() | _tag)
def test_formatting_then_parsing_round_trips(host: str, path: list[str], tag: str | None) -> None:
    text = f"{host}/{'/'.join(path)}" + (f":{tag}" if tag else "")
    ref = parse(text)
    assert parse(str(ref)) == ref
    assert ref.tag == tag
    if host != "docker.io" or len(path) > 1:
        assert ref.name == f"{host}/{'/'.join(path)}"
