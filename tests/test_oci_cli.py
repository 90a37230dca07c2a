"""End to end: `updater resolve` as a subprocess against the real registry (auth, faults, budgets)."""

from __future__ import annotations

import base64
import json
import os
import stat
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import datetime, timezone
from pathlib import Path

import pytest

from testing.cli import run
from testing.registry import RunningRegistry, push_image, start_registry
from testing.registry_proxy import Faults, start_proxy

T0 = datetime(2026, 6, 1, tzinfo=timezone.utc)


@pytest.fixture(scope="module")
def basic(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[RunningRegistry, str]]:
    with start_registry(tmp_path_factory.mktemp("cli-htpasswd"), auth="htpasswd") as reg:
        push_image(reg.url, "team/app", ["stage-0001"], created=T0, auth=reg.credentials)
        digest = push_image(
            reg.url, "team/app", ["stage-0002", "latest"], created=T0.replace(day=2), auth=reg.credentials
        )
        yield reg, digest


def _env(tmp_path: Path, **extra: str) -> dict[str, str]:
    docker = tmp_path / "docker"
    docker.mkdir(exist_ok=True)
    return {
        "DOCKER_CONFIG": str(docker),
        "UPDATER_REGISTRY_USERNAME": "",
        "UPDATER_REGISTRY_PASSWORD": "",
        **extra,
    }


def test_resolve_with_basic_auth_and_debug_never_prints_the_password(
    basic: tuple[RunningRegistry, str], tmp_path: Path
) -> None:
    reg, digest = basic
    env = _env(
        tmp_path, UPDATER_REGISTRY_USERNAME=reg.username or "", UPDATER_REGISTRY_PASSWORD=reg.password or ""
    )
    done = _resolve_latest_with_debug(reg, digest, env)
    assert "updater.registry: HEAD" in done.stderr  # --debug really logged the requests


def _resolve_latest_with_debug(
    reg: RunningRegistry, digest: str, env: dict[str, str]
) -> subprocess.CompletedProcess[str]:
    """Resolve team/app:latest with --debug; check the answer and that no secret was printed."""
    done = run("--debug", "resolve", f"{reg.host}/team/app", "--tag", "latest", "--json", env=env)
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    assert (result["tag"], result["digest"]) == ("stage-0002", digest)
    basic_header = base64.b64encode(f"{reg.username}:{reg.password}".encode()).decode()
    for secret in (reg.password or "", basic_header):
        assert secret not in done.stdout + done.stderr
    return done


def test_docker_config_auths_with_username_and_password_fields(
    basic: tuple[RunningRegistry, str], tmp_path: Path
) -> None:
    # The Docker CLI reads `username`/`password` where there is no base64 `auth`; so must we.
    reg, digest = basic
    env = _env(tmp_path)
    config = Path(env["DOCKER_CONFIG"]) / "config.json"
    config.write_text(json.dumps({"auths": {reg.host: {"username": reg.username, "password": reg.password}}}))
    done = _resolve_latest_with_debug(reg, digest, env)
    assert f"debug: updater.registry: credentials for {reg.host}: {config}: auths\n" in done.stderr


def test_debug_says_when_no_credentials_were_found(
    basic: tuple[RunningRegistry, str], tmp_path: Path
) -> None:
    reg, _ = basic
    done = run("--debug", "resolve", f"{reg.host}/team/app", "--tag", "latest", env=_env(tmp_path))
    assert done.returncode == 1
    assert f"credentials for {reg.host}: none (anonymous)" in done.stderr


def test_resolve_with_token_auth_via_a_credential_helper(tmp_path: Path) -> None:
    with start_registry(tmp_path / "reg", auth="token") as reg:
        digest = push_image(reg.url, "team/app", ["v1.2.0"], created=T0, auth=reg.credentials)
        assert reg.token_server is not None
        bin_dir = tmp_path / "bin"
        bin_dir.mkdir()
        helper = bin_dir / "docker-credential-updatercli"
        answer = json.dumps({"ServerURL": reg.host, "Username": reg.username, "Secret": reg.password})
        helper.write_text(f"#!{sys.executable}\nimport sys\nsys.stdin.read()\nprint({answer!r})\n")
        helper.chmod(helper.stat().st_mode | stat.S_IXUSR)
        env = _env(tmp_path, PATH=f"{bin_dir}{os.pathsep}{os.environ['PATH']}")
        (Path(env["DOCKER_CONFIG"]) / "config.json").write_text(
            json.dumps({"credHelpers": {reg.host: "updatercli"}})
        )
        done = run("--debug", "resolve", f"{reg.host}/team/app", "--strategy", "semver", "--json", env=env)
        assert done.returncode == 0, done.stderr
        assert (json.loads(done.stdout)["tag"], json.loads(done.stdout)["digest"]) == ("v1.2.0", digest)
        assert reg.token_server.issued, "the registry should have demanded a token"
        config = Path(env["DOCKER_CONFIG"]) / "config.json"
        assert f"credentials for {reg.host}: {config}: credential helper docker-credential-updatercli" in (
            done.stderr
        )
        for secret in (reg.password or "", *reg.token_server.issued):
            assert secret not in done.stdout + done.stderr


def test_resolve_through_thirty_percent_faults(basic: tuple[RunningRegistry, str], tmp_path: Path) -> None:
    reg, _ = basic
    faults = Faults(rate=0.3, statuses=(500, 502, 503, 429), retry_after="0", seed=3)
    with start_proxy(reg.url, page_size=1, faults=faults) as proxy:
        env = _env(
            tmp_path,
            UPDATER_REGISTRY_USERNAME=reg.username or "",
            UPDATER_REGISTRY_PASSWORD=reg.password or "",
        )
        done = run("resolve", f"{proxy.host}/team/app", "--tag", "latest", "--json", env=env)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["tag"] == "stage-0002"
    assert sum(proxy.faults_served.values()) >= 1


@pytest.mark.parametrize("status", [503, 429])
def test_permanent_failure_exits_1_with_one_line_within_the_budget(
    basic: tuple[RunningRegistry, str], tmp_path: Path, status: int
) -> None:
    reg, _ = basic
    with start_proxy(reg.url, faults=Faults(permanent=status, retry_after="1")) as proxy:
        env = _env(
            tmp_path,
            UPDATER_REGISTRY_USERNAME=reg.username or "",
            UPDATER_REGISTRY_PASSWORD=reg.password or "",
        )
        started = time.monotonic()
        done = run(
            "--retry-budget", "3", "resolve", f"{proxy.host}/team/app", "--template", "stage-0002", env=env
        )
        elapsed = time.monotonic() - started
    assert done.returncode == 1
    assert done.stdout == ""
    lines = done.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith(
        f"updater: error: registry {proxy.host}: HTTP {status} for "
    )
    assert proxy.total() >= 2  # retried before giving up
    assert elapsed < 3 + 5  # the budget, plus interpreter start-up on a busy machine
