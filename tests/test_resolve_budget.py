"""The retry budget through the CLI: a deadline for the whole run, per-attempt timeouts included."""

from __future__ import annotations

import time
from pathlib import Path

from testing.cli import run
from testing.gitrepo import two_env_gitops
from testing.registry_proxy import SilentServer


def _resolve(
    silent: SilentServer, *args: str, env: dict[str, str] | None = None
) -> tuple[int, str, str, float]:
    started = time.monotonic()
    done = run(*args, "resolve", f"{silent.host}/team/app", "--strategy", "newest", env=env, timeout=60)
    return done.returncode, done.stdout, done.stderr, time.monotonic() - started


def test_a_registry_that_never_answers_fails_within_retry_budget() -> None:
    with SilentServer() as silent:
        code, out, err, elapsed = _resolve(silent, "--retry-budget", "3")
        assert silent.connections >= 1  # the connection was accepted: only the read can time out
    assert (code, out) == (1, "")
    [line] = err.splitlines()
    assert line.startswith(f"updater: error: registry {silent.host}: no complete answer within 3.0s")
    assert 2.5 < elapsed < 5.5


def test_updater_retry_budget_variable_takes_effect() -> None:
    with SilentServer() as silent:
        code, _, err, elapsed = _resolve(silent, env={"UPDATER_RETRY_BUDGET": "1.5"})
    assert code == 1 and len(err.splitlines()) == 1 and "no complete answer within 1.5s" in err
    assert 1.0 < elapsed < 4.0


def test_several_failing_lookups_share_one_budget(tmp_path: Path) -> None:
    # Three of the four status rows read a registry that never answers: without a run-wide deadline
    # each would take a budget of its own (3 x 2 s); with it, the run gives up after one.
    ops = two_env_gitops(tmp_path)
    with SilentServer() as silent:
        config = (ops.remote.work / ".updater.yaml").read_text()
        for layout in ("web-stage", "web-prod"):
            config = config.replace(f'"oci:{ops.registry / layout}"', f'"{silent.host}/{layout}"')
        config = config.replace(f"oci:{ops.registry / 'api'}", f"{silent.host}/api")
        ops.remote.commit({".updater.yaml": config}, "every image moves to a registry that hangs")
        started = time.monotonic()
        done = run("--retry-budget", "2", "status", cwd=ops.remote.work, timeout=60)
        elapsed = time.monotonic() - started
    assert done.returncode == 1, done.stderr
    rows = done.stdout.splitlines()[1:]
    assert len(rows) == 4 and all("error:" in row for row in rows)
    assert "retry budget of 2s already spent" in done.stdout
    [line] = done.stderr.splitlines()
    assert line.startswith(f"updater: error: status of api (staging): registry {silent.host}")
    assert elapsed < 4.5
