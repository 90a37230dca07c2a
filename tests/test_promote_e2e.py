"""bump -> promote -> rollback -> history through the CLI against Debian's real docker-registry.

Each environment has its own image, so a promotion must find the tag in the production image and write
THAT image's digest (not staging's); a tag missing there is refused and nothing is written.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from testing.cli import run
from testing.gitrepo import Remote, git, make_remote
from testing.oci_layout import utc
from testing.registry import RunningRegistry, push_image, start_registry

SHA = "4f9e2d1c0b3a5968778695a4b3c2d1e0f9a8b7c6"
OLD, NEW = "stage-0a1b2c3", "stage-4f9e2d1"


@pytest.fixture
def registry(tmp_path: Path) -> Iterator[RunningRegistry]:
    with start_registry(tmp_path / "registry") as running:
        yield running


def _values(tag: str, digest: str) -> str:
    return f"api:\n  image:\n    tag: {tag}\n    digest: '{digest}'\n  replicas: 2\n"


def test_bump_promote_rollback_history_against_a_real_registry(
    tmp_path: Path, registry: RunningRegistry
) -> None:
    host = registry.host
    stage = {
        tag: push_image(host, "team/api-stage", [tag], created=utc(2024, 5, day))
        for day, tag in ((1, OLD), (2, NEW))
    }
    prod_old = push_image(host, "team/api", [OLD], created=utc(2024, 5, 1))
    config = f"""version: 1
scm: {{provider: git}}
environments:
  staging: {{branch: main, tag: "stage-{{sha:7}}"}}
  production: {{branch: main, promote-from: staging}}
apps:
  api:
    image: {{staging: {host}/team/api-stage, production: {host}/team/api}}
    values: {{staging: k8s/api/values-staging.yaml, production: k8s/api/values-production.yaml}}
    key: api.image.tag
    digest: api.image.digest
"""
    remote: Remote = make_remote(
        tmp_path / "git",
        {
            ".updater.yaml": config,
            "k8s/api/values-staging.yaml": _values(OLD, stage[OLD]),
            "k8s/api/values-production.yaml": _values(OLD, prod_old),
        },
    )
    work = remote.work

    bumped = run("bump", "--env", "staging", "--sha", SHA, "--json", cwd=work)
    assert (bumped.returncode, bumped.stderr) == (0, "")
    assert json.loads(bumped.stdout)["apps"][0]["digest"] == stage[NEW]
    assert remote.show("k8s/api/values-staging.yaml") == _values(NEW, stage[NEW]).encode()

    # The digest check: NEW is not in the production image yet.
    head = remote.head()
    refused = run("promote", "--to", "production", cwd=work)
    assert refused.returncode == 2
    assert refused.stderr == (
        f"updater: error: promote production: 1 image lacks the tag: {host}/team/api:{NEW} (api): "
        "push it first, or leave these apps out with --app\n"
    )
    assert remote.head() == head

    prod_new = push_image(host, "team/api", [NEW], created=utc(2024, 5, 2))
    assert prod_new != stage[NEW]
    promoted = run("promote", "--to", "production", "--json", cwd=work)
    assert (promoted.returncode, promoted.stderr) == (0, "")
    assert [(a["old"], a["new"], a["digest"]) for a in json.loads(promoted.stdout)["apps"]] == [
        (OLD, NEW, prod_new)
    ]
    assert remote.show("k8s/api/values-production.yaml") == _values(NEW, prod_new).encode()

    rolled = run("rollback", "--env", "production", "--app", "api", "--json", cwd=work)
    assert (rolled.returncode, rolled.stderr) == (0, "")
    assert remote.show("k8s/api/values-production.yaml") == _values(OLD, prod_old).encode()

    listed = run("history", "--env", "production", "--app", "api", "--json", cwd=work)
    assert (listed.returncode, listed.stderr) == (0, "")
    entries = json.loads(listed.stdout)["entries"]
    commits = git("rev-list", "main", "--", "k8s/api/values-production.yaml", cwd=remote.bare).split()
    assert [(e["tag"], e["digest"], e["commit"]) for e in entries] == [
        (OLD, prod_old, commits[0]),
        (NEW, prod_new, commits[1]),
        (OLD, prod_old, commits[2]),
    ]
    assert [e["author"] for e in entries][-1] == "Test Author <author@example.test>"
    assert remote.log()[:3] == [
        f"rollback production: api {OLD}",
        f"promote production: api {NEW}",
        f"bump staging: api {NEW}",
    ]
