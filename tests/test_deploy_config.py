"""The `deploy` section of `.updater.yaml`, and `config validate --deep` asking Argo CD about each Application."""

# ruff: noqa: E501 - the exact messages are easier to review unbroken

from __future__ import annotations

from pathlib import Path

import pytest

from testing.argocd_server import AppSpec, Grant, ImageSource, start_argocd
from testing.cli import run
from testing.gitrepo import git, two_env_gitops
from updater.config import ConfigError, load
from updater.config.schema import json_schema
from updater.deploy.settings import ApplicationRef, Server

BASE = """\
version: 1
environments:
  staging: {branch: main}
  production: {branch: main}
apps:
  web:
    image: ghcr.io/acme/web
    values: {staging: k8s/web/values-stage.yaml, production: k8s/web/values-prod.yaml}
    key: image.tag
  api:
    image: ghcr.io/acme/api
    values: {staging: k8s/api/values-stage.yaml}
    key: image.tag
"""


def _load(tmp_path: Path, deploy: str) -> object:
    (tmp_path / ".updater.yaml").write_text(BASE + deploy)
    return load(tmp_path / ".updater.yaml")


def test_deploy_section_names_each_application(tmp_path: Path) -> None:
    (tmp_path / "ca.pem").write_text("-----BEGIN CERTIFICATE-----\n")
    config = _load(
        tmp_path,
        """deploy:
  server: https://argocd.example.com/
  token-env: ARGO_TOKEN
  ca-file: ca.pem
  namespace: apps
  project: web
  applications:
    web: {production: web-prod}
    api: {staging: {name: api-stg, namespace: team-a, project: api}}
""",
    )
    deploy = config.deploy  # type: ignore[attr-defined]
    assert deploy.server == Server(
        "https://argocd.example.com", "ARGO_TOKEN", str(tmp_path / "ca.pem"), False
    )
    assert deploy.ref("web", "staging") == ApplicationRef("web-staging", "apps", "web")
    assert deploy.ref("web", "production") == ApplicationRef("web-prod", "apps", "web")
    assert deploy.ref("api", "staging") == ApplicationRef("api-stg", "team-a", "api")
    assert _load(tmp_path, "").deploy is None  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    ("deploy", "message"),
    [
        ("deploy: {token-env: X}\n", ':14:1: deploy: add the required key "server"'),
        ("deploy: {server: 'http://argocd.example.com'}\n", ":14:18: deploy.server: 'http://argocd.example.com': plain http only to a loopback address; use https"),
        ("deploy: {server: 'https://u:p@argo.example'}\n", ":14:18: deploy.server: no credentials in the URL"),
        ("deploy: {server: 'https://a.example', token-env: 'A-B'}\n", "deploy.token-env"),
        ("deploy: {server: 'https://a.example', ca-file: nope.pem}\n", "deploy.ca-file: "),
        ("deploy: {server: 'https://a.example', application: fixed}\n", "deploy.application: names one Application for every app"),
        ("deploy: {server: 'https://a.example', applications: {wbe: {staging: x}}}\n", "deploy.applications.wbe: no app 'wbe' in apps"),
        ("deploy: {server: 'https://a.example', applications: {web: {prod: x}}}\n", "deploy.applications.web.prod: no environment 'prod'"),
        ("deploy: {server: 'https://a.example', sever: x}\n", 'deploy.sever: unknown key; did you mean "server"?'),
    ],
)  # fmt: skip
def test_bad_deploy_sections_are_one_line_errors(tmp_path: Path, deploy: str, message: str) -> None:
    with pytest.raises(ConfigError) as info:
        _load(tmp_path, deploy)
    assert message in info.value.message
    assert info.value.message.startswith(str(tmp_path / ".updater.yaml") + ":14:")


def test_the_json_schema_describes_deploy() -> None:
    schema = json_schema()
    assert schema["$defs"]["config"]["properties"]["deploy"]["$ref"] == "#/$defs/deploy"
    assert schema["$defs"]["deploy"]["required"] == ["server"]
    assert "token-env" in schema["$defs"]["deploy"]["properties"]


def _apps(wrong_branch: bool) -> list[AppSpec]:
    api = ImageSource("example/api", "k8s/api/values-staging.yaml", "image.tag")
    web = ImageSource("example/web", "k8s/web/values-staging.yaml", "web.tag")
    return [
        AppSpec("api-staging", "k8s/api", ("values-staging.yaml",), (api,)),
        AppSpec("web-staging", "k8s/web", ("values-production.yaml",), (web,),
                target_revision="main" if not wrong_branch else "release"),
        AppSpec("api-production", "k8s/api", ("values-production.yaml",), (api,)),
    ]  # fmt: skip


def test_validate_deep_asks_argo_cd_about_every_application(tmp_path: Path) -> None:
    ops = two_env_gitops(tmp_path)
    git("branch", "release", "main", cwd=ops.remote.bare)
    token = "deep-validate-token-77"
    with start_argocd(ops.remote.bare, _apps(True), {token: Grant()}) as server:
        config = (ops.remote.work / ".updater.yaml").read_text()
        ops.remote.commit({".updater.yaml": config + f"deploy:\n  server: {server.url}\n"}, "deploy")
        plain = run("config", "validate", cwd=ops.remote.work, env={"ARGOCD_AUTH_TOKEN": token})
        assert plain.returncode == 0 and server.total() == 0  # without --deep Argo CD is not asked
        deep = run("config", "validate", "--deep", cwd=ops.remote.work, env={"ARGOCD_AUTH_TOKEN": token})
        assert deep.returncode == 2, deep.stderr
        lines = deep.stdout.splitlines()
        assert "api (staging): Application api-staging: ok" in lines
        assert "api (production): Application api-production: ok" in lines
        web = next(line for line in lines if line.startswith("web (staging)"))
        assert "no source reads k8s/web/values-staging.yaml" in web
        assert "targetRevision is release, not branch main" in web
        missing = next(line for line in lines if line.startswith("web (production)"))
        assert "permission denied for application 'web-production' (HTTP 403): it does not exist" in missing
        assert deep.stderr.startswith("updater: error: ") and "(and 1 more)" in deep.stderr
        assert token not in deep.stdout + deep.stderr
        assert server.counts == {"get": 4}
