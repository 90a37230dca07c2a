"""The one-person CircleCI project end to end: a Docker Hub image tagged `<branch>-<YYYYmmddHHMM>`,
the tag inside a Helm chart's templates/deployment.yaml, a git remote for the chart.

Docker Hub is the real registry behind testing/dockerhub.py (token auth under Docker Hub's names);
the chart is a real git repository; updater runs as a subprocess, and as the orb's step with
CircleCI's variables.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from test_orb import circleci_env, exported, run_command

from testing.cli import run
from testing.dockerhub import HUB, DockerHub, docker_hub
from testing.gitrepo import git, make_remote

T0 = datetime(2024, 1, 15, 12, 30, tzinfo=timezone.utc)
BUILDS = {
    "master-202401151230": T0,
    "develop-202401200900": T0 + timedelta(days=5),
    "master-202402011200": T0 + timedelta(days=17),
    "feature-epub-202402020800": T0 + timedelta(days=18),
}
VALUES = """replicaCount: 1
image:
  pullPolicy: IfNotPresent
resources: {}
ingress:
  enabled: false
"""
DEPLOYMENT = """apiVersion: apps/v1
kind: Deployment
metadata:
  name: {{ .Release.Name }}
  labels:
    app: {{ .Release.Name }}
spec:
  replicas: {{ .Values.replicaCount }}
  selector:
    matchLabels:
      app: {{ .Release.Name }}
  template:
    metadata:
      labels:
        app: {{ .Release.Name }}
    spec:
      containers:
        - name: send2ereader
          image: haoict/send2ereader:master-202401151230
          imagePullPolicy: {{ .Values.image.pullPolicy }}
          ports:
            - containerPort: 3001
          {{- with .Values.resources }}
          resources:
            {{- toYaml . | nindent 12 }}
          {{- end }}
{{- if .Values.ingress.enabled }}
---
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata:
  name: {{ .Release.Name }}
{{- end }}
"""
CONFIG = f"""version: 1
scm: {{provider: git}}
registry: {{insecure: [{HUB}]}}
environments:
  production: {{branch: master, mode: commit, tag: "{{branch}}-*"}}
apps:
  send2ereader:
    image: haoict/send2ereader
    values: {{production: send2ereader/templates/deployment.yaml}}
    image-locator: haoict/send2ereader
"""
NEWEST_MASTER = DEPLOYMENT.replace("master-202401151230", "master-202402011200")
CI = {"CIRCLE_BRANCH": "", "GITHUB_REF_NAME": "", "GITHUB_SHA": "", "CIRCLE_SHA1": "", "GITHUB_ACTIONS": ""}


@pytest.fixture(scope="module")
def hub(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DockerHub]:
    with docker_hub(tmp_path_factory.mktemp("hub"), {"haoict/send2ereader": BUILDS}) as running:
        yield running


def _chart(tmp: Path) -> Path:
    files = {
        ".updater.yaml": CONFIG,
        "send2ereader/Chart.yaml": "apiVersion: v2\nname: send2ereader\nversion: 0.1.0\n",
        "send2ereader/values.yaml": VALUES,
        "send2ereader/templates/deployment.yaml": DEPLOYMENT,
    }
    return make_remote(tmp / "chart", files, branches=("master",)).work


def _pushed(work: Path) -> str:
    git("pull", "-q", cwd=work)
    return (work / "send2ereader" / "templates" / "deployment.yaml").read_text()


def _commits(work: Path) -> int:
    return int(git("rev-list", "--count", "origin/master", cwd=work).strip())


@pytest.mark.parametrize("how", ["CIRCLE_BRANCH", "--branch"])
def test_bump_writes_the_newest_master_build_into_the_template(
    hub: DockerHub, tmp_path: Path, how: str
) -> None:
    work = _chart(tmp_path)
    env = {**hub.env(tmp_path), **CI}
    args = ["bump", "--env", "production", "--json"]
    if how == "CIRCLE_BRANCH":
        env["CIRCLE_BRANCH"] = "master"
    else:
        args += ["--branch", "master"]
    validate = run("config", "validate", cwd=work, env=env)
    assert validate.returncode == 0, validate.stderr
    proc = run(*args, cwd=work, env=env, timeout=90)
    assert proc.returncode == 0, proc.stderr
    result = json.loads(proc.stdout)
    (app,) = result["apps"]
    assert (app["old"], app["new"], app["changed"]) == ("master-202401151230", "master-202402011200", True)
    assert _pushed(work) == NEWEST_MASTER  # byte-exact: every {{ }} action untouched
    assert (work / "send2ereader" / "values.yaml").read_text() == VALUES
    assert _commits(work) == 2

    again = run(*args, cwd=work, env=env, timeout=90)
    assert again.returncode == 0, again.stderr
    assert json.loads(again.stdout)["changed"] is False
    assert _commits(work) == 2


def test_status_shows_the_template_row(hub: DockerHub, tmp_path: Path) -> None:
    work = _chart(tmp_path)
    env = {**hub.env(tmp_path), **CI, "CIRCLE_BRANCH": "master"}
    proc = run("status", "--json", cwd=work, env=env, timeout=90)
    assert proc.returncode == 0, proc.stderr
    (row,) = json.loads(proc.stdout)["rows"]
    assert (row["app"], row["env"], row["tag"], row["newest"]) == (
        "send2ereader",
        "production",
        "master-202401151230",
        "master-202402011200",
    )
    assert row["error"] is None and row["behind"] is True


def test_the_orb_step_does_the_same_with_circleci_variables(hub: DockerHub, tmp_path: Path) -> None:
    work = _chart(tmp_path)
    env = {**circleci_env(tmp_path), **hub.env(tmp_path / "docker"), "CIRCLE_BRANCH": "master"}
    proc = run_command("bump", {"env": "production", "apps": "all"}, env, work)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "--all" in proc.stdout.splitlines()[0]
    (changed, tag) = exported(Path(env["BASH_ENV"]), "UPDATER_CHANGED", "UPDATER_TAG")
    assert (changed, tag) == ("true", "master-202402011200")
    assert _pushed(work) == NEWEST_MASTER
