"""Issue 11, point 4: `status` says behind / up to date / other / not in registry / held, and what it costs.

Debian's registry holds six builds of one image behind the counting proxy (pages of 3 tags); four
apps share the image. The run must read the tag pages once, GET each candidate's manifest once (the
GET answers the digest: no HEAD) and each distinct config blob once.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from testing.cli import run
from testing.gitrepo import Remote, make_remote
from testing.oci_layout import LayoutImage, build_layout, utc
from testing.registry import RunningRegistry, push_image, start_registry
from testing.registry_proxy import RegistryProxy, start_proxy

REPOSITORY = "team/api"
START = datetime(2026, 1, 1, tzinfo=timezone.utc)


def _build(i: int) -> tuple[str, int]:
    """Build i: `stage-<sha7>-<epoch>`, pushed i minutes after START."""
    epoch = int((START + timedelta(minutes=i)).timestamp())
    return f"stage-{hashlib.sha1(str(i).encode()).hexdigest()[:7]}-{epoch}", i


BUILDS = [_build(i) for i in range(6)]
OUTSIDE = "hotfix-1"  # pushed by hand: outside the policy stage-{sha:7}-*
MISSING = "stage-deadbee-1700000000"  # matches the policy, never pushed


@pytest.fixture(scope="module")
def registry(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningRegistry]:
    with start_registry(tmp_path_factory.mktemp("status-registry")) as reg:
        for tag, minute in BUILDS:
            push_image(reg.url, REPOSITORY, [tag], created=START + timedelta(minutes=minute))
        push_image(reg.url, REPOSITORY, [OUTSIDE], created=START + timedelta(hours=5))
        yield reg


@pytest.fixture
def proxy(registry: RunningRegistry) -> Iterator[RegistryProxy]:
    with start_proxy(registry.url, page_size=3) as running:
        yield running


def gitops(tmp: Path, image: str, policy: str, apps: dict[str, str]) -> Remote:
    """A GitOps remote whose apps (name -> tag in git) all use `image` under staging's `policy`."""
    lines = [
        "version: 1",
        "scm: {provider: git}",
        "environments:",
        f"  staging: {{branch: main, tag: {policy}}}",
    ]
    lines.append("apps:")
    files = {}
    for name, tag in apps.items():
        lines += [f"  {name}:", f"    image: {image}", f"    values: {{staging: {name}.yaml}}"]
        lines.append("    key: image.tag")
        files[f"{name}.yaml"] = f"image:\n  tag: {tag}\n"
    files[".updater.yaml"] = "\n".join(lines) + "\n"
    return make_remote(tmp, files)


def test_states_and_the_cost_of_a_run(tmp_path: Path, proxy: RegistryProxy) -> None:
    apps = {"behind": BUILDS[2][0], "current": BUILDS[5][0], "outside": OUTSIDE, "gone": MISSING}
    remote = gitops(tmp_path, f"{proxy.host}/{REPOSITORY}", '"stage-{sha:7}-*"', apps)
    proxy.reset_counts()
    result = run("status", "--json", cwd=remote.work)
    assert (result.returncode, result.stderr) == (0, "")
    rows = {r["app"]: r for r in json.loads(result.stdout)["rows"]}
    newest = BUILDS[5][0]
    assert {app: (r["state"], r["newest"], r["behind"]) for app, r in rows.items()} == {
        "behind": ("behind", newest, True),
        "current": ("up to date", newest, False),
        "outside": ("other", newest, False),  # a newer build, but not one the policy would pick
        "gone": ("not in registry", newest, False),
    }
    # 7 tags in pages of 3 read once for the four apps; one GET per candidate (+1: the missing tag's
    # 404), one config blob per distinct digest; never a HEAD.
    counts = {kind: n for kind, n in proxy.counts.items() if n}
    assert counts == {"tags": 3, "manifest_get": 7, "blob": 6}
    table = run("status", cwd=remote.work).stdout.splitlines()
    assert table[1].split()[-1] == "behind" and table[3].split()[-1] == "other"


def test_ahead_behind_and_other_under_the_digest_strategy(tmp_path: Path) -> None:
    """`latest` lags behind the newest push: a tag in git built after it is ahead, one before is behind."""
    registry = tmp_path / "layout"
    build_layout(
        registry,
        [
            LayoutImage(tags=["stage-a"], created=utc(2026, 1, 1)),
            LayoutImage(tags=["stage-b", "latest"], created=utc(2026, 1, 2)),
            LayoutImage(tags=["stage-c"], created=utc(2026, 1, 3)),
            LayoutImage(tags=["hotfix-1"], created=utc(2026, 1, 4)),
        ],
    )
    apps = {"old": "stage-a", "new": "stage-c", "same": "stage-b", "hand": "hotfix-1"}
    policy = "{strategy: digest, tag: latest, include: '^stage-'}"
    remote = gitops(tmp_path / "git", f"oci:{registry}", policy, apps)
    result = run("status", "--json", cwd=remote.work)
    assert (result.returncode, result.stderr) == (0, "")
    states = {r["app"]: (r["state"], r["newest"]) for r in json.loads(result.stdout)["rows"]}
    assert states == {
        "old": ("behind", "stage-b"),
        "new": ("ahead", "stage-b"),  # built after the image `latest` points to
        "same": ("up to date", "stage-b"),
        "hand": ("other", "stage-b"),
    }
