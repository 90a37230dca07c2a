"""10,000 tags that really exist in the real registry, listed through the paginating proxy."""

from __future__ import annotations

import pytest

from testing.registry import BulkRegistry, bulk_registry
from testing.registry_proxy import Faults, start_proxy
from updater.domain.imageref import parse
from updater.infra import retry
from updater.registry.base import RegistryOptions
from updater.registry.oci import PAGE_SIZE, OciRegistry

# A soak run (make test-long): building the 10,000-tag registry takes ~30 s per test process. Paging
# itself is tested in make test on small lists (tests/test_oci.py, test_oci_cli.py).
pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def bulk() -> BulkRegistry:
    return bulk_registry()


def test_the_registry_really_holds_ten_thousand_tags(bulk: BulkRegistry) -> None:
    # Straight to distribution 2.8, which ignores n/last and answers with everything at once, unordered.
    client = OciRegistry(parse(f"{bulk.registry.host}/{bulk.repository}"), RegistryOptions())
    assert sorted(info.tag for info in client.list_tags()) == list(bulk.tags)
    assert client.requests == 1


@pytest.mark.parametrize(("style", "max_page"), [("relative", 1000), ("absolute", 1000), ("opaque", 250)])
def test_ten_thousand_tags_through_every_link_style(bulk: BulkRegistry, style: str, max_page: int) -> None:
    with start_proxy(bulk.registry.url, page_size=100, max_page=max_page, link_style=style) as proxy:
        client = OciRegistry(parse(f"{proxy.host}/{bulk.repository}"), RegistryOptions())
        tags = [info.tag for info in client.list_tags()]
    assert tags == list(bulk.tags)
    pages = len(bulk.tags) // min(max_page, PAGE_SIZE)
    assert proxy.counts["tags"] == pages == client.requests
    assert f"?n={PAGE_SIZE}" in proxy.log[0][1]  # we ask for big pages; the server may give less


def test_ten_thousand_tags_with_thirty_percent_faults(
    bulk: BulkRegistry, monkeypatch: pytest.MonkeyPatch
) -> None:
    waits: list[float] = []
    monkeypatch.setattr(retry, "sleep", waits.append)
    faults = Faults(rate=0.3, statuses=(500, 502, 503, 429), retry_after="1", seed=11)
    with start_proxy(bulk.registry.url, max_page=200, link_style="opaque", faults=faults) as proxy:
        client = OciRegistry(parse(f"{proxy.host}/{bulk.repository}"), RegistryOptions())
        tags = [info.tag for info in client.list_tags()]
        digest = client.digest("build-4242")
    assert tags == list(bulk.tags)
    assert digest == bulk.digest
    assert sum(proxy.faults_served.values()) == len(waits) >= 10
    failed_pages = sum(1 for _, path, status in proxy.log if "/tags/list" in path and status != 200)
    assert proxy.counts["tags"] == 50 + failed_pages
