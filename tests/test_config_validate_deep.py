"""`config validate` opens every target where updater will write it (issue 11 point 3), through the CLI.

On the environments' branches through the scm backend (a real git remote here), or in the work tree
with `--local`; `--config-only` keeps the old check of the config file alone.
"""

from __future__ import annotations

import json
from pathlib import Path

from testing.cli import run
from testing.github_gitops import OLD, gitops
from testing.gitrepo import Remote, git, make_remote

CONFIG = """version: 1
scm: {provider: git}
environments:
  staging: {branch: main}
  production: {branch: prod}
apps:
  api:
    image: ghcr.io/acme/api
    values: {staging: k8s/api/values-staging.yaml, production: k8s/api/values-production.yaml}
    key: image.tag
  web:
    image: ghcr.io/acme/web
    values: k8s/web/values.yaml
"""
API = "image:\n  repository: ghcr.io/acme/api\n  tag: v1.2.0\n"
WEB = "web:\n  image: ghcr.io/acme/web:v3\n"


def _repo(tmp: Path) -> Remote:
    layout = {
        ".updater.yaml": CONFIG,
        "k8s/api/values-staging.yaml": API,
        "k8s/api/values-production.yaml": "image:\n  repository: ghcr.io/acme/api\n  tag: ''\n",
        "k8s/web/values.yaml": WEB,
    }
    return make_remote(tmp / "git", layout, branches=("main", "prod"))


def test_every_target_is_opened_on_its_branch(tmp_path: Path) -> None:
    remote = _repo(tmp_path)
    done = run("config", "validate", "--json", cwd=remote.work)
    assert (done.returncode, done.stderr) == (0, "")
    report = json.loads(done.stdout)
    assert (report["ok"], report["apps"], report["environments"]) == (True, 2, 2)
    assert [
        (t["app"], t["env"], t["file"], t["locator"], t["line"], t["value"]) for t in report["targets"]
    ] == [
        ("api", "staging", "k8s/api/values-staging.yaml", "key image.tag", 3, "v1.2.0"),
        ("api", "production", "k8s/api/values-production.yaml", "key image.tag", 3, ""),  # empty is fine
        ("web", "staging", "k8s/web/values.yaml", "image ghcr.io/acme/web", 2, "v3"),
        ("web", "production", "k8s/web/values.yaml", "image ghcr.io/acme/web", 2, "v3"),
    ]
    text = run("config", "validate", cwd=remote.work)
    assert (text.returncode, text.stderr) == (0, "")
    assert text.stdout == (
        f"{remote.work / '.updater.yaml'}: ok (2 apps, 2 environments; "
        "4 targets hold a tag on their branches)\n"
    )


def test_a_file_missing_on_one_branch_only_is_found(tmp_path: Path) -> None:
    remote = _repo(tmp_path)
    git("checkout", "-q", "-B", "prod", "origin/prod", cwd=remote.work)
    git("rm", "-q", "k8s/web/values.yaml", cwd=remote.work)
    git("commit", "-q", "-m", "no web in production", cwd=remote.work)
    git("push", "-q", "origin", "HEAD:refs/heads/prod", cwd=remote.work)
    git("checkout", "-q", "main", cwd=remote.work)
    done = run("config", "validate", cwd=remote.work)
    assert done.returncode == 2
    config = remote.work / ".updater.yaml"
    assert done.stdout == (
        f"{config}:13: app 'web' (production): k8s/web/values.yaml does not exist on branch prod: "
        "fix the path in the config (relative to the repository root)\n"
    )
    assert done.stderr.startswith("updater: error: 1 of 4 targets cannot be written: ")


def test_local_reads_the_work_tree_not_the_branches(tmp_path: Path) -> None:
    remote = _repo(tmp_path)
    (remote.work / "k8s/api/values-staging.yaml").write_text("image:\n  repository: ghcr.io/acme/api\n")
    assert run("config", "validate", cwd=remote.work).returncode == 0  # the branch is still fine
    done = run("config", "validate", "--local", cwd=remote.work)
    assert done.returncode == 2
    assert "app 'api' (staging): k8s/api/values-staging.yaml:" in done.stdout  # the key, not the file


def test_a_key_at_a_full_image_reference_is_refused_without_a_suggestion(tmp_path: Path) -> None:
    remote = _repo(tmp_path)
    config = CONFIG.replace(
        "    values: k8s/web/values.yaml\n", "    values: k8s/web/values.yaml\n    key: web.image\n"
    )
    (remote.work / "other.yaml").write_text(config)
    done = run("config", "validate", "other.yaml", cwd=remote.work)
    assert done.returncode == 2
    assert done.stdout.splitlines()[0] == (
        "k8s/web/values.yaml:2: app 'web' (staging): key web.image holds \"ghcr.io/acme/web:v3\", which is "
        "not a tag (it contains '/'): point key at the scalar that holds the tag"
    )
    assert "(and 1 more)" in done.stderr  # production reads the same file


def test_positional_file_and_config_flag_cannot_disagree(tmp_path: Path) -> None:
    remote = _repo(tmp_path)
    done = run("config", "validate", "a.yaml", "--config", "b.yaml", cwd=remote.work)
    assert (done.returncode, done.stdout) == (2, "")
    assert done.stderr == "updater: error: give the config as FILE or --config FILE, not both\n"


def test_config_only_does_not_open_the_repository(tmp_path: Path) -> None:
    (tmp_path / ".updater.yaml").write_text(
        CONFIG.replace("{provider: git}", "{provider: github, repository: a/b}")
    )
    done = run("config", "validate", "--config-only", str(tmp_path / ".updater.yaml"))
    assert (done.returncode, done.stderr) == (0, "")
    assert done.stdout == f"{tmp_path / '.updater.yaml'}: ok (2 apps, 2 environments; targets not opened)\n"


def test_on_github_every_target_of_a_branch_is_read_in_one_query(tmp_path: Path) -> None:
    with gitops(tmp_path, 50) as ops:
        done = ops.run("config", "validate", "--json")
        assert (done.returncode, done.stderr) == (0, "")
        report = json.loads(done.stdout)
        assert report["ok"] and len(report["targets"]) == 50
        assert {t["value"] for t in report["targets"]} == {OLD}
        assert ops.calls() == 1  # one GraphQL query for the 50 files of the branch


def test_the_files_provider_is_checked_in_the_work_tree(tmp_path: Path) -> None:
    (tmp_path / ".updater.yaml").write_text(CONFIG.replace("{provider: git}", "{provider: files}"))
    (tmp_path / "k8s/api").mkdir(parents=True)
    (tmp_path / "k8s/api/values-staging.yaml").write_text(API)
    (tmp_path / "k8s/api/values-production.yaml").write_text(API)
    done = run("config", "validate", cwd=tmp_path)
    assert done.returncode == 2
    assert done.stdout.splitlines() == [
        f"{tmp_path / '.updater.yaml'}:13: app 'web' ({env}): k8s/web/values.yaml does not exist in the work "
        "tree: fix the path in the config (relative to the repository root)"
        for env in ("staging", "production")
    ]
    (tmp_path / "k8s/web").mkdir()
    (tmp_path / "k8s/web/values.yaml").write_text(WEB)
    ok = run("config", "validate", cwd=tmp_path)
    assert (ok.returncode, ok.stderr) == (0, "")
    assert ok.stdout.endswith("; 4 targets hold a tag in the work tree)\n")
