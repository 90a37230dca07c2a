"""`updater config validate` and `updater config schema` as the real CLI; the schema checked by jsonschema."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from ruamel.yaml import YAML

from testing.cli import run
from updater.config import ConfigError, load
from updater.config.schema import json_schema

SCHEMA = json_schema()

FULL = """\
# every key of .updater.yaml, as the README documents it
version: 1
scm:
  provider: github
  repository: acme/gitops
  github-url: https://ghe.example.com/api/v3
registry:
  api: auto
  insecure: [localhost:5000]
  platform: linux/amd64
commit:
  author: {name: updater-bot, email: updater@example.com}
  message: "deploy {env}: {apps}"
pull-request:
  title: "Deploy {apps} to {env}"
  body: "Automated by updater"
  labels: [deploy, automated]
  reviewers: [alice]
  team-reviewers: [platform]
  assignees: [bob]
  draft: false
  merge-method: squash
  branch: "updater/{env}/{app}"
environments:
  staging:
    branch: staging
    mode: commit
    tag: "stage-{sha:8}-*"
  production:
    branch: main
    mode: auto-merge
    promote-from: staging
    frozen: false
    tag:
      strategy: semver
      range: "^1.4"
      exclude: ["-rc"]
      wait: 10m
apps:
  calibrate:
    image: europe-docker.pkg.dev/airqo/images/calibrate
    values:
      staging: k8s/calibrate/values-stage.yaml
      production: [k8s/calibrate/values-prod.yaml, k8s/calibrate/values-prod-eu.yaml]
    key: image.tag
    digest: true
  analytics:
    image:
      staging: eu.gcr.io/airqo/airqo-stage-analytics-api
      production: eu.gcr.io/airqo/airqo-analytics-api
    values: {staging: k8s/analytics/values-stage.yaml, production: k8s/analytics/values-prod.yaml}
    key: [images.tag, 'jobs."nightly.report".image.tag']
    digest: images.digest
    document: 0
    overrides:
      production:
        marker: analytics-prod
        tag: {strategy: digest, tag: latest}
  website:
    image: ghcr.io/acme/website
    tag: {strategy: numerical, include: "^build-(\\\\d+)$", wait: 30}
    targets:
      - {file: deploy/website.yaml, env: [staging, production], image: ghcr.io/acme/website}
      - file: deploy/cronjobs.yaml
        env: staging
        key: "spec.jobTemplate.spec.containers[0].image"
        digest-key: digest
      - {file: deploy/flux.yaml, env: production, marker: "flux-system:website", document: 1}
  worker:
    image: ghcr.io/acme/worker
    values: charts/worker/values.yaml
    image-locator: true
    tag: {strategy: newest, include: "^main-", exclude: "-dirty$"}
