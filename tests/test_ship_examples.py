"""The example pipelines and the .updater.yaml shipped next to them agree.

The workflows build and push a tag, then run updater with a mode; the config says which tag to look for
and how each environment lands. A drift between the two (a template the build never pushes, production
committed straight instead of reviewed) would make the copy-pasted examples fail on their first run.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
from ruamel.yaml import YAML

from testing import cli
from updater import config as config_module
from updater.resolve import TemplateVars, render_template

ROOT = Path(__file__).resolve().parent.parent
SHA = "1a2b3c4d5e6f77889900aabbccddeeff00112233"
APPS = ("api", "worker")


def load(path: Path) -> Any:
    return YAML(typ="safe", pure=True).load(path.read_text(encoding="utf-8"))


def shell(script: str, env: dict[str, str]) -> str:
    """Run a workflow's shell line the way the runner does (bash, -e) and return its stdout."""
    result = subprocess.run(
        ["bash", "-e", "-c", script], env=env, capture_output=True, text=True, check=True, timeout=10
    )
    return result.stdout


@pytest.mark.parametrize("face", ["github", "circleci"])
def test_example_config_validates_with_the_cli(face: str, tmp_path: Path) -> None:
    # The config belongs at the root of the user's GitOps repository: validate it there.
    subprocess.run(["git", "init", "-q", str(tmp_path)], check=True)
    shutil.copy(ROOT / "examples" / face / ".updater.yaml", tmp_path / ".updater.yaml")
    proc = cli.run("config", "validate", "--config-only", cwd=tmp_path)
    expected = f"{tmp_path / '.updater.yaml'}: ok (2 apps, 2 environments; targets not opened)\n"
    assert (proc.returncode, proc.stdout, proc.stderr) == (0, expected, "")


def test_github_example_config_uses_the_github_provider() -> None:
    config = config_module.load(ROOT / "examples" / "github" / ".updater.yaml")
    # In Actions the job's token is all updater needs: the API, no clone; the repository defaults to
    # the workflow's own.
    assert (config.scm.provider, config.scm.repository) == ("github", None)


def test_github_bump_workflow_pushes_the_tags_the_config_expects(tmp_path: Path) -> None:
    workflow = load(ROOT / "examples" / "github" / "bump-staging.yml")
    config = config_module.load(ROOT / "examples" / "github" / ".updater.yaml")
    build = workflow["jobs"]["build"]["steps"]
    (tag_step,) = [s for s in build if s.get("id") == "tag"]
    (push,) = [s for s in build if s.get("uses", "").startswith("docker/build-push-action")]
    staging = config.environments["staging"]
    assert staging.tag.kind == "template" and staging.tag.template
    for app in APPS:
        # The runner puts the matrix value in the step's env: (never into the script text).
        output = tmp_path / f"output-{app}"
        assert tag_step["env"] == {"APP": "${{ matrix.app }}"}
        shell(tag_step["run"], {"GITHUB_SHA": SHA, "GITHUB_OUTPUT": str(output), "APP": app})
        (pushed_tag,) = re.findall(r"^tag=(.+)$", output.read_text(), re.M)
        image, _, tag_expr = (
            push["with"]["tags"]
            .replace("${{ env.IMAGES }}", workflow["env"]["IMAGES"])
            .replace("${{ matrix.app }}", app)
            .rpartition(":")
        )
        assert tag_expr == "${{ steps.tag.outputs.tag }}"
        assert image == config.apps[app].images["staging"]
        assert pushed_tag == render_template(staging.tag.template, TemplateVars(sha=SHA, app=app))
    (bump,) = [s for s in workflow["jobs"]["bump"]["steps"] if "/updater@" in s.get("uses", "")]
    assert bump["with"]["env"] == "staging" and "mode" not in bump["with"]
    # One commit on the branch: the job may write contents, and nothing it does needs a pull request.
    bump_permissions = workflow["jobs"]["bump"]["permissions"]
    assert (staging.mode, bump_permissions["contents"]) == ("commit", "write")
    assert "pull-requests" not in bump_permissions


def test_github_promote_workflow_matches_the_config_promotion() -> None:
    workflow = load(ROOT / "examples" / "github" / "promote.yml")
    config = config_module.load(ROOT / "examples" / "github" / ".updater.yaml")
    inputs = workflow["on"]["workflow_dispatch"]["inputs"]
    (step,) = [s for s in workflow["jobs"]["promote"]["steps"] if "/updater@" in s.get("uses", "")]
    assert "mode" not in step["with"]  # the config decides: production lands as a pull request
    for source in inputs["from"]["options"]:
        for target in inputs["to"]["options"]:
            assert config.environments[target].promote_from == source
            assert config.environments[target].mode == "pull-request"
    assert workflow["jobs"]["promote"]["permissions"]["pull-requests"] == "write"


def test_circleci_example_pushes_the_tags_its_config_expects(tmp_path: Path) -> None:
    ci_config = load(ROOT / "examples" / "circleci" / "config.yml")
    config = config_module.load(ROOT / "examples" / "circleci" / ".updater.yaml")
    # CircleCI has no GITHUB_REPOSITORY: the config must name the repository the token writes to.
    assert config.scm.provider == "github" and config.scm.repository
    build = ci_config["jobs"]["build-and-push"]["steps"]
    (script,) = [
        s["run"]["command"] for s in build if isinstance(s, dict) and "Build and push" in s["run"]["name"]
    ]
    staging = config.environments["staging"]
    assert staging.tag.template and staging.mode == "commit"
    (bump,) = [j["updater/bump"] for j in ci_config["workflows"]["deliver"]["jobs"] if "updater/bump" in j]
    assert bump["env"] == "staging" and "mode" not in bump
    matrix = ci_config["workflows"]["deliver"]["jobs"][0]["build-and-push"]["matrix"]["parameters"]["app"]
    assert sorted(matrix) == sorted(bump["apps"].split()) == sorted(config.apps) == sorted(APPS)
    for app in APPS:
        # CircleCI expands << parameters >> before the shell runs; echo the image instead of building it.
        line = script.replace("<< parameters.app >>", app).splitlines()[0]
        image = shell(f'{line}\nprintf %s "$image"', {"CIRCLE_SHA1": SHA})
        repository, _, tag = image.rpartition(":")
        assert repository == config.apps[app].images["staging"]
        assert tag == render_template(staging.tag.template, TemplateVars(sha=SHA, app=app))
