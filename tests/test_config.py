"""The config model: what `load` builds from the layouts DESIGN.md describes."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from updater.config import (
    App,
    ConfigError,
    TagPolicy,
    Target,
    find_config,
    load,
)
from updater.infra.errors import InputError
from updater.scm.base import Author

DESIGN_SKETCH = """\
version: 1
scm: {provider: github, repository: airqo-platform/AirQo-api}   # github | git | files
environments:
  staging:    {branch: staging, mode: commit, tag: "stage-{app}-{sha:7}"}
  production: {branch: main, mode: pull-request, promote-from: staging}
apps:
  calibrate:
    image: europe-docker.pkg.dev/airqo/images/calibrate
    values:
      staging: k8s/calibrate/values-stage.yaml
      production: k8s/calibrate/values-prod.yaml
    key: image.tag          # or locate by image name; several keys/files allowed
  analytics:                # real layouts vary: a separate image per environment, and the
    image:                  # repository and tag in different places of the file
      staging: eu.gcr.io/airqo-250220/airqo-stage-analytics-api
      production: eu.gcr.io/airqo-250220/airqo-analytics-api
    values: {staging: k8s/analytics/values-stage.yaml, production: k8s/analytics/values-prod.yaml}
    key: images.tag         # next to images.repositories.api, not under it
