"""What a misbehaving registry gets, through the CLI: one line naming the registry, exit 1, no traceback.

The proxy in front of the real registry sends a Link to another host, a Link that loops, a manifest
whose bytes do not match its digest, a 403, a 401 without a challenge, and a Bearer challenge whose
realm is plain HTTP on a non-loopback host.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timezone

import pytest

from testing.cli import run
from testing.registry import RunningRegistry, push_image, start_registry
from testing.registry_proxy import Faults, RegistryProxy, start_proxy

REPO = "team/app"
CREDENTIALS = {"UPDATER_REGISTRY_USERNAME": "alice", "UPDATER_REGISTRY_PASSWORD": "s3cret-pw-0042"}


@pytest.fixture(scope="module")
def registry(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningRegistry]:
    with start_registry(tmp_path_factory.mktemp("defensive-registry")) as reg:
        push_image(
            reg.url,
            REPO,
            ["stage-1", "stage-2", "stage-3"],
            created=datetime(2026, 5, 1, tzinfo=timezone.utc),
        )
        yield reg


def _fails(proxy: RegistryProxy, *args: str, env: dict[str, str] | None = None) -> str:
    """Run resolve through the proxy; return its one error line after checking exit 1 and empty stdout."""
    done = run("--retry-budget", "2", "resolve", f"{proxy.host}/{REPO}", *args, env=env, timeout=60)
    assert (done.returncode, done.stdout) == (1, ""), done.stderr
    [line] = done.stderr.splitlines()
    assert line.startswith(f"updater: error: registry {proxy.host}: ")
    return line.removeprefix(f"updater: error: registry {proxy.host}: ")


def test_a_tags_link_to_another_host(registry: RunningRegistry) -> None:
    link = f"http://elsewhere.invalid/v2/{REPO}/tags/list?n=1&last=stage-1"
    with start_proxy(registry.url, page_size=1, link_override=link) as proxy:
        assert _fails(proxy, "--strategy", "newest") == "tags list links to another host (elsewhere.invalid)"
        assert proxy.total("tags") == 1  # nothing was sent to the other host, nor asked again


def test_a_tags_link_that_loops(registry: RunningRegistry) -> None:
    link = f"/v2/{REPO}/tags/list?n=1&last=stage-1"  # every page links to the second one
    with start_proxy(registry.url, page_size=1, link_override=link) as proxy:
        assert _fails(proxy, "--strategy", "newest") == f"tags list pagination loops at {link}"
        assert proxy.total("tags") == 2


def test_a_manifest_that_does_not_match_its_digest(registry: RunningRegistry) -> None:
    with start_proxy(registry.url, corrupt=("manifest_get",)) as proxy:
        message = _fails(proxy, "--strategy", "newest")
    assert message.startswith("content of sha256:") and message.endswith(" does not match its digest")


def test_access_denied(registry: RunningRegistry) -> None:
    with start_proxy(registry.url, faults=Faults(permanent=403)) as proxy:
        message = _fails(proxy, "--template", "stage-1")
    assert message == (
        f"access denied (HTTP 403) for HEAD /v2/{REPO}/manifests/stage-1: "
        "the credentials lack pull access to this repository"
    )


def test_a_401_without_a_challenge(registry: RunningRegistry) -> None:
    with start_proxy(registry.url, faults=Faults(permanent=401)) as proxy:
        assert (
            _fails(proxy, "--template", "stage-1") == "HTTP 401 without a usable WWW-Authenticate challenge"
        )


def test_credentials_are_not_sent_to_a_plain_http_realm_elsewhere(registry: RunningRegistry) -> None:
    realm = "http://auth.invalid/token"
    challenge = ("WWW-Authenticate", f'Bearer realm="{realm}",service="registry"')
    with start_proxy(registry.url, faults=Faults(permanent=401, headers=(challenge,))) as proxy:
        message = _fails(proxy, "--template", "stage-1", env=CREDENTIALS)
    assert message == f"refusing to send credentials to a plain-HTTP token realm {realm}"