"""


def schema() -> dict[str, Any]:
    result = run("config", "schema")
    assert result.returncode == 0, result.stderr
    parsed: dict[str, Any] = json.loads(result.stdout)
    return parsed


def test_schema_is_a_valid_draft_2020_12_schema_that_accepts_the_full_example(tmp_path: Path) -> None:
    document = schema()
    assert document == SCHEMA  # the CLI prints exactly the schema the validator is declared from
    assert document["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    jsonschema.Draft202012Validator.check_schema(document)
    data = YAML(typ="safe", pure=True).load(FULL)
    jsonschema.Draft202012Validator(document).validate(data)
    # and the loader accepts the same file
    (tmp_path / ".updater.yaml").write_text(FULL)
    config = load(tmp_path / ".updater.yaml")
    assert sorted(config.apps) == ["analytics", "calibrate", "website", "worker"]


# Structural mistakes both the schema and the loader refuse: one declaration drives both.
STRUCTURAL = [
    ("version: 1", "version: 2"),
    ("  api: auto", "  api: docker"),
    ("  draft: false", "  draft: no"),
    ("    key: image.tag", "    kee: image.tag"),
    ("    frozen: false", "    frozen: 0"),
    ("      wait: 10m", "      wait: soon"),
    ("      wait: 10m", "      wait: -1"),
    ("    document: 0", "    document: -1"),
    ("  repository: acme/gitops", "  repository: acme"),
    ("    image: ghcr.io/acme/worker\n", ""),
    ("  author: {name: updater-bot, email: updater@example.com}", "  author: {name: updater-bot}"),
    ("    image-locator: true", "    image-locator: false"),
    ("    mode: commit", "    mode: [commit]"),
    ("  staging:\n    branch: staging", "  stag ing:\n    branch: staging"),
    ("  labels: [deploy, automated]", "  labels: deploy"),
]


@pytest.mark.parametrize(("old", "new"), STRUCTURAL)
def test_schema_and_loader_agree(tmp_path: Path, old: str, new: str) -> None:
    assert old in FULL
    text = FULL.replace(old, new)
    data = YAML(typ="safe", pure=True).load(text)
    errors = list(jsonschema.Draft202012Validator(SCHEMA).iter_errors(data))
    assert errors, f"the schema accepts {new!r}"
    (tmp_path / ".updater.yaml").write_text(text)
    with pytest.raises(ConfigError):
        load(tmp_path / ".updater.yaml")


def test_validate_ok(tmp_path: Path) -> None:
    path = tmp_path / ".updater.yaml"
    path.write_text(FULL)
    result = run("config", "validate", "--config-only", "--config", str(path))
    assert (result.returncode, result.stdout, result.stderr) == (
        0,
        f"{path}: ok (4 apps, 2 environments; targets not opened)\n",
        "",
    )


def test_validate_finds_the_config_from_a_subdirectory(tmp_path: Path) -> None:
    subprocess.run(["git", "init", "-q", str(tmp_path)], check=True)
    (tmp_path / ".updater.yaml").write_text(
        "version: 1\nenvironments: {dev: {}}\napps: {web: {image: r/web, values: web.yaml}}\n"
    )
    (tmp_path / "k8s").mkdir()
    result = run("config", "validate", "--config-only", cwd=tmp_path / "k8s")
    assert (result.returncode, result.stdout) == (
        0,
        f"{tmp_path / '.updater.yaml'}: ok (1 app, 1 environment; targets not opened)\n",
    )


def test_validate_bad_config_exit_2_one_line(tmp_path: Path) -> None:
    path = tmp_path / ".updater.yaml"
    path.write_text(FULL.replace("    image-locator: true", "    image-locator: true\n    imge: x"))
    before = path.read_bytes()
    result = run("config", "validate", "--config", str(path))
    assert result.returncode == 2
    assert result.stdout == ""
    assert (
        result.stderr
        == f'updater: error: {path}:73:5: apps.worker.imge: unknown key; did you mean "image"?\n'
    )
    assert path.read_bytes() == before


def test_validate_without_config(tmp_path: Path) -> None:
    subprocess.run(["git", "init", "-q", str(tmp_path)], check=True)
    result = run("config", "validate", cwd=tmp_path)
    assert result.returncode == 2
    root = tmp_path.resolve()
    assert result.stderr == (
        f"updater: error: {root}: no .updater.yaml up to the repository root {root}; "
        "create one at the root (updater config schema describes it) or pass --config PATH\n"
    )


def test_importing_the_model_and_printing_the_schema_load_no_yaml_parser() -> None:
    """D's commands import updater.config at start-up: ruamel must wait until a config is loaded."""
    code = (
        "import sys\n"
        "import updater.config, updater.config.schema, updater.commands.config\n"
        "from updater.cli import main\n"
        "main(['config', 'schema'])\n"
        "print('LOADED=' + ','.join(sorted(m for m in sys.modules if m.startswith('ruamel'))))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip().splitlines()[-1] == "LOADED="


def test_tag_fields_documented_in_the_schema_are_the_resolvers() -> None:
    from updater.config.schema import TAG_FIELDS
    from updater.resolve import TemplateVars

    assert tuple(TemplateVars.__dataclass_fields__) == TAG_FIELDS
