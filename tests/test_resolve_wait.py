"""`updater resolve --wait`: polls until the deadline (the last poll at it), at most 5 s apart, and treats
a repository that does not exist yet like a tag that does not exist yet.

CI pushes while we wait: `push_later` pushes into the real registry N seconds after the CLI starts.
The proxy in front of it stamps every poll, so the tests see when the polls happened.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from datetime import datetime, timezone

import pytest

from testing import hostile_registry as hostile
from testing.cli import run
from testing.registry import RunningRegistry, push_image, start_registry
from testing.registry_proxy import Exchange, Reply, start_proxy

REPO = "team/app"
T0 = datetime(2026, 7, 1, tzinfo=timezone.utc)
SHA = "7777777aaa"


@pytest.fixture(scope="module")
def registry(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningRegistry]:
    with start_registry(tmp_path_factory.mktemp("wait-registry")) as reg:
        push_image(reg.url, REPO, ["stage-0000000", "v1.0.0"], created=T0)
        yield reg


class Stamps:
    """A tamper hook that changes nothing and records when each request of `kind` arrived."""

    def __init__(self, kind: str) -> None:
        self.kind = kind
        self.times: list[float] = []
        self._lock = threading.Lock()

    def __call__(self, ex: Exchange) -> Reply | None:
        if ex.kind == self.kind:
            with self._lock:
                self.times.append(time.monotonic())
        return None


def _resolve(host: str, *args: str) -> tuple[int, str, str, float]:
    """Run resolve; return exit code, stdout, stderr and how long it took."""
    started = time.monotonic()
    done = run("resolve", f"{host}/{REPO}", *args, timeout=90)
    return done.returncode, done.stdout, done.stderr, time.monotonic() - started


def test_a_tag_pushed_while_waiting_is_found(registry: RunningRegistry) -> None:
    hostile.push_later(registry.url, REPO, ["stage-7777777"], after=5.0, created=T0.replace(day=2))
    code, out, err, elapsed = _resolve(
        registry.host, "--template", "stage-{sha:7}", "--sha", SHA, "--wait", "8s"
    )
    assert (code, out, err) == (0, "stage-7777777\n", "")
    assert elapsed < 5.0 + 5.0 + 2.0  # seen within one (capped) interval of the push


def test_waiting_polls_until_the_deadline_at_most_five_seconds_apart(registry: RunningRegistry) -> None:
    stamps = Stamps("manifest_head")
    with start_proxy(registry.url, tamper=stamps) as proxy:
        args = ("--template", "stage-{sha:7}", "--sha", "8888888aaa", "--wait", "14s")
        code, out, err, elapsed = _resolve(proxy.host, *args)
    assert (code, out) == (2, "")
    assert err == (
        f"updater: error: {proxy.host}/{REPO}:stage-8888888 does not exist: push the image first "
        "(waited 14s)\n"
    )
    gaps = [b - a for a, b in zip(stamps.times, stamps.times[1:], strict=False)]
    assert max(gaps) <= 5.0 + 0.6, gaps
    first = stamps.times[0]
    assert stamps.times[-1] - first >= 14 - 0.5, "the last poll is at the deadline, not a sleep before it"
    assert 14 <= elapsed < 14 + 4.0  # gave up at the deadline (it gave up at ~10 s with the old back-off)


def test_without_wait_the_message_says_how_to_wait(registry: RunningRegistry) -> None:
    code, out, err, _ = _resolve(registry.host, "--template", "stage-{sha:7}", "--sha", "9999999aaa")
    assert (code, out) == (2, "")
    assert err.endswith("does not exist: push the image first, or pass --wait DURATION\n")


# --- a repository that does not exist yet ------------------------------------------------------------

LISTING = {
    "newest": ("--strategy", "newest", "--include", "^stage-"),
    "semver": ("--range", "^1.0"),
    "digest": ("--tag", "latest", "--include", "^stage-"),
    "open-template": ("--template", "stage-*"),
}


@pytest.mark.parametrize("strategy", sorted(LISTING))
def test_a_missing_repository_is_an_input_error_without_wait(
    registry: RunningRegistry, strategy: str
) -> None:
    started = time.monotonic()
    done = run("resolve", f"{registry.host}/team/not-yet-{strategy}", *LISTING[strategy], timeout=60)
    assert (done.returncode, done.stdout) == (2, "")
    assert done.stderr == (
        f"updater: error: {registry.host}/team/not-yet-{strategy} does not exist (registry {registry.host} "
        "answered HTTP 404 to the tags list): check the image name, or pass --wait DURATION\n"
    )
    assert time.monotonic() - started < 10


@pytest.mark.parametrize("strategy", ["newest", "open-template", "digest", "semver"])
def test_a_repository_created_while_waiting_is_found(registry: RunningRegistry, strategy: str) -> None:
    repository = f"team/new-{strategy}"
    tags = ["stage-1a2b3c4", "v1.2.0", "latest"]
    hostile.push_later(registry.url, repository, tags, after=2.0, created=T0.replace(day=3))
    done = run("resolve", f"{registry.host}/{repository}", *LISTING[strategy], "--wait", "20s", timeout=60)
    expected = "v1.2.0" if strategy == "semver" else "stage-1a2b3c4"
    assert (done.returncode, done.stdout, done.stderr) == (0, f"{expected}\n", "")


def test_a_repository_that_never_appears_times_out_as_missing(registry: RunningRegistry) -> None:
    started = time.monotonic()
    done = run("resolve", f"{registry.host}/team/never", *LISTING["newest"], "--wait", "3s", timeout=60)
    assert (done.returncode, done.stdout) == (2, "")
    assert done.stderr == (
        f"updater: error: {registry.host}/team/never does not exist (registry {registry.host} answered "
        "HTTP 404 to the tags list): check the image name (waited 3s)\n"
    )
    assert 3 <= time.monotonic() - started < 3 + 4
