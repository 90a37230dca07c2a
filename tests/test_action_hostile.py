"""The Action with hostile inputs and files: nothing it prints outside an inert block can be a
workflow command, values from files are escaped in the step summary, URL credentials are masked."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from test_action_e2e import runner_env

from testing.cli import ROOT
from testing.gitrepo import make_remote
from testing.oci_layout import LayoutImage, build_layout, utc
from updater import ci

SHA = "1a2b3c4d5e6f708192a3b4c5d6e7f8091a2b3c4d"


def commands_outside_inert_blocks(stdout: str) -> list[str]:
    """Return the lines the runner would read as workflow commands (`::name ...::`), outside
    `::stop-commands::MARKER` ... `::MARKER::` blocks."""
    found, marker = [], None
    for line in stdout.splitlines():
        if marker is not None:
            marker = None if line == f"::{marker}::" else marker
        elif line.startswith("::stop-commands::"):
            marker = line.removeprefix("::stop-commands::")
        elif line.startswith("::"):
            found.append(line)
    return found


def _run(
    tmp: Path, inputs: dict[str, str], values: str = "image:\n  tag: stage-api-0000000\n"
) -> tuple[subprocess.CompletedProcess[str], dict[str, str]]:
    """Run the action's entrypoint in a GitOps checkout (git backend, OCI layout registry)."""
    registry = tmp / "registry" / "api"
    build_layout(registry, [LayoutImage(tags=["stage-api-1a2b3c4"], created=utc(2024, 1, 1))])
    config = f"""version: 1
scm: {{provider: git, url: {tmp}/gitops/remote.git}}
environments:
  staging: {{branch: main, mode: commit, tag: "stage-{{app}}-{{sha:7}}"}}
apps:
  api: {{image: "oci:{registry}", values: k8s/api.yaml, key: image.tag}}
"""
    remote = make_remote(tmp / "gitops", {".updater.yaml": config, "k8s/api.yaml": values})
    env = runner_env(remote.work, tmp, inputs)
    env["PYTHONPATH"] = str(ROOT)
    proc = subprocess.run(
        [sys.executable, "-m", "updater.action"],
        env=env,
        cwd=remote.work,
        capture_output=True,
        text=True,
        timeout=120,
    )
    return proc, env


def test_an_input_with_a_newline_cannot_inject_workflow_commands(tmp_path: Path) -> None:
    inputs = {
        "env": "staging",
        "template": "v2\n::set-output name=evil::1\n::error::forged",
        "include": "x\r::warning::forged",
    }
    proc, env = _run(tmp_path, inputs)
    assert proc.returncode == 2
    outside = commands_outside_inert_blocks(proc.stdout)
    assert len(outside) == 1 and outside[0].startswith("::error title=updater::"), proc.stdout
    assert "\n::set-output" not in proc.stdout.replace("\r", "\n").split("::stop-commands::")[0]
    # The command line is shown, on one line, with the newline escaped.
    (line,) = [x for x in proc.stdout.splitlines() if x.startswith("updater ")]
    assert "'v2\\n::set-output name=evil::1\\n::error::forged'" in line
    assert "\r" not in proc.stdout
    assert Path(env["GITHUB_OUTPUT"]).read_text() == ""


def test_a_hostile_value_in_a_values_file_stays_on_its_line(tmp_path: Path) -> None:
    """A CR and a workflow command in a values file: bump refuses the value (it is not a tag), and the
    error reaches the log and the annotation escaped, on one line, with no command of its own."""
    hostile = 'image:\n  tag: "stage-api-0000000\\r::error::cr`|x"\n'
    proc, _env = _run(tmp_path, {"env": "staging", "sha": SHA}, hostile)
    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert "\r" not in proc.stdout
    commands = [c for c in commands_outside_inert_blocks(proc.stdout) if not c.startswith("::add-mask::")]
    assert len(commands) == 1 and commands[0].startswith("::error title=updater::updater: error: ")
    assert 'holds "stage-api-0000000\\r::error::cr`|x", which is not a tag' in commands[0]


def test_the_step_summary_escapes_cells() -> None:
    """Summary cells are Markdown table cells: CR, '|' and backticks cannot break out of them."""
    result = {
        "command": "bump",
        "changed": True,
        "apps": [{"app": "api", "env": "staging", "old": "a\r::error::cr`|x", "new": "b", "changed": True}],
    }
    summary = ci.summary(result)
    assert "\r" not in summary
    assert "| `api` | `staging` | ``a\\r::error::cr`\\|x`` | `b` |" in summary


def test_credentials_in_github_url_are_masked_before_anything_is_printed(tmp_path: Path) -> None:
    password = "hunter2-Secret-9f8e"
    inputs = {"env": "staging", "sha": SHA, "github-url": f"https://bob:{password}@ghe.example.test/api/v3"}
    proc, env = _run(tmp_path, inputs)
    first, *rest = proc.stdout.splitlines()
    assert first == f"::add-mask::{password}"
    assert password not in "\n".join(rest) + proc.stderr
    assert password not in Path(env["GITHUB_OUTPUT"]).read_text()
