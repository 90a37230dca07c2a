"""--insecure-registry and the config's registry.insecure, end to end: the scheme a host is reached with."""

from __future__ import annotations

from pathlib import Path

import pytest

from testing.cli import run
from testing.gitrepo import SHA, two_env_gitops

HOST = "reg.invalid:5000"  # .invalid never resolves (RFC 6761): every request fails fast, remotely


def _one_error_line(stderr: str) -> str:
    """The one user-facing line; --debug adds request logs before it."""
    [line] = [line for line in stderr.splitlines() if not line.startswith("debug: ")]
    return line


@pytest.mark.parametrize(
    ("extra", "scheme"), [((), "https"), (("--insecure-registry", HOST), "http")], ids=["tls", "insecure"]
)
def test_resolve_uses_plain_http_only_for_an_insecure_registry(extra: tuple[str, ...], scheme: str) -> None:
    done = run("--retry-budget", "1", "--debug", "resolve", f"{HOST}/app", "--template", "v1", *extra)
    assert (done.returncode, done.stdout) == (1, "")
    assert f"HEAD {scheme}://{HOST}/v2/app/manifests/v1 -> ConnectionError" in done.stderr
    other = "http" if scheme == "https" else "https"
    assert f"{other}://{HOST}" not in done.stderr
    assert _one_error_line(done.stderr).startswith(f"updater: error: registry {HOST}: connection failed")


@pytest.mark.parametrize(("insecure", "scheme"), [(False, "https"), (True, "http")], ids=["tls", "insecure"])
def test_bump_reads_registry_insecure_from_the_config(tmp_path: Path, insecure: bool, scheme: str) -> None:
    ops = two_env_gitops(tmp_path)
    config = (ops.remote.work / ".updater.yaml").read_text()
    config = config.replace(f"oci:{ops.registry / 'api'}", f"{HOST}/api")
    if insecure:
        config += f"registry: {{insecure: ['{HOST}']}}\n"
    ops.remote.commit({".updater.yaml": config}, "api moves to a private registry")
    args = ("--retry-budget", "1", "--debug", "bump", "--env", "staging", "--app", "api", "--sha", SHA)
    done = run(*args, "--dry-run", cwd=ops.remote.work)
    assert (done.returncode, done.stdout) == (1, "")
    assert f"GET {scheme}://{HOST}/v2/api/tags/list" in done.stderr
    assert _one_error_line(done.stderr).startswith("updater: error: ")
    assert f"registry {HOST}: connection failed" in done.stderr
