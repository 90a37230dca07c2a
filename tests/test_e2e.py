"""End to end: the `updater` CLI as subprocesses, a real bare git remote, Debian's real docker-registry.

Covers issue 4's "Done when": 20 concurrent bumps into one branch, the same bump twice, bad configs,
and a push that fails for good.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from testing.cli import run
from testing.gitrepo import Remote, git, make_remote, reject_pushes
from testing.oci_layout import utc
from testing.registry import RunningRegistry, push_image, start_registry

SHA = "4f9e2d1c0b3a5968778695a4b3c2d1e0f9a8b7c6"
APPS = [f"app{i:02d}" for i in range(20)]
OWN = APPS[:10]  # one values file each
SHARED = APPS[10:15]  # all five in k8s/shared/values-staging.yaml
PAIRS = APPS[15:]  # image references in a containers list, two apps per file


@pytest.fixture(scope="module")
def registry(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningRegistry]:
    with start_registry(tmp_path_factory.mktemp("registry")) as running:
        for app in APPS:
            push_image(running.host, f"team/{app}", [f"{app}-0a1b2c3"], created=utc(2024, 5, 1))
            push_image(running.host, f"team/{app}", [f"{app}-4f9e2d1"], created=utc(2024, 5, 2))
        yield running


def _pair_file(apps: list[str], host: str, tags: dict[str, str]) -> str:
    lines = ["containers:\n"]
    for app in apps:
        lines.append(f"  - name: {app}\n    image: {host}/team/{app}:{tags[app]}\n")
    return "".join(lines)


def layout(host: str, tags: dict[str, str]) -> dict[str, str]:
    """Return the repo's files with every app at `tags[app]`."""
    files = {}
    for app in OWN:
        files[f"k8s/{app}/values-staging.yaml"] = (
            f"image:\n  repository: {host}/team/{app}\n  tag: {tags[app]}\n"
        )
    files["k8s/shared/values-staging.yaml"] = "".join(
        f'{app}:\n  image:\n    tag: "{tags[app]}"\n  replicas: 1\n' for app in SHARED
    )
    for i in range(0, len(PAIRS), 2):
        files[f"k8s/pair{i // 2}/values-staging.yaml"] = _pair_file(PAIRS[i : i + 2], host, tags)
    return files


def config(host: str) -> str:
    apps = []
    for app in APPS:
        if app in OWN:
            where = f"values: {{staging: k8s/{app}/values-staging.yaml}}\n    key: image.tag"
        elif app in SHARED:
            where = f"values: {{staging: k8s/shared/values-staging.yaml}}\n    key: {app}.image.tag"
        else:
            pair = PAIRS.index(app) // 2
            where = f"values: {{staging: k8s/pair{pair}/values-staging.yaml}}\n    image-locator: true"
        apps.append(f"  {app}:\n    image: {host}/team/{app}\n    {where}\n")
    return (
        "version: 1\nscm: {provider: git}\nenvironments:\n"
        '  staging: {branch: main, tag: "{app}-{sha:7}"}\napps:\n' + "".join(apps)
    )


@pytest.fixture
def remote(tmp_path: Path, registry: RunningRegistry) -> Remote:
    old = {app: f"{app}-0a1b2c3" for app in APPS}
    return make_remote(tmp_path, {".updater.yaml": config(registry.host), **layout(registry.host, old)})


