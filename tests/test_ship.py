"""The shipped faces validate offline: action.yml, the example workflows, the orb, the Dockerfile.

check-jsonschema's builtin schemas are vendored in the package and hadolint is a local binary; every
run here points HTTP(S)_PROXY at a closed port, so a tool that tried the network would fail.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from ruamel.yaml import YAML

from updater import action, ci

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
OFFLINE = {
    "HTTP_PROXY": "http://127.0.0.1:9",
    "HTTPS_PROXY": "http://127.0.0.1:9",
    "http_proxy": "http://127.0.0.1:9",
    "https_proxy": "http://127.0.0.1:9",
    "NO_PROXY": "",
    "no_proxy": "",
    "PATH": f"{BIN}:/usr/bin:/bin",
}
WORKFLOWS = sorted((ROOT / "examples").rglob("*.yml"))
GITHUB_WORKFLOWS = [p for p in WORKFLOWS if ".github" in p.parts or p.parent.name == "github"] + sorted(
    (ROOT / ".github" / "workflows").glob("*.yml")
)


def load(path: Path) -> Any:
    return YAML(typ="safe", pure=True).load(path.read_text(encoding="utf-8"))


def check_jsonschema(schema: str, *files: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(BIN / "check-jsonschema"), "--builtin-schema", schema, *map(str, files)],
        env=OFFLINE,
        capture_output=True,
        text=True,
        timeout=60,
    )


def hadolint(path: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(BIN / "hadolint"), "--no-color", str(path)],
        env=OFFLINE,
        capture_output=True,
        text=True,
        timeout=60,
    )


@pytest.mark.parametrize(
    ("schema", "files"),
    [
        ("vendor.github-actions", [ROOT / "action.yml"]),
        ("vendor.github-workflows", GITHUB_WORKFLOWS),
        ("vendor.circle-ci", [ROOT / "orb" / "orb.yml", ROOT / "examples" / "circleci" / "config.yml"]),
        ("vendor.dependabot", [ROOT / ".github" / "dependabot.yml"]),
    ],
    ids=["action", "workflows", "circleci", "dependabot"],
)
def test_files_validate_against_builtin_schema(schema: str, files: list[Path]) -> None:
    assert files and all(f.is_file() for f in files)
    result = check_jsonschema(schema, *files)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "ok -- validation done" in result.stdout


@pytest.mark.parametrize(
    ("schema", "text"),
    [
        ("vendor.github-actions", "name: x\ndescription: x\nruns:\n  using: docker\n  entrypoint: python\n"),
        ("vendor.github-workflows", "on: push\njobs:\n  a:\n    runs-on: ubuntu-latest\n    step: []\n"),
        ("vendor.circle-ci", "version: 2.1\njobs:\n  a:\n    docker: oops\n    steps: [checkout]\n"),
    ],
    ids=["action-without-image", "workflow-typo", "circleci-bad-docker"],
)
def test_builtin_schemas_reject_broken_files(tmp_path: Path, schema: str, text: str) -> None:
    broken = tmp_path / "broken.yml"
    broken.write_text(text)
    result = check_jsonschema(schema, broken)
    assert result.returncode == 1, result.stdout + result.stderr
    assert "Schema validation errors were encountered" in result.stdout + result.stderr


def test_hadolint_is_clean_on_the_dockerfile() -> None:
    result = hadolint(ROOT / "Dockerfile")
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout == ""


def test_hadolint_flags_a_careless_dockerfile(tmp_path: Path) -> None:
    careless = tmp_path / "Dockerfile"
    careless.write_text(
        "FROM python:latest\nRUN apt-get update && apt-get install git\nRUN pip install gitops-updater\n"
    )
    result = hadolint(careless)
    assert result.returncode == 1
    for rule in ("DL3007", "DL3008", "DL3015", "DL3013", "DL3042"):
        assert rule in result.stdout


def test_dockerfile_shape() -> None:
    text = (ROOT / "Dockerfile").read_text()
    # One base, in a FROM line (Dependabot reads no ARG there): a patch release and the image digest.
    (base,) = re.findall(r"^FROM (\S+) AS base$", text, re.M)
    assert re.fullmatch(r"python:3\.\d+\.\d+-slim-[a-z]+@sha256:[0-9a-f]{64}", base)
    assert re.findall(r"^FROM (.+)$", text, re.M) == [f"{base} AS base", "base AS build", "base"]
    final = text.split("\nFROM base\n")[1]
    assert re.search(r"apt-get install -y --no-install-recommends git\b", final)
    (user,) = re.findall(r"^USER (\S+)$", final, re.M)
    assert user == "${UID}"
    # The uid is a build argument (default the GitHub runner's 1001) that useradd uses, and git in the
    # image trusts any mounted checkout, whoever owns it.
    assert re.findall(r"^ARG UID=(\S+)$", final, re.M) == ["1001"]
    assert re.search(r"useradd [^\n]*--uid \"\$\{UID\}\"", final)
    assert "git config --system --add safe.directory '*'" in final
    assert re.findall(r"^ENTRYPOINT (.+)$", text, re.M) == ['["updater"]']
    # The runtime stage gets the installed virtualenv only: no sources, no build tools, no dev extras.
    assert re.findall(r"^COPY (.+)$", final, re.M) == ["--from=build /opt/updater /opt/updater"]
    assert "[dev]" not in text


def test_dockerignore_keeps_credentials_out_of_the_context() -> None:
    lines = [line for line in (ROOT / ".dockerignore").read_text().splitlines() if line and line[0] != "#"]
    assert lines[0] == "*"
    assert {"!pyproject.toml", "!README.md", "!updater/"} <= set(lines)
    assert not any("gha-creds" in line or ".git" in line for line in lines if line.startswith("!"))


def test_action_metadata_matches_the_entrypoint() -> None:
    meta = load(ROOT / "action.yml")
    runs = meta["runs"]
    # The release's prebuilt image, pinned to the version (tests/test_ship_release.py checks the tag).
    assert runs["using"] == "docker" and runs["image"].startswith("docker://ghcr.io/")
    assert [runs["entrypoint"], *runs["args"]] == ["python", "-m", "updater.action"]
    assert list(meta["inputs"]) == list(action.INPUTS)
    assert set(meta["outputs"]) == set(ci.outputs({"apps": []}))
    assert meta["inputs"]["token"]["default"] == "${{ github.token }}"


def test_bump_workflow_bumps_all_changed_apps_in_one_step() -> None:
    workflow = load(ROOT / "examples" / "github" / "bump-staging.yml")
    steps = [(job, step) for job, spec in workflow["jobs"].items() for step in spec.get("steps", [])]
    updater_steps = [(job, step) for job, step in steps if "/updater@" in step.get("uses", "")]
    assert len(updater_steps) == 1
    job, step = updater_steps[0]
    assert step["with"]["env"] == "staging"
    assert "needs.changes.outputs.apps" in step["with"]["apps"]
    assert "build" in workflow["jobs"][job]["needs"]
    pushes = [s for _, s in steps if s.get("uses", "").startswith("docker/build-push-action")]
    assert pushes and all("docker.pkg.dev" in str(s["with"]["tags"]) + str(workflow["env"]) for s in pushes)
    assert any(s.get("uses", "").startswith("google-github-actions/auth") for _, s in steps)


def test_promote_workflow_is_dispatched_and_opens_a_pull_request() -> None:
    workflow = load(ROOT / "examples" / "github" / "promote.yml")
    assert list(workflow["on"]) == ["workflow_dispatch"]
    (step,) = [s for s in workflow["jobs"]["promote"]["steps"] if "/updater@" in s.get("uses", "")]
    assert step["with"]["command"] == "promote"
    assert set(step["with"]) <= set(action.INPUTS)
    assert workflow["jobs"]["promote"]["permissions"]["pull-requests"] == "write"


def test_circleci_example_builds_with_docker_and_bumps_with_the_orb() -> None:
    config = load(ROOT / "examples" / "circleci" / "config.yml")
    assert "updater" in config["orbs"]
    build = config["jobs"]["build-and-push"]
    commands = " ".join(
        str(s["run"]["command"]) for s in build["steps"] if isinstance(s, dict) and "run" in s
    )
    assert (
        "setup_remote_docker" in build["steps"] and "docker build" in commands and "docker push" in commands
    )
    jobs = config["workflows"]["deliver"]["jobs"]
    (bump,) = [j["updater/bump"] for j in jobs if isinstance(j, dict) and "updater/bump" in j]
    assert bump["env"] == "staging" and bump["requires"] == ["build-and-push"]


# README: each face's snippet is the very file the tests above validate. The README marks a snippet
# with an HTML comment naming the file, right before the code fence.
SNIPPET = re.compile(r"<!-- snippet: (?P<path>\S+) -->\n```[a-z]*\n(?P<body>.*?)```\n", re.S)


def readme_snippet_mismatches(readme: str, root: Path) -> list[str]:
    """Return the snippet paths whose text differs from (or names no) file under root."""
    bad = []
    for match in SNIPPET.finditer(readme):
        path = root / match["path"]
        if not path.is_file() or path.read_text(encoding="utf-8") != match["body"]:
            bad.append(match["path"])
    return bad


def test_snippet_check_catches_drift(tmp_path: Path) -> None:
    (tmp_path / "a.yml").write_text("x: 1\n")
    good = "<!-- snippet: a.yml -->\n```yaml\nx: 1\n```\n"
    assert readme_snippet_mismatches(good, tmp_path) == []
    assert readme_snippet_mismatches(good.replace("x: 1", "x: 2"), tmp_path) == ["a.yml"]
    assert readme_snippet_mismatches(good.replace("a.yml", "b.yml"), tmp_path) == ["b.yml"]


def test_readme_snippets_equal_the_files() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    shown = {match["path"] for match in SNIPPET.finditer(readme)}
    assert {
        "examples/github/bump-staging.yml",
        "examples/github/promote.yml",
        "examples/circleci/config.yml",
    } <= shown
    assert readme_snippet_mismatches(readme, ROOT) == []


def test_each_orb_example_usage_validates_as_a_circleci_config(tmp_path: Path) -> None:
    examples = load(ROOT / "orb" / "orb.yml")["examples"]
    files = []
    for name, example in examples.items():
        path = tmp_path / f"{name}.yml"
        path.write_text(json.dumps(example["usage"]))  # JSON is YAML
        files.append(path)
    assert len(files) == len(list((ROOT / "orb" / "src" / "examples").glob("*.yml"))) >= 2
    result = check_jsonschema("vendor.circle-ci", *files)
    assert result.returncode == 0, result.stdout + result.stderr
