"""`updater status` exit codes as a subprocess, over a real git remote and OCI layouts: every row is
printed, then the exit code says whether a row failed and why (1 remote, 2 config or input)."""

from __future__ import annotations

import json
from pathlib import Path

from testing.cli import run
from testing.gitrepo import two_env_gitops

UNREACHABLE = "127.0.0.1:9/web"  # port 9 (discard): nothing listens, the connection is refused


def test_unreachable_registry_prints_every_row_and_exits_1(tmp_path: Path) -> None:
    ops = two_env_gitops(tmp_path)
    config = (ops.remote.work / ".updater.yaml").read_text()
    web_prod = f'"oci:{ops.registry / "web-prod"}"'
    config = config.replace(web_prod, f'"{UNREACHABLE}"') + "registry: {insecure: ['127.0.0.1:9']}\n"
    ops.remote.commit({".updater.yaml": config}, "web production moves to a registry that is down")
    result = run("--retry-budget", "0.5", "status", "--json", cwd=ops.remote.work)
    assert result.returncode == 1, result.stderr
    rows = {(r["app"], r["env"]): r for r in json.loads(result.stdout)["rows"]}
    assert len(rows) == 4 and rows[("api", "production")]["behind"] is True
    assert "127.0.0.1:9" in rows[("web", "production")]["error"]
    [line] = result.stderr.strip().splitlines()
    assert line.startswith("updater: error: status of web (production): registry 127.0.0.1:9")


def test_input_error_wins_over_a_remote_one_and_the_table_is_still_printed(tmp_path: Path) -> None:
    ops = two_env_gitops(tmp_path)
    config = (ops.remote.work / ".updater.yaml").read_text()
    web_prod = f'"oci:{ops.registry / "web-prod"}"'
    config = config.replace(web_prod, f'"{UNREACHABLE}"') + "registry: {insecure: ['127.0.0.1:9']}\n"
    ops.remote.commit(
        {".updater.yaml": config, "k8s/api/values-staging.yaml": "image: {}\n"}, "break two rows"
    )
    result = run("--retry-budget", "0.5", "status", cwd=ops.remote.work)
    assert result.returncode == 2, result.stderr
    table = result.stdout.splitlines()
    assert len(table) == 5 and table[0].startswith("APP")
    assert "error:" in table[1] and "error:" in table[4]  # api staging (input), web production (remote)
    assert result.stderr.startswith("updater: error: status of api (staging): ")
    assert "(and 1 more)" in result.stderr
