"""Every strategy against Debian's real docker-registry: anonymous, htpasswd and token auth, request
budgets and faults through the counting proxy, and `updater resolve` as a subprocess."""

from __future__ import annotations

import json
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from testing.cli import ROOT, run
from testing.oci_layout import utc
from testing.registry import RunningRegistry, bulk_registry, push_image, start_registry
from testing.registry_proxy import Faults, RegistryProxy, start_proxy
from updater.domain.imageref import parse
from updater.infra import retry
from updater.registry.base import Registry, RegistryOptions
from updater.registry.open import open_registry
from updater.resolve import Strategy, TemplateVars, resolve

REPO = "team/app"
SHA = "1a2b3c4d5e6f7a8b9c0d1a2b3c4d5e6f7a8b9c0d"
VARS = TemplateVars(sha=SHA, app="app")
IMAGES = {  # name -> (tags, created, platforms)
    "A": (["stage-app-0000000", "v1.2.0", "build-9"], utc(2026, 1, 1), None),
    "B": (["stage-app-1a2b3c4", "v1.10.0", "build-10"], utc(2026, 1, 3), ["linux/amd64", "linux/arm64"]),
    "C": (["stage-1a2b3c4d-1767400000", "v2.0.0-rc.1", "build-11"], utc(2026, 1, 5), None),
    "D": (["stage-1a2b3c4d-1767300000"], utc(2026, 1, 4), None),
    "E": (["stage-app-5555555", "latest"], utc(2026, 1, 2), None),  # a moving tag on an immutable one
}
TAG_COUNT = sum(len(tags) for tags, _, _ in IMAGES.values())
# strategy -> (expected tag, image it belongs to)
CASES = [
    (Strategy(template="stage-{app}-{sha:7}"), "stage-app-1a2b3c4", "B"),
    (Strategy(template="stage-{sha:8}-*"), "stage-1a2b3c4d-1767400000", "C"),
    (Strategy("digest", tag="latest", include="^stage-app-"), "stage-app-5555555", "E"),
    (Strategy("newest", include="^build-"), "build-11", "C"),
    (Strategy("semver"), "v1.10.0", "B"),
    (Strategy("semver", range=">=2.0.0-rc.0"), "v2.0.0-rc.1", "C"),
    (Strategy("alphabetical", include="^stage-app-"), "stage-app-5555555", "E"),
    (Strategy("numerical", include=r"^build-(\d+)$"), "build-11", "C"),
]


@dataclass
class Seeded:
    registry: RunningRegistry
    digests: dict[str, str]


def _seed(registry: RunningRegistry) -> Seeded:
    digests = {
        name: push_image(
            registry.url, REPO, tags, created=created, platforms=platforms, auth=registry.credentials
        )
        for name, (tags, created, platforms) in IMAGES.items()
    }
    return Seeded(registry, digests)


@pytest.fixture(scope="module", params=[None, "htpasswd", "token"])
def seeded(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Seeded]:
    with start_registry(tmp_path_factory.mktemp(f"registry-{request.param}"), auth=request.param) as registry:
        yield _seed(registry)


@pytest.fixture(scope="module")
def anonymous(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Seeded]:
    with start_registry(tmp_path_factory.mktemp("registry-budget")) as registry:
        yield _seed(registry)


@pytest.fixture
def proxy(anonymous: Seeded) -> Iterator[RegistryProxy]:
    with start_proxy(anonymous.registry.url, page_size=2) as running:
        yield running


def _open(host: str, registry: RunningRegistry | None = None, platform: str = "linux/amd64") -> Registry:
    options = RegistryOptions(platform=platform)
    if registry is not None and registry.credentials:
        options = RegistryOptions(username=registry.username, password=registry.password, platform=platform)
    return open_registry(parse(f"{host}/{REPO}"), options)


