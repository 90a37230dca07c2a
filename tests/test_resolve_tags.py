"""Which tags `updater resolve` may answer, and what reading them costs, counted by the proxy.

- The digest strategy never answers a moving tag: environment names (`stage`, `prod`, ...) move like
  `latest`, and among the tags sharing the digest those that look immutable (a commit hash, a version,
  a timestamp) are checked first, so 10,000 tags cost the pages and a few HEADs.
- `newest` reads each candidate's manifest with one GET (the answer carries the digest), never a HEAD
  and then a GET.
- Tags a registry lists that are not valid OCI tags are dropped, and `--explain` says so, escaped.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone

import pytest
import requests

from testing import hostile_registry as hostile
from testing.cli import run
from testing.registry import RunningRegistry, bulk_registry, push_image, start_registry
from testing.registry_proxy import RegistryProxy, start_proxy

REPO = "team/app"
T0 = datetime(2026, 8, 1, tzinfo=timezone.utc)


@pytest.fixture(scope="module")
def registry(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningRegistry]:
    with start_registry(tmp_path_factory.mktemp("tags-registry")) as reg:
        push_image(reg.url, REPO, ["rel-0000000", "stage-old"], created=T0)
        push_image(reg.url, REPO, ["rel-1234567", "stage", "latest"], created=T0 + timedelta(days=1))
        push_image(reg.url, "team/multi", ["build-1"], created=T0, platforms=["linux/amd64", "linux/arm64"])
        for i in range(5):
            push_image(reg.url, "team/five", [f"build-{i}"], created=T0 + timedelta(hours=i))
        yield reg


@pytest.fixture
def proxy(registry: RunningRegistry) -> Iterator[RegistryProxy]:
    with start_proxy(registry.url, page_size=100) as running:
        yield running


def _resolve(image: str, *args: str) -> tuple[str, str]:
    done = run("resolve", image, *args, timeout=60)
    assert done.returncode == 0, done.stderr
    return done.stdout, done.stderr


# --- item 3: moving tags ---------------------------------------------------------------------------


@pytest.mark.parametrize("moving", ["stage", "latest"])
def test_the_digest_strategy_answers_the_immutable_sibling(registry: RunningRegistry, moving: str) -> None:
    out, _ = _resolve(f"{registry.host}/{REPO}:{moving}")
    assert out == "rel-1234567\n"


def test_explain_names_environment_tags_as_moving(registry: RunningRegistry) -> None:
    _, err = _resolve(f"{registry.host}/{REPO}:latest", "--explain")
    assert "- stage: a moving tag (give --include to allow it)" in err.splitlines()
    assert any(line.startswith("+ rel-1234567: chosen: same digest as latest") for line in err.splitlines())


@pytest.fixture
def bulk_with_moving_tags() -> Iterator[tuple[RunningRegistry, str]]:
    """The shared 10,000-tag repository plus one more image under a hash tag, `stage` and `latest`.

    The image is deleted afterwards (distribution deletes every tag of a manifest deleted by digest),
    so the repository holds its 10,000 tags again for the tests that count its pages.
    """
    bulk = bulk_registry()
    digest = push_image(
        bulk.registry.url, bulk.repository, ["0a1b2c3d4e5f", "stage", "latest"], created=T0, seed="moving"
    )
    yield bulk.registry, digest
    url = f"{bulk.registry.url}/v2/{bulk.repository}/manifests/{digest}"
    assert requests.delete(url, timeout=30).status_code == 202


@pytest.mark.slow  # the shared 10,000-tag registry takes ~20 s to push, once per test process
def test_ten_thousand_tags_cost_the_pages_and_two_heads(
    bulk_with_moving_tags: tuple[RunningRegistry, str],
) -> None:
    # The hash tag sorts before every build-NNNN: checked by name, 10,000 HEADs would come first.
    registry, digest = bulk_with_moving_tags
    with start_proxy(registry.url, page_size=1000) as paged:
        done = run("resolve", f"{paged.host}/bulk/app:latest", "--json", timeout=120)
        assert done.returncode == 0, done.stderr
        result = json.loads(done.stdout)
        assert (result["tag"], result["digest"]) == ("0a1b2c3d4e5f", digest)
        assert paged.counts["tags"] == 11  # 10,003 tags in pages of 1,000
        assert paged.counts["manifest_head"] == 2  # latest, then the hash tag: it matches
        assert result["requests"] == 13


# --- item 8: one GET per candidate ------------------------------------------------------------------


def test_newest_reads_five_candidates_with_eleven_requests(proxy: RegistryProxy) -> None:
    done = run("resolve", f"{proxy.host}/team/five", "--strategy", "newest", "--include", "^build-", "--json")
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["tag"] == "build-4"
    # one tags page, then per candidate its manifest (GET, which carries the digest) and config blob
    assert dict(proxy.counts) == {"tags": 1, "manifest_get": 5, "blob": 5}
    assert json.loads(done.stdout)["requests"] == 11


def test_newest_reads_an_index_with_four_requests(proxy: RegistryProxy) -> None:
    done = run(
        "resolve", f"{proxy.host}/team/multi", "--strategy", "newest", "--include", "^build-", "--json"
    )
    assert done.returncode == 0, done.stderr
    # the tags page, the index by tag, the platform's manifest, its config blob
    assert dict(proxy.counts) == {"tags": 1, "manifest_get": 2, "blob": 1}


# --- item 5: invalid tags in a listing --------------------------------------------------------------

INVALID = ("v1\nevil: 1", "../../x", "x\r::error::", "zz\x1b[31m")


def test_invalid_tags_are_dropped_and_explained(registry: RunningRegistry) -> None:
    with start_proxy(registry.url, tamper=hostile.extra_tags(*INVALID)) as proxy:
        done = run(
            "resolve", f"{proxy.host}/{REPO}", "--strategy", "alphabetical", "--include", ".", "--explain"
        )
    assert (done.returncode, done.stdout) == (0, "stage-old\n")
    lines = done.stderr.splitlines()
    for tag in INVALID:
        assert f"- {json.dumps(tag)}: not a valid OCI tag: ignored" in lines
    assert all(line.isprintable() for line in lines)
    assert not any(line.startswith("::") for line in lines)  # no forged workflow command
