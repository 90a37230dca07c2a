"""A registry that crawls, floods or lies, met through `updater resolve` as a CI job meets it.

The real registry answers behind the proxy; `testing/hostile_registry.py` replaces the answers each
test aims at. Every case must end within the retry budget, as one line on stderr naming the registry
(exit 1), with no control character from the registry echoed and nothing on stdout.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import datetime, timezone
from pathlib import Path

import pytest

from testing import hostile_registry as hostile
from testing.cli import run
from testing.registry import RunningRegistry, push_image, start_registry
from testing.registry_proxy import start_proxy

REPO = "team/app"
T0 = datetime(2026, 6, 1, tzinfo=timezone.utc)
NEWEST = ("--strategy", "newest", "--include", "^stage-")


@pytest.fixture(scope="module")
def registry(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningRegistry]:
    with start_registry(tmp_path_factory.mktemp("hostile-registry")) as reg:
        push_image(reg.url, REPO, ["stage-1"], created=T0)
        push_image(reg.url, REPO, ["stage-2"], created=T0.replace(day=2))
        yield reg


def _fails(host: str, *args: str, budget: str = "3") -> tuple[str, float]:
    """Run resolve; return its one error line (after the registry prefix) and the seconds it took."""
    started = time.monotonic()
    done = run("--retry-budget", budget, "resolve", f"{host}/{REPO}", *args, timeout=60)
    elapsed = time.monotonic() - started
    assert (done.returncode, done.stdout) == (1, ""), done.stderr
    [line] = done.stderr.splitlines()
    assert line.startswith(f"updater: error: registry {host}: "), line
    assert line.isprintable() and "\x1b" not in line
    return line.removeprefix(f"updater: error: registry {host}: "), elapsed


# --- item 4: deadlines and size caps ------------------------------------------------------------


@pytest.mark.parametrize(
    ("kinds", "args"),
    [
        (frozenset({"tags"}), NEWEST),
        (frozenset({"manifest_head"}), ("--template", "stage-1")),
    ],
    ids=["tags-list", "manifest-head"],
)
def test_a_registry_that_trickles_one_byte_a_second_fails_within_the_budget(
    registry: RunningRegistry, kinds: frozenset[str], args: tuple[str, ...]
) -> None:
    with start_proxy(registry.url, tamper=hostile.trickle(kinds)) as proxy:
        message, elapsed = _fails(proxy.host, *args)
    assert message.startswith("no complete answer within 3.0s for ")
    assert elapsed < 3 + 4  # the budget, plus the interpreter's start on a loaded machine


def test_an_endless_tags_list_is_cut_at_its_cap(registry: RunningRegistry) -> None:
    with start_proxy(registry.url, tamper=hostile.endless(frozenset({"tags"}))) as proxy:
        message, elapsed = _fails(proxy.host, *NEWEST, budget="30")
        assert proxy.total("tags") == 1  # too large is an answer, not a failure worth repeating
    assert message == f"GET /v2/{REPO}/tags/list: answer is over the 16 MiB limit"
    assert elapsed < 15


def test_an_endless_manifest_is_cut_at_four_mib(registry: RunningRegistry) -> None:
    with start_proxy(registry.url, tamper=hostile.endless(frozenset({"manifest_get"}))) as proxy:
        message, _ = _fails(proxy.host, *NEWEST, budget="30")
    assert message.endswith(": answer is over the 4 MiB limit")


def test_a_declared_huge_body_is_refused_before_reading(registry: RunningRegistry) -> None:
    tamper = hostile.endless(frozenset({"tags"}), declared=400 * 1024 * 1024)
    with start_proxy(registry.url, tamper=tamper) as proxy:
        message, elapsed = _fails(proxy.host, *NEWEST, budget="30")
    assert message == f"GET /v2/{REPO}/tags/list: answer of 419,430,400 bytes is over the 16 MiB limit"
    assert elapsed < 5


# --- item 5: shapes -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("payload", "expected"),
    [
        (b'{"tags": "abc"}', '"tags" is a JSON string, not a list of strings'),
        (b'{"tags": [{"x": 1}]}', '"tags" holds a JSON object ("{\'x\': 1}"), not a string'),
        (b'{"tags": 5}', '"tags" is a JSON number, not a list of strings'),
        (b'["stage-1"]', "the tags list is a JSON array, not an object"),
        (b"<html>busy</html>", "the tags list is not JSON"),
        (hostile.deep_array(100_000), "the tags list nests deeper than 32 levels"),
    ],
    ids=["string", "objects", "number", "array", "html", "deep"],
)
def test_a_tags_list_of_the_wrong_shape_is_one_line(
    registry: RunningRegistry, payload: bytes, expected: str
) -> None:
    with start_proxy(registry.url, tamper=hostile.tags_body(payload)) as proxy:
        message, _ = _fails(proxy.host, "--strategy", "alphabetical", "--include", ".")
    assert message == f"malformed answer: {expected}"


@pytest.mark.parametrize(
    ("header", "shown"),
    [
        ("sha256:xyz", '"sha256:xyz"'),
        ("sha256:\x1b[31mred\x1b[0m", '"sha256:\\u001b[31mred\\u001b[0m"'),
        ("sha256:" + "a" * 6000, '"sha256:' + "a" * 33 + '..." (6007 characters)'),
        ("md5:d41d8cd98f00b204e9800998ecf8427e", '"md5:d41d8cd98f00b204e9800998ecf8427e"'),
    ],
    ids=["short", "escape-codes", "6000-chars", "unregistered-algorithm"],
)
def test_a_bad_docker_content_digest_is_never_reported_as_the_digest(
    registry: RunningRegistry, header: str, shown: str
) -> None:
    with start_proxy(registry.url, tamper=hostile.digest_header(header)) as proxy:
        message, _ = _fails(proxy.host, "--template", "stage-1")
    expected = f"malformed answer: the Docker-Content-Digest of stage-1 is not a valid digest: {shown}"
    assert message == expected
    assert len(message) < 200


def test_a_digest_header_that_does_not_match_the_manifest_is_refused(registry: RunningRegistry) -> None:
    # HEAD carries no digest, so the manifest is fetched; its header names other bytes than it holds.
    wrong = "sha256:" + "0" * 64
    tamper = hostile.digest_header(wrong, kinds=frozenset({"manifest_get"}))
    with start_proxy(registry.url, tamper=tamper, drop_headers=("docker-content-digest",)) as proxy:
        message, _ = _fails(proxy.host, "--template", "stage-1")
    assert message == f"content of {wrong} does not match its digest"


# --- redirects ------------------------------------------------------------------------------------


def test_a_redirect_loop_stops_after_five_hops(registry: RunningRegistry) -> None:
    with start_proxy(registry.url, tamper=hostile.redirect_loop(frozenset({"tags"}))) as proxy:
        message, _ = _fails(proxy.host, *NEWEST)
        assert proxy.total("tags") == 6  # the request and five redirects, then no retry
    assert message == f"GET /v2/{REPO}/tags/list: more than 5 redirects"


def test_a_redirect_to_another_scheme_is_refused(registry: RunningRegistry) -> None:
    tamper = hostile.redirect(frozenset({"tags"}), lambda ex: "file:///etc/passwd")
    with start_proxy(registry.url, tamper=tamper) as proxy:
        message, _ = _fails(proxy.host, *NEWEST)
    assert message == f"GET /v2/{REPO}/tags/list: redirect to a file URL, not http(s)"


def test_a_blob_redirected_to_other_storage_is_followed(registry: RunningRegistry) -> None:
    # The spec lets a registry send blobs from elsewhere (307); here: the real registry itself.
    tamper = hostile.redirect(frozenset({"blob"}), lambda ex: f"{registry.url}{ex.path}")
    with start_proxy(registry.url, tamper=tamper) as proxy:
        done = run("resolve", f"{proxy.host}/{REPO}", *NEWEST, timeout=60)
    assert (done.returncode, done.stdout, done.stderr) == (0, "stage-2\n", "")


def test_credentials_never_follow_a_redirect_to_another_origin(tmp_path: Path) -> None:
    # The private registry sends its blobs from "storage": another origin holding the same bytes.
    with (
        start_registry(tmp_path / "private", auth="htpasswd") as private,
        start_registry(tmp_path / "storage") as storage,
    ):
        for reg in (private, storage):  # same seed and time: the same blobs and digests
            push_image(reg.url, REPO, ["stage-1"], created=T0, seed="same", auth=reg.credentials)
        with start_proxy(storage.url) as blobs:
            tamper = hostile.redirect(frozenset({"blob"}), lambda ex: f"{blobs.url}{ex.path}")
            with start_proxy(private.url, tamper=tamper) as front:
                env = {
                    "UPDATER_REGISTRY_USERNAME": "alice",
                    "UPDATER_REGISTRY_PASSWORD": private.password or "",
                }
                done = run("resolve", f"{front.host}/{REPO}", *NEWEST, env=env, timeout=60)
                assert (done.returncode, done.stdout) == (0, "stage-1\n"), done.stderr
                assert front.authorizations and blobs.counts["blob"] == 1
                assert blobs.authorizations == []


# --- item 6: a port out of range ------------------------------------------------------------------


@pytest.mark.parametrize("port", ["99999", "0", "65536"])
def test_a_port_out_of_range_is_an_input_error_at_once(port: str) -> None:
    started = time.monotonic()
    done = run("resolve", f"127.0.0.1:{port}/acme/docs", "--template", "v1", timeout=30)
    assert time.monotonic() - started < 5
    assert (done.returncode, done.stdout) == (2, "")
    assert done.stderr == (
        f"updater: error: invalid port {port} in image '127.0.0.1:{port}/acme/docs': "
        "a registry port is between 1 and 65535\n"
    )
