"""Docker Hub as the one-person CircleCI project meets it: short names, its token service, its quota.

The real registry runs with token auth under Docker Hub's service name (`registry.docker.io`); the
loopback proxy, used as HTTP_PROXY, answers for `registry-1.docker.io`, the host Docker Hub's API lives
on, so `haoict/send2ereader` goes where it goes in real life. The quota answers follow
https://docs.docker.com/docker-hub/usage/pulls/ ("View pull rate and limit").
"""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from testing.cli import run
from testing.dockerhub import HUB, SERVICE, DockerHub, docker_hub, limited
from testing.registry_proxy import Faults
from updater.registry.ratelimit import pull_limit_message

T0 = datetime(2024, 2, 1, 12, 0, tzinfo=timezone.utc)
QUOTA_HEADERS = (("ratelimit-limit", "100;w=21600"), ("ratelimit-remaining", "0;w=21600"))
BUILDS = ["master-202401151230", "develop-202401200900", "master-202402011200", "feature-x-202402020800"]


@pytest.fixture(scope="module")
def hub(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DockerHub]:
    """A token-auth registry named like Docker Hub, holding haoict/send2ereader and library/nginx."""
    images = {
        "haoict/send2ereader": {tag: T0 + timedelta(minutes=i) for i, tag in enumerate(BUILDS)},
        "library/nginx": {("1.25.3", "latest"): T0},
    }
    with docker_hub(tmp_path_factory.mktemp("hub"), images) as running:
        yield running


def _resolve(hub: DockerHub, docker: Path, *args: str, env: dict[str, str] | None = None) -> str:
    ci = {"CIRCLE_BRANCH": "", "GITHUB_REF_NAME": ""}
    proc = run(
        "resolve", *args, "--insecure-registry", HUB, env={**hub.env(docker), **ci, **(env or {})}, timeout=60
    )
    assert proc.returncode == 0, proc.stderr
    return proc.stdout.strip()


def test_a_short_name_is_docker_hub_with_an_anonymous_pull_token(hub: DockerHub, tmp_path: Path) -> None:
    tag = _resolve(hub, tmp_path, "haoict/send2ereader", "--template", "{branch}-*", "--branch", "master")
    assert tag == "master-202402011200"
    tokens = hub.registry.token_server
    assert tokens is not None
    query = tokens.queries[-1]
    assert query["service"] == [SERVICE]
    assert query["scope"] == ["repository:haoict/send2ereader:pull"]
    assert not any(a.startswith("Basic ") for a in hub.proxy.authorizations)  # anonymous


def test_circle_branch_fills_the_branch_field(hub: DockerHub, tmp_path: Path) -> None:
    env = {"CIRCLE_BRANCH": "develop"}
    tag = _resolve(hub, tmp_path, "docker.io/haoict/send2ereader", "--template", "{branch}-*", env=env)
    assert tag == "develop-202401200900"


def test_official_images_live_under_library(hub: DockerHub, tmp_path: Path) -> None:
    assert _resolve(hub, tmp_path, "nginx:latest") == "1.25.3"
    assert hub.registry.token_server is not None
    assert hub.registry.token_server.queries[-1]["scope"] == ["repository:library/nginx:pull"]


def test_docker_login_credentials_are_found_under_the_index_key(hub: DockerHub, tmp_path: Path) -> None:
    """`docker login` stores Docker Hub credentials under https://index.docker.io/v1/, not the API host."""
    assert hub.registry.credentials is not None and hub.registry.token_server is not None
    user, password = hub.registry.credentials
    auth = base64.b64encode(f"{user}:{password}".encode()).decode()
    (tmp_path / "config.json").write_text(
        json.dumps({"auths": {"https://index.docker.io/v1/": {"auth": auth}}})
    )
    before = len(hub.registry.token_server.issued)
    tag = _resolve(hub, tmp_path, "haoict/send2ereader", "--strategy", "newest", "--include", "^master-")
    assert tag == "master-202402011200"
    assert len(hub.registry.token_server.issued) > before
    assert hub.registry.token_server.counts["denied"] == 0


def test_the_pull_quota_ends_the_run_at_once_with_when_and_what_to_do(hub: DockerHub, tmp_path: Path) -> None:
    faults = Faults(permanent=429, retry_after=None, headers=QUOTA_HEADERS, kinds=frozenset({"tags"}))
    with limited(hub, faults) as quota:
        proc = run(
            "--retry-budget",
            "30",
            "resolve",
            "haoict/send2ereader",
            "--template",
            "master-*",
            "--insecure-registry",
            HUB,
            env=quota.env(tmp_path),
            timeout=60,
        )
        assert quota.proxy.counts["tags"] == 1  # a spent quota is not retried
    assert proc.returncode == 1
    (line,) = proc.stderr.strip().splitlines()
    assert line.startswith(
        "updater: error: registry docker.io: pull rate limit reached (100 pulls per 21600 s)"
    )
    assert "fully by" in line and "docker login" in line


def test_a_plain_429_is_the_overall_limit_and_is_retried(hub: DockerHub, tmp_path: Path) -> None:
    faults = Faults(first=1, statuses=(429,), retry_after="1", kinds=frozenset({"tags"}))
    with limited(hub, faults) as busy:
        tag = _resolve(busy, tmp_path, "haoict/send2ereader", "--template", "master-*")
        assert busy.proxy.faults_served["429"] == 1
    assert tag == "master-202402011200"


def test_quota_message_from_headers_or_body() -> None:
    now = datetime(2024, 2, 1, 10, 0, tzinfo=timezone.utc)
    message = pull_limit_message(dict(QUOTA_HEADERS), "", now=now)
    assert message is not None and "fully by 16:00 UTC" in message
    assert "retry after 10:05 UTC" in (
        pull_limit_message(dict(QUOTA_HEADERS), "", retry_after=300, now=now) or ""
    )
    body = json.dumps(
        {
            "errors": [
                {"code": "TOOMANYREQUESTS", "message": "You have reached your pull rate limit. Upgrade."}
            ]
        }
    )
    assert pull_limit_message({}, body, now=now) is not None
    # The spec's code alone is any registry's 429 (an overload), and headers with pulls left are no quota.
    assert pull_limit_message({}, json.dumps({"errors": [{"code": "TOOMANYREQUESTS"}]})) is None
    assert pull_limit_message({"ratelimit-remaining": "12;w=21600"}, "") is None
