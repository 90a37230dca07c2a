"""The registry client reads proxies and trusted CAs from the environment, as requests and curl do.

Registry traffic goes through http.client (updater/registry/transport.py), so what requests used to
read from the environment is read by updater/registry/proxies.py: HTTPS_PROXY / HTTP_PROXY /
ALL_PROXY (a lower-case name wins), NO_PROXY, credentials in the proxy URL, REQUESTS_CA_BUNDLE /
CURL_CA_BUNDLE. End to end through
the CLI: Debian's registry serving TLS with a private CA, reached by a name only the forward proxy
knows, behind a proxy that wants credentials, as on a corporate network.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from datetime import datetime, timezone
from pathlib import Path

import pytest

from testing.cli import run
from testing.forward_proxy import start_forward_proxy
from testing.registry import RunningRegistry, push_image, start_registry
from testing.tls import self_signed
from updater.registry.proxies import proxy_for

T0 = datetime(2026, 6, 1, tzinfo=timezone.utc)
NAME = "registry.example"  # RFC 2606: never resolves, so only the proxy can reach it
PROXY_SECRET = "pr0xy-s3cret"


@pytest.mark.parametrize(
    ("url", "env", "expected"),
    [
        ("https://reg.example/v2/", {"HTTPS_PROXY": "http://p:3128"}, "http://p:3128"),
        ("http://reg.example/v2/", {"HTTPS_PROXY": "http://p:3128"}, None),
        ("http://reg.example/v2/", {"HTTP_PROXY": "p:3128"}, "http://p:3128"),
        ("https://reg.example/v2/", {"ALL_PROXY": "http://all:1"}, "http://all:1"),
        (
            "https://reg.example/v2/",
            {"HTTPS_PROXY": "http://up:1", "https_proxy": "http://low:1"},
            "http://low:1",
        ),
        ("https://reg.example/v2/", {"HTTPS_PROXY": "http://p:1", "NO_PROXY": "reg.example"}, None),
        ("https://sub.reg.example/v2/", {"HTTPS_PROXY": "http://p:1", "NO_PROXY": "reg.example"}, None),
        ("https://sub.reg.example/v2/", {"HTTPS_PROXY": "http://p:1", "NO_PROXY": ".reg.example"}, None),
        (
            "https://badreg.example/v2/",
            {"HTTPS_PROXY": "http://p:1", "NO_PROXY": "reg.example"},
            "http://p:1",
        ),
        ("https://reg.example:5000/v2/", {"HTTPS_PROXY": "http://p:1", "NO_PROXY": "reg.example:5000"}, None),
        (
            "https://reg.example/v2/",
            {"HTTPS_PROXY": "http://p:1", "NO_PROXY": "reg.example:5000"},
            "http://p:1",
        ),
        ("https://10.1.2.3/v2/", {"HTTPS_PROXY": "http://p:1", "NO_PROXY": "localhost, 10.0.0.0/8"}, None),
        ("https://11.0.0.1/v2/", {"HTTPS_PROXY": "http://p:1", "NO_PROXY": "10.0.0.0/8"}, "http://p:1"),
        ("https://anything/v2/", {"HTTPS_PROXY": "http://p:1", "NO_PROXY": "*"}, None),
        (
            "https://reg.example/v2/",
            {"HTTPS_PROXY": "http://p:1", "NO_PROXY": "x", "no_proxy": "reg.example"},
            None,
        ),
    ],
)
def test_the_proxy_for_a_url_is_read_as_requests_and_curl_read_it(
    url: str, env: dict[str, str], expected: str | None
) -> None:
    assert proxy_for(url, env) == expected


@pytest.fixture(scope="module")
def tls_registry(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[RunningRegistry, Path, str]]:
    """A registry serving https for NAME with a private CA; the images were pushed over plain http."""
    root = tmp_path_factory.mktemp("tls-registry")
    with start_registry(root / "plain") as plain:
        digest = push_image(plain.url, "team/app", ["v1.0.0"], created=T0)
        cert, key = self_signed(root / "tls", NAME)
        with start_registry(root / "https", tls=(cert, key), storage=plain.workdir / "data") as served:
            yield served, cert, digest


def _env(tmp_path: Path, **extra: str) -> dict[str, str]:
    docker = tmp_path / "docker"
    docker.mkdir(exist_ok=True)
    quiet = {
        name: "" for name in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "NO_PROXY", "REQUESTS_CA_BUNDLE")
    }
    lower = {name.lower(): "" for name in quiet}
    return {**quiet, **lower, "CURL_CA_BUNDLE": "", "DOCKER_CONFIG": str(docker), **extra}


def _port(registry: RunningRegistry) -> int:
    return int(registry.host.rsplit(":", 1)[1])


def test_a_tls_registry_behind_a_proxy_with_credentials_and_a_private_ca(
    tls_registry: tuple[RunningRegistry, Path, str], tmp_path: Path
) -> None:
    registry, ca, digest = tls_registry
    with start_forward_proxy({f"{NAME}:443": ("127.0.0.1", _port(registry))}, f"ci:{PROXY_SECRET}") as proxy:
        url = proxy.url.replace("http://", f"http://ci:{PROXY_SECRET}@")
        env = _env(tmp_path, HTTPS_PROXY=url, REQUESTS_CA_BUNDLE=str(ca))
        done = run("--debug", "resolve", f"{NAME}/team/app", "--tag", "v1.0.0", "--json", env=env)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["digest"] == digest
    # Every request went through one tunnel to the name, with the credentials; none shows in the output.
    assert proxy.seen and all(
        (s.method, s.target, s.authorized) == ("CONNECT", f"{NAME}:443", True) for s in proxy.seen
    )
    basic = base64.b64encode(f"ci:{PROXY_SECRET}".encode()).decode()
    for secret in (PROXY_SECRET, basic):
        assert secret not in done.stdout + done.stderr


def test_a_certificate_no_trusted_ca_signed_fails_at_once_saying_what_to_set(
    tls_registry: tuple[RunningRegistry, Path, str], tmp_path: Path
) -> None:
    registry, _, _ = tls_registry
    with start_forward_proxy({f"{NAME}:443": ("127.0.0.1", _port(registry))}) as proxy:
        done = run(
            "resolve", f"{NAME}/team/app", "--tag", "v1.0.0", env=_env(tmp_path, HTTPS_PROXY=proxy.url)
        )
    assert (done.returncode, done.stdout) == (1, "")
    [line] = done.stderr.splitlines()
    assert line.startswith(
        f"updater: error: registry {NAME}: HEAD /v2/team/app/manifests/v1.0.0: TLS certificate"
    )
    assert "self-signed certificate" in line and "set REQUESTS_CA_BUNDLE" in line
    assert len(proxy.seen) == 1  # not retried: a new attempt would be refused the same way


def test_a_certificate_for_another_name_is_refused(
    tls_registry: tuple[RunningRegistry, Path, str], tmp_path: Path
) -> None:
    registry, ca, _ = tls_registry
    other = "mirror.example"
    with start_forward_proxy({f"{other}:443": ("127.0.0.1", _port(registry))}) as proxy:
        env = _env(tmp_path, HTTPS_PROXY=proxy.url, REQUESTS_CA_BUNDLE=str(ca))
        done = run("resolve", f"{other}/team/app", "--tag", "v1.0.0", env=env)
    assert done.returncode == 1
    assert "TLS certificate not trusted" in done.stderr and other in done.stderr


def test_no_proxy_sends_the_registry_past_the_proxy(
    tls_registry: tuple[RunningRegistry, Path, str], tmp_path: Path
) -> None:
    registry, _, _ = tls_registry
    with start_forward_proxy({f"{NAME}:443": ("127.0.0.1", _port(registry))}) as proxy:
        env = _env(tmp_path, HTTPS_PROXY=proxy.url, NO_PROXY=f"localhost,.{NAME.split('.')[-1]}")
        done = run("--retry-budget", "0", "resolve", f"{NAME}/team/app", "--tag", "v1.0.0", env=env)
    assert done.returncode == 1 and "connection failed" in done.stderr  # straight to DNS, which fails
    assert proxy.seen == []


def test_a_plain_http_registry_through_http_proxy(tmp_path: Path) -> None:
    with start_registry(tmp_path / "plain") as plain:
        digest = push_image(plain.url, "team/app", ["v2.0.0"], created=T0)
        with start_forward_proxy({"plain.example:80": ("127.0.0.1", _port(plain))}) as proxy:
            env = _env(tmp_path, http_proxy=proxy.url, HTTPS_PROXY="http://127.0.0.1:9")
            args = ("resolve", "plain.example/team/app", "--tag", "v2.0.0", "--json")
            done = run(*args, "--insecure-registry", "plain.example", env=env)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["digest"] == digest
    assert {(s.method, s.target) for s in proxy.seen} >= {
        ("HEAD", "http://plain.example/v2/team/app/manifests/v2.0.0")
    }


def test_a_proxy_that_wants_credentials_ends_the_run_at_once(
    tls_registry: tuple[RunningRegistry, Path, str], tmp_path: Path
) -> None:
    registry, ca, _ = tls_registry
    with start_forward_proxy({f"{NAME}:443": ("127.0.0.1", _port(registry))}, f"ci:{PROXY_SECRET}") as proxy:
        env = _env(
            tmp_path, HTTPS_PROXY=proxy.url.replace("http://", "http://ci:wrong@"), REQUESTS_CA_BUNDLE=str(ca)
        )
        done = run("resolve", f"{NAME}/team/app", "--tag", "v1.0.0", env=env)
    assert (done.returncode, done.stdout) == (1, "")
    [line] = done.stderr.splitlines()
    assert "the proxy refused the tunnel (407 Proxy Authentication Required)" in line
    assert "user-info part of the HTTPS_PROXY URL" in line and "wrong" not in line
    assert [s.authorized for s in proxy.seen] == [False]  # asked once: a new attempt meets the same 407


@pytest.mark.parametrize(
    ("proxy", "says"),
    [
        ("socks5://127.0.0.1:1080", "registries are reached through http:// proxies"),
        ("https://127.0.0.1:3129", "registries are reached through http:// proxies"),
        ("http://127.0.0.1:99999", "is not a proxy URL"),
        ("http://:3128", "is not a proxy URL"),
        ("http://ci:hunter2@:3128", "is not a proxy URL"),
    ],
)
def test_a_proxy_we_cannot_speak_to_is_an_input_error(proxy: str, says: str, tmp_path: Path) -> None:
    done = run("resolve", f"{NAME}/team/app", "--tag", "v1.0.0", env=_env(tmp_path, https_proxy=proxy))
    assert (done.returncode, done.stdout) == (2, "")
    [line] = done.stderr.splitlines()
    assert line.startswith("updater: error: https_proxy=") and says in line
    assert "set https_proxy=http://host:port" in line and "hunter2" not in line


@pytest.mark.parametrize("bundle", ["missing.pem", "not-pem.pem"])
def test_a_ca_bundle_that_is_not_certificates_is_an_input_error(bundle: str, tmp_path: Path) -> None:
    (tmp_path / "not-pem.pem").write_text("just text\n")
    env = _env(tmp_path, REQUESTS_CA_BUNDLE=str(tmp_path / bundle))
    done = run("resolve", f"{NAME}/team/app", "--tag", "v1.0.0", env=env)
    assert (done.returncode, done.stdout) == (2, "")
    [line] = done.stderr.splitlines()
    assert f"CA bundle {tmp_path / bundle} (REQUESTS_CA_BUNDLE or CURL_CA_BUNDLE) cannot be read" in line