def test_every_strategy(seeded: Seeded) -> None:
    for strategy, tag, image in CASES:
        res = resolve(_open(seeded.registry.host, seeded.registry), strategy, VARS)
        assert (res.tag, res.digest) == (tag, seeded.digests[image]), strategy


def test_build_time_of_the_selected_platform(anonymous: Seeded) -> None:
    strategy = Strategy("newest", include="^build-10$")
    assert resolve(_open(anonymous.registry.host), strategy, VARS).created == utc(2026, 1, 3)
    arm = resolve(_open(anonymous.registry.host, platform="linux/arm64"), strategy, VARS)
    assert arm.created == utc(2026, 1, 3, 0, 1)


def _registry_requests(proxy: RegistryProxy) -> int:
    return proxy.total() - proxy.counts["ping"]


def test_template_budget(proxy: RegistryProxy) -> None:
    res = resolve(_open(proxy.host), Strategy(template="stage-{app}-{sha:7}"), VARS)
    assert res.tag == "stage-app-1a2b3c4"
    assert res.requests <= 2
    assert _registry_requests(proxy) == res.requests


def test_digest_budget(proxy: RegistryProxy) -> None:
    res = resolve(_open(proxy.host), Strategy("digest", tag="latest", include="^stage-"), VARS)
    assert res.tag == "stage-app-5555555"
    pages = -(-TAG_COUNT // 2)
    checked = 1 + sum(1 for c in res.candidates if c.digest is not None)  # the given tag + siblings read
    assert proxy.counts["tags"] == pages
    assert res.requests == _registry_requests(proxy) == pages + checked
    assert checked < sum(1 for c in res.candidates if c.accepted) + 1  # stopped at the first match


def test_newest_reads_each_filtered_digest_once(proxy: RegistryProxy) -> None:
    # build-9 and v1.2.0 share a digest; build-10 is a multi-arch index
    res = resolve(_open(proxy.host), Strategy("newest", include=r"^(build-\d+|v1\.2\.0)$"), VARS)
    assert res.tag == "build-11"
    assert proxy.counts["blob"] == 3  # one config blob per distinct digest, none for other tags
    assert res.requests == _registry_requests(proxy)


def test_faults_still_resolve(proxy: RegistryProxy, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(retry, "sleep", lambda seconds: None)  # the waits are B1's tests' subject
    proxy.set_faults(Faults(rate=0.3, statuses=(500, 502, 503, 429), retry_after="1", seed=7))
    for strategy, tag, _ in CASES:
        assert resolve(_open(proxy.host), strategy, VARS).tag == tag
    assert sum(proxy.faults_served.values()) > 5


def test_cli_json_and_explain(anonymous: Seeded) -> None:
    host = anonymous.registry.host
    result = run("resolve", f"{host}/{REPO}:latest", "--include", "^stage-app-", "--json", "--explain")
    assert result.returncode == 0, result.stderr
    out = json.loads(result.stdout)
    assert {k: out[k] for k in ("image", "tag", "digest", "strategy")} == {
        "image": f"{host}/{REPO}",
        "tag": "stage-app-5555555",
        "digest": anonymous.digests["E"],
        "strategy": "digest",
    }
    assert {
        "tag": "v1.2.0",
        "accepted": False,
        "reason": "does not match include /^stage-app-/",
    }.items() <= next(c for c in out["candidates"] if c["tag"] == "v1.2.0").items()
    plain = run("resolve", f"{host}/{REPO}", "--range", "^1", "--explain")
    assert plain.stdout == "v1.10.0\n"
    assert "+ v1.10.0: chosen: highest\n" in plain.stderr
    lines = plain.stderr.splitlines()
    assert "- v2.0.0-rc.1: a pre-release (name one in --range to allow them)" in lines
    assert "+ v1.2.0: lower than v1.10.0" in lines and len(lines) == TAG_COUNT


def test_cli_missing_tag_and_permanent_failure(anonymous: Seeded) -> None:
    host = anonymous.registry.host
    missing = run("resolve", f"{host}/{REPO}", "--template", "stage-{sha:7}", "--sha", "fffffff")
    assert (missing.returncode, missing.stdout) == (2, "")
    assert missing.stderr == (
        f"updater: error: {host}/{REPO}:stage-fffffff does not exist: push the image first, "
        "or pass --wait DURATION\n"
    )
    with start_proxy(anonymous.registry.url, faults=Faults(permanent=503)) as broken:
        started = time.monotonic()
        failed = run("--retry-budget", "3", "resolve", f"{broken.host}/{REPO}", "--strategy", "newest")
        elapsed = time.monotonic() - started
    assert failed.returncode == 1
    assert failed.stdout == ""
    assert len(failed.stderr.splitlines()) == 1
    assert broken.host in failed.stderr and "503" in failed.stderr
    assert elapsed < 15


def test_cli_credentials_never_printed(seeded: Seeded) -> None:
    registry = seeded.registry
    env = {}
    if registry.credentials is not None:
        env = {
            "UPDATER_REGISTRY_USERNAME": registry.username or "",
            "UPDATER_REGISTRY_PASSWORD": registry.password or "",
        }
        denied = run("resolve", f"{registry.host}/{REPO}", "--strategy", "newest")
        assert denied.returncode != 0 and len(denied.stderr.splitlines()) == 1
    args = ("resolve", f"{registry.host}/{REPO}", "--strategy", "newest", "--include", "^stage-", "--json")
    result = run("--debug", *args, env=env)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["tag"] == "stage-1a2b3c4d-1767400000"
    assert "debug: " in result.stderr
    for secret in env.values():
        assert secret not in result.stdout + result.stderr


def test_cli_wait_until_ci_pushes(anonymous: Seeded, tmp_path: Path) -> None:
    host = anonymous.registry.host
    args = [
        "resolve",
        f"{host}/{REPO}",
        "--template",
        "stage-{sha:7}",
        "--sha",
        "7777777aaa",
        "--wait",
        "60s",
    ]
    process = subprocess.Popen(
        [sys.executable, "-m", "updater", *args],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    pusher = threading.Timer(
        1.5, lambda: push_image(anonymous.registry.url, REPO, ["stage-7777777"], created=utc(2026, 1, 7))
    )
    pusher.start()
    out, err = process.communicate(timeout=90)
    pusher.join()
    assert (process.returncode, out, err) == (0, "stage-7777777\n", "")


@pytest.mark.slow  # the shared 10,000-tag registry takes ~30 s to push, once per test process
def test_strategies_over_ten_thousand_real_tags() -> None:
    """B1's shared registry really holds build-0000 ... build-9999 on one image; pages of 1,000."""
    bulk = bulk_registry()
    with start_proxy(bulk.registry.url, page_size=1000) as paged:
        ref = parse(f"{paged.host}/{bulk.repository}")

        def check(strategy: Strategy, tag: str, requests: int) -> None:
            paged.reset_counts()
            res = resolve(open_registry(ref, RegistryOptions()), strategy, TemplateVars(run="42"))
            assert (res.tag, res.digest, res.requests) == (tag, bulk.digest, requests), strategy
            assert _registry_requests(paged) == requests
            exact = strategy.kind == "template" and "*" not in (strategy.template or "")
            assert paged.counts["tags"] == (0 if exact else 10)

        check(Strategy(template="build-00{run}"), "build-0042", 1)
        check(Strategy("numerical", include=r"^build-(\d+)$"), "build-9999", 10 + 1)
        check(Strategy("alphabetical", include="^build-"), "build-9999", 10 + 1)
        # the given tag's HEAD, the pages, then the first sibling checked matches
        check(Strategy("digest", tag="build-0042", include="^build-99"), "build-9999", 1 + 10 + 1)
        # ten matches on one digest: ten manifest GETs (each carries the digest), then one config blob
        check(Strategy(template="build-999*"), "build-9999", 10 + 10 + 1)