def test_twenty_concurrent_bumps_all_land_linearly(remote: Remote, registry: RunningRegistry) -> None:
    env = {**os.environ, "UPDATER_RETRY_BUDGET": "240"}
    env.pop("UPDATER_DEBUG", None)
    start = time.monotonic()
    processes = [
        subprocess.Popen(
            [
                sys.executable,
                "-m",
                "updater",
                "bump",
                "--env",
                "staging",
                "--app",
                app,
                "--sha",
                SHA,
                "--json",
            ],
            cwd=remote.work,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for app in APPS
    ]
    outputs = [p.communicate(timeout=240) for p in processes]
    elapsed = time.monotonic() - start
    failures = [
        (app, p.returncode, err)
        for app, p, (_, err) in zip(APPS, processes, outputs, strict=True)
        if p.returncode
    ]
    assert failures == []
    reports = [json.loads(out) for out, _ in outputs]
    assert all(r["changed"] and r["commit"] for r in reports)
    # All 20 landed: 20 commits on top of the initial one, no merge commit, each commit one app.
    assert remote.count() == 21 and remote.is_linear()
    subjects = remote.log()[:20]
    assert sorted(subjects) == sorted(f"bump staging: {app} {app}-4f9e2d1" for app in APPS)
    expected = layout(registry.host, {app: f"{app}-4f9e2d1" for app in APPS})
    for path, content in expected.items():
        assert remote.show(path) == content.encode(), path
    print(f"20 concurrent bumps landed in {elapsed:.1f}s")


def test_same_bump_twice_second_is_noop(remote: Remote) -> None:
    bump = ("bump", "--env", "staging", "--app", "app03", "--app", "app11", "--sha", SHA, "--json")
    first = run(*bump, cwd=remote.work)
    assert (first.returncode, first.stderr) == (0, "")
    assert json.loads(first.stdout)["changed"] is True
    head = remote.head()
    second = run(*bump, cwd=remote.work)
    assert (second.returncode, second.stderr) == (0, "")
    report = json.loads(second.stdout)
    assert report["changed"] is False and report["commit"] is None
    assert [a["changed"] for a in report["apps"]] == [False, False]
    assert remote.head() == head and remote.count() == 2


def test_push_refused_for_good_exits_1_and_leaves_everything_clean(remote: Remote) -> None:
    reject_pushes(remote, "main is protected: changes go through review")
    head = remote.head()
    before = set(Path(os.environ.get("TMPDIR", "/tmp")).glob("updater-git-*"))
    result = run("bump", "--env", "staging", "--app", "app00", "--sha", SHA, cwd=remote.work)
    assert result.returncode == 1 and result.stdout == ""
    assert result.stderr == (
        f"updater: error: git push to {remote.bare} (main) was refused: "
        "remote: main is protected: changes go through review\n"
    )
    assert remote.head() == head and remote.count() == 1
    assert git("status", "--porcelain", cwd=remote.work) == ""
    assert git("rev-parse", "HEAD", cwd=remote.work).strip() == head
    assert set(Path(os.environ.get("TMPDIR", "/tmp")).glob("updater-git-*")) <= before  # temp clone removed


def _bad(remote: Remote, pattern: str, replacement: str) -> subprocess.CompletedProcess[str]:
    cfg = remote.work / ".updater.yaml"
    text, count = re.subn(pattern, replacement, cfg.read_text(), count=1)
    assert count == 1
    cfg.write_text(text)
    git("commit", "-qam", "break the config", cwd=remote.work)
    git("push", "-q", "origin", "HEAD:main", cwd=remote.work)
    return run("bump", "--env", "staging", "--sha", SHA, cwd=remote.work)


@pytest.mark.parametrize(
    ("pattern", "replacement", "message"),
    [
        pytest.param(
            r"  app00:\n    image:",
            "  app00:\n    imgae: x\n    image:",
            '7:5: apps.app00.imgae: unknown key; did you mean "image"?',
            id="unknown-key",
        ),
        pytest.param(
            r"(  app01:\n    image: )\S+",
            r"\1[a, [b]]",
            "11:16: apps.app01.image[1]: expected a string, got a list",
            id="wrong-type",
        ),
        pytest.param(
            r"values: \{staging: k8s/app02/",
            "values: {stagin: k8s/app02/",
            '16:14: apps.app02.values.stagin: unknown environment "stagin"; did you mean "staging"?',
            id="unknown-environment",
        ),
        pytest.param(
            r"k8s/app03/values-staging\.yaml",
            "../outside/values-staging.yaml",
            '20:23: apps.app03.values.staging: "../outside/values-staging.yaml" is outside the repository; '
            "use a path relative to the repository root {root}",
            id="outside-repo",
        ),
        pytest.param(
            r"(  app04:\n)    image: \S+\n",
            r"\1",
            '22:3: apps.app04: add the required key "image" '
            "(Image repository, a list sharing one tag (the first is resolved), or per environment)",
            id="app-without-image",
        ),
        pytest.param(
            r"key: app10\.image\.tag",
            "key: app10.image.tga",
            "49: app 'app10' (staging): k8s/shared/values-staging.yaml:3: app10.image has no key 'tga'; "
            "did you mean tag?",
            id="locator-matches-nothing",
        ),
    ],
)
def test_bad_config_is_one_line_with_file_and_line_and_repo_untouched(
    remote: Remote, pattern: str, replacement: str, message: str
) -> None:
    head_before = remote.head()
    result = _bad(remote, pattern, replacement)
    head = remote.head()
    assert head != head_before  # the broken config itself was pushed by the test
    assert (result.returncode, result.stdout) == (2, "")
    cfg = remote.work / ".updater.yaml"
    assert result.stderr == f"updater: error: {cfg}:{message.format(root=remote.work)}\n"
    assert remote.head() == head and git("status", "--porcelain", cwd=remote.work) == ""