"""


def write(root: Path, text: str) -> Path:
    path = root / ".updater.yaml"
    path.write_text(textwrap.dedent(text))
    return path


def test_design_sketch(tmp_path: Path) -> None:
    config = load(write(tmp_path, DESIGN_SKETCH))
    assert config.root == tmp_path.resolve()
    assert config.scm.provider == "github"
    assert config.scm.repository == "airqo-platform/AirQo-api"
    staging, production = config.environments["staging"], config.environments["production"]
    assert (staging.branch, staging.mode, staging.promote_from, staging.frozen) == (
        "staging",
        "commit",
        None,
        False,
    )
    assert staging.tag == TagPolicy(kind="template", template="stage-{app}-{sha:7}")
    assert (production.branch, production.mode, production.promote_from) == (
        "main",
        "pull-request",
        "staging",
    )
    assert production.tag == TagPolicy()
    assert config.apps["calibrate"] == App(
        name="calibrate",
        images=dict.fromkeys(["staging", "production"], "europe-docker.pkg.dev/airqo/images/calibrate"),
        targets={
            "staging": (Target("k8s/calibrate/values-stage.yaml", key="image.tag", line=12),),
            "production": (Target("k8s/calibrate/values-prod.yaml", key="image.tag", line=12),),
        },
        tag={},
        record_digest=False,
        line=7,
    )
    analytics = config.apps["analytics"]
    assert analytics.images == {
        "staging": "eu.gcr.io/airqo-250220/airqo-stage-analytics-api",
        "production": "eu.gcr.io/airqo-250220/airqo-analytics-api",
    }
    assert analytics.targets["production"] == (
        Target("k8s/analytics/values-prod.yaml", key="images.tag", line=18),
    )
    assert config.where("apps", "analytics", "key") == f"{config.path}:18"
    assert config.where("apps", "analytics", "no-such-key") == f"{config.path}:13"
    assert config.where("environments", "production", "promote-from") == f"{config.path}:5"


def test_defaults_and_settings(tmp_path: Path) -> None:
    config = load(
        write(
            tmp_path,
            """\
            version: 1
            registry: {api: oci, insecure: [localhost:5000], platform: linux/arm64}
            commit:
              author: {name: updater-bot, email: bot@example.com}
              message: "deploy {env}"
            pull-request:
              title: "Deploy to {env}"
              labels: [deploy]
              reviewers: [alice]
              team-reviewers: [platform]
              assignees: [bob]
              draft: true
              merge-method: rebase
              branch: "bots/{env}"
            environments:
              dev:
            apps:
              web: {image: ghcr.io/acme/web, values: values.yaml}
            """,
        )
    )
    assert config.scm.provider == "git" and config.scm.url is None
    assert (config.registry.api, config.registry.insecure, config.registry.platform) == (
        "oci",
        ("localhost:5000",),
        "linux/arm64",
    )
    assert config.commit.author == Author("updater-bot", "bot@example.com")
    assert config.commit.message == "deploy {env}"
    pr = config.pull_request
    assert (pr.title, pr.labels, pr.reviewers, pr.team_reviewers, pr.assignees) == (
        "Deploy to {env}",
        ("deploy",),
        ("alice",),
        ("platform",),
        ("bob",),
    )
    assert (pr.draft, pr.merge_method, pr.branch, pr.body) == (True, "rebase", "bots/{env}", None)
    dev = config.environments["dev"]
    assert (dev.branch, dev.mode, dev.tag, dev.frozen) == (None, "commit", TagPolicy(), False)
    # no locator: the tag is found by the app's image
    assert config.apps["web"].targets == {"dev": (Target("values.yaml", image="ghcr.io/acme/web", line=18),)}


def test_targets_overrides_and_digest(tmp_path: Path) -> None:
    config = load(
        write(
            tmp_path,
            """\
            version: 1
            environments:
              staging:
                branch: staging
                tag: {strategy: newest, include: "^stage-", exclude: ["-rc", "-dirty$"], wait: 10m}
              production: {branch: main, tag: {strategy: semver, range: ">=1.2,<2", wait: 2.5}}
            apps:
              api:
                image: {staging: r.example/api-stage, production: r.example/api}
                values: [charts/api/values.yaml, ./charts/api/extra/../values-common.yaml]
                key: [image.tag, "sidecars[0].\\"image.tag\\""]
                digest: image.digest
                tag: {strategy: numerical, include: "^build-(\\\\d+)$"}
                overrides:
                  production:
                    marker: api-prod
                    document: 1
                    tag: "v{sha:8}-*"
              worker:
                image: r.example/worker
                targets:
                  - {file: deploy/all.yaml, env: production, image: r.example/worker, digest-key: w.digest}
                  - {file: deploy/stage.yaml, env: [staging], marker: "ns:policy"}
                  - {key: worker.tag, file: deploy/shared.yaml, document: 2}
            """,
        )
    )
    staging, production = config.environments["staging"].tag, config.environments["production"].tag
    assert staging == TagPolicy(kind="newest", include="^stage-", exclude=("-rc", "-dirty$"), wait=600.0)
    assert production == TagPolicy(kind="semver", range=">=1.2,<2", wait=2.5)
    api = config.apps["api"]
    files = ("charts/api/values.yaml", "charts/api/values-common.yaml")
    keys = ("image.tag", 'sidecars[0]."image.tag"')
    assert api.targets["staging"] == tuple(
        Target(file, key=key, digest_key="image.digest", line=11) for key in keys for file in files
    )
    assert api.targets["production"] == tuple(
        Target(file, marker="api-prod", document=1, digest_key="image.digest", line=16) for file in files
    )
    assert api.tag == {
        "staging": TagPolicy(kind="numerical", include="^build-(\\d+)$"),
        "production": TagPolicy(template="v{sha:8}-*"),
    }
    assert api.record_digest
    worker = config.apps["worker"]
    assert worker.targets == {
        "staging": (
            Target("deploy/stage.yaml", marker="ns:policy", line=23),
            Target("deploy/shared.yaml", key="worker.tag", document=2, line=24),
        ),
        "production": (
            Target("deploy/all.yaml", image="r.example/worker", digest_key="w.digest", line=22),
            Target("deploy/shared.yaml", key="worker.tag", document=2, line=24),
        ),
    }
    assert worker.record_digest and worker.tag == {}


def test_app_deployed_only_where_it_has_files(tmp_path: Path) -> None:
    config = load(
        write(
            tmp_path,
            """\
            version: 1
            environments: {staging: {}, production: {}}
            apps:
              tool: {image: {staging: r/tool}, values: {staging: tool.yaml}, key: tag}
            """,
        )
    )
    assert list(config.apps["tool"].targets) == ["staging"]


def test_symlink_inside_repo_is_refused_naming_its_target(tmp_path: Path) -> None:
    """Backends read a link's blob (its target's name), so the config must name the real file."""
    (tmp_path / "k8s").mkdir()
    (tmp_path / "k8s" / "real.yaml").write_text("image: {tag: a}\n")
    (tmp_path / "link.yaml").symlink_to(tmp_path / "k8s" / "real.yaml")
    path = write(tmp_path, "version: 1\nenvironments: {e: {}}\napps: {a: {image: r/a, values: link.yaml}}\n")
    with pytest.raises(ConfigError) as error:
        load(path)
    assert error.value.message == (
        f'{path}:3:32: apps.a.values: "link.yaml" is a symlink to k8s/real.yaml; name that file instead'
    )


def test_anchors_and_merge_keys(tmp_path: Path) -> None:
    config = load(
        write(
            tmp_path,
            """\
            version: 1
            scm: {provider: github, repository: o/r}
            environments:
              staging: &env {mode: pull-request, branch: main, frozen: true}
              production: {<<: *env, mode: auto-merge, branch: prod}
            apps: {a: {image: r/a, values: a.yaml}}
            """,
        )
    )
    production = config.environments["production"]
    assert (production.mode, production.branch, production.frozen) == ("auto-merge", "prod", True)


def test_config_error_is_an_input_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as caught:
        load(tmp_path / "missing.yaml")
    assert isinstance(caught.value, InputError) and caught.value.exit_code == 2
    assert (
        caught.value.message == f"{tmp_path / 'missing.yaml'}: no such file; create it or pass --config PATH"
    )


def test_find_config_walks_up_to_the_git_root(tmp_path: Path) -> None:
    (tmp_path / ".git").mkdir()
    deep = tmp_path / "k8s" / "web"
    deep.mkdir(parents=True)
    with pytest.raises(ConfigError) as caught:
        find_config(deep)
    assert caught.value.message == (
        f"{deep}: no .updater.yaml up to the repository root {tmp_path}; "
        "create one at the root (updater config schema describes it) or pass --config PATH"
    )
    config = write(tmp_path, DESIGN_SKETCH)
    assert find_config(deep) == config
    # a config above the git root belongs to another repository
    nested = tmp_path / "vendor" / "other"
    (nested / ".git").mkdir(parents=True)
    with pytest.raises(ConfigError):
        find_config(nested)


def test_app_digest_key_applies_to_targets_without_their_own(tmp_path: Path) -> None:
    config = load(
        write(
            tmp_path,
            """\
            version: 1
            environments: {prod: {}}
            apps:
              job:
                image: r/job
                digest: image.digest
                targets:
                  - {file: a.yaml, key: image.tag}
                  - {file: b.yaml, key: job.tag, digest-key: job.digest}
            """,
        )
    )
    assert config.apps["job"].targets["prod"] == (
        Target("a.yaml", key="image.tag", digest_key="image.digest", line=8),
        Target("b.yaml", key="job.tag", digest_key="job.digest", line=9),
    )
