"""Retries against injected faults, through the proxy in front of the real registry.

The sleeps are replaced (recorded, not slept) where the wait itself is not under test; the budget and
Retry-After tests sleep for real.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import datetime, timezone

import pytest

from testing.registry import RunningRegistry, push_image, start_registry
from testing.registry_proxy import Faults, start_proxy
from updater.domain.imageref import parse
from updater.infra import retry
from updater.infra.errors import RemoteError
from updater.registry.base import RegistryOptions
from updater.registry.oci import OciRegistry

T0 = datetime(2026, 4, 1, tzinfo=timezone.utc)


@pytest.fixture(scope="module")
def registry(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningRegistry]:
    with start_registry(tmp_path_factory.mktemp("faults-registry")) as reg:
        push_image(reg.url, "svc/api", [f"r-{i:03d}" for i in range(120)], created=T0)
        push_image(
            reg.url, "svc/api", ["multi"], created=T0.replace(day=2), platforms=["linux/amd64", "linux/arm64"]
        )
        yield reg


@pytest.fixture
def sleeps(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    recorded: list[float] = []
    monkeypatch.setattr(retry, "sleep", recorded.append)
    return recorded


@pytest.fixture
def policy() -> Iterator[None]:
    saved = retry.policy()
    yield
    retry.set_policy(saved)


def test_thirty_percent_faults_still_resolve(registry: RunningRegistry, sleeps: list[float]) -> None:
    faults = Faults(rate=0.3, statuses=(500, 502, 503, 429), retry_after="2", resets=True, seed=3)
    with start_proxy(registry.url, page_size=5, faults=faults) as proxy:
        client = OciRegistry(parse(f"{proxy.host}/svc/api"), RegistryOptions())
        tags = {info.tag for info in client.list_tags()}
        digest = client.digest("multi")
        assert digest is not None
        created = client.created(digest)
        assert digest == OciRegistry(parse(f"{registry.host}/svc/api"), RegistryOptions()).digest("multi")
    assert tags == {f"r-{i:03d}" for i in range(120)} | {"multi"}
    assert created == T0.replace(day=2)
    served = proxy.faults_served
    assert served["429"] >= 1 and served["reset"] >= 1 and served["500"] + served["502"] + served["503"] >= 1
    assert 0.15 <= sum(served.values()) / proxy.total() <= 0.45  # about 30% of requests failed
    assert len(sleeps) == sum(served.values())  # one wait per fault, none otherwise
    assert sum(1 for s in sleeps if s >= 2.0) >= served["429"]  # Retry-After is a floor
    assert client.requests == proxy.total()


def test_retry_after_is_honoured_for_real(registry: RunningRegistry) -> None:
    faults = Faults(first=1, statuses=(429,), retry_after="1", kinds=frozenset({"manifest_head"}))
    with start_proxy(registry.url, faults=faults) as proxy:
        client = OciRegistry(parse(f"{proxy.host}/svc/api"), RegistryOptions())
        started = time.monotonic()
        assert client.digest("r-001") is not None
        waited = time.monotonic() - started
    assert proxy.counts["manifest_head"] == 2
    assert waited >= 1.0


@pytest.mark.parametrize("status", [500, 503, 429])
def test_permanent_failure_names_registry_and_status_within_budget(
    registry: RunningRegistry, policy: None, status: int
) -> None:
    retry.set_policy(retry.Policy(budget=2.0, initial=0.2))
    with start_proxy(registry.url, faults=Faults(permanent=status, retry_after="0")) as proxy:
        client = OciRegistry(parse(f"{proxy.host}/svc/api"), RegistryOptions())
        started = time.monotonic()
        with pytest.raises(RemoteError) as info:
            client.digest("r-001")
        elapsed = time.monotonic() - started
    message = info.value.message
    assert message.startswith(f"registry {proxy.host}: HTTP {status} for HEAD /v2/svc/api/manifests/r-001")
    assert "\n" not in message and info.value.exit_code == 1
    assert elapsed <= 2.0 + 1.0
    assert proxy.counts["manifest_head"] >= 2  # it did retry


def test_connection_resets_are_retried(registry: RunningRegistry, sleeps: list[float]) -> None:
    faults = Faults(first=2, statuses=(), resets=True, kinds=frozenset({"tags"}))
    with start_proxy(registry.url, page_size=1000, faults=faults) as proxy:
        client = OciRegistry(parse(f"{proxy.host}/svc/api"), RegistryOptions())
        assert len(client.list_tags()) == 121
    assert proxy.faults_served["reset"] == 2 and proxy.counts["tags"] == 3
    assert len(sleeps) == 2


def test_unreachable_registry_fails_within_budget(policy: None) -> None:
    retry.set_policy(retry.Policy(budget=1.5, initial=0.1))
    client = OciRegistry(parse("127.0.0.1:9/svc/api"), RegistryOptions())  # discard port: refused
    started = time.monotonic()
    with pytest.raises(RemoteError, match=r"registry 127.0.0.1:9: connection failed \(ConnectionError\)"):
        client.list_tags()
    assert time.monotonic() - started <= 1.5 + 1.0


def test_a_registry_slower_than_the_budget_fails_within_it(registry: RunningRegistry, policy: None) -> None:
    retry.set_policy(retry.Policy(budget=1.5, initial=0.1))
    with start_proxy(registry.url, faults=Faults(delay=3.0)) as proxy:
        client = OciRegistry(parse(f"{proxy.host}/svc/api"), RegistryOptions())
        started = time.monotonic()
        with pytest.raises(RemoteError, match=rf"registry {proxy.host}: no complete answer within 1\.5s"):
            client.digest("r-001")
        assert time.monotonic() - started <= 1.5 + 1.0
