"""`updater bump` end to end: the CLI as a subprocess, a real bare git remote, an OCI layout registry.

The real docker-registry runs in tests/test_e2e*.py; here the registry is an OCI image layout on disk
(a real one, written by testing/oci_layout.py), so that these cases stay fast.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from testing.cli import run
from testing.gitrepo import Remote, git, make_remote
from testing.oci_layout import LayoutImage, build_layout, utc

SHA = "4f9e2d1c0b3a5968778695a4b3c2d1e0f9a8b7c6"
OLD = "stage-0a1b2c3-1700000000"
NEW = "stage-4f9e2d1-1700003600"

API = f"""# api values
image:
  repository: example/api
  tag: {OLD}   # deployed by hand once
resources: {{}}
"""
SHARED = f"""workers:
  image: {{tag: "{OLD}"}}
cron:
  image: {{tag: "{OLD}"}}
"""


def layout(root: Path, name: str, extra: tuple[LayoutImage, ...] = ()) -> tuple[str, dict[str, str]]:
    images = (
        LayoutImage(tags=[OLD], created=utc(2023, 11, 14, 22)),
        LayoutImage(tags=[NEW, "latest"], created=utc(2023, 11, 14, 23)),
        *extra,
    )
    digests = build_layout(root / "registry" / name, images)
    return f"oci:{root / 'registry' / name}", digests


def config(images: dict[str, str], extra_app: str = "") -> str:
    return f"""version: 1
scm: {{provider: git}}
commit:
  author: {{name: updater-bot, email: bot@example.test}}
environments:
  staging: {{branch: main, tag: "stage-{{sha:7}}-*"}}
apps:
  api:
    image: {images["api"]}
    values: {{staging: k8s/api/values-stage.yaml}}
    key: image.tag
  workers:
    image: {images["workers"]}
    values: {{staging: k8s/shared/values-stage.yaml}}
    key: workers.image.tag
  cron:
    image: {images["cron"]}
    values: {{staging: k8s/shared/values-stage.yaml}}
    key: cron.image.tag
    digest: true
{extra_app}"""


@pytest.fixture
def repo(tmp_path: Path) -> tuple[Remote, dict[str, dict[str, str]]]:
    images, digests = {}, {}
    for name in ("api", "workers", "cron"):
        images[name], digests[name] = layout(tmp_path, name)
    files = {
        ".updater.yaml": config(images),
        "k8s/api/values-stage.yaml": API,
        "k8s/shared/values-stage.yaml": SHARED,
    }
    return make_remote(tmp_path / "git", files), digests


def bump(remote: Remote, *args: str, env: dict[str, str] | None = None) -> tuple[int, str, str]:
    result = run("bump", "--env", "staging", "--sha", SHA, *args, cwd=remote.work, env=env)
    return result.returncode, result.stdout, result.stderr


def test_bump_all_apps_in_one_commit_with_full_message(
    repo: tuple[Remote, dict[str, dict[str, str]]],
) -> None:
    remote, digests = repo
    ci = {
        "GITHUB_SERVER_URL": "https://github.example",
        "GITHUB_REPOSITORY": "org/app",
        "GITHUB_RUN_ID": "77",
    }
    code, out, err = bump(remote, "--json", env=ci)
    assert (code, err) == (0, "")
    result = json.loads(out)
    assert result["command"] == "bump" and result["env"] == "staging" and result["changed"] is True
    assert result["commit"] == remote.head() and result["pr_number"] is None and result["pr_url"] is None
    assert [(a["app"], a["old"], a["new"], a["changed"]) for a in result["apps"]] == [
        ("api", OLD, NEW, True),
        ("workers", OLD, NEW, True),
        ("cron", OLD, NEW, True),
    ]
    assert result["apps"][2]["digest"] == digests["cron"][NEW]
    assert result["apps"][0]["files"] == ["k8s/api/values-stage.yaml"]
    # Exactly the tag bytes changed, in one commit on top of the initial one.
    assert remote.count() == 2
    assert remote.show("k8s/api/values-stage.yaml") == API.replace(OLD, NEW).encode()
    expected = SHARED.replace(OLD, NEW, 1).replace(f'"{OLD}"', f'"{NEW}@{digests["cron"][NEW]}"')
    assert remote.show("k8s/shared/values-stage.yaml") == expected.encode()
    message = git("log", "-1", "--format=%an|%B", cwd=remote.bare)
    assert message.startswith("updater-bot|bump staging: api " + NEW)
    assert f"- cron (staging): {OLD} -> {NEW}" in message
    assert f"  digest: {digests['cron'][NEW]}" in message
    assert f"Source commit: {SHA}" in message
    assert "CI run: https://github.example/org/app/actions/runs/77" in message


def test_same_bump_twice_is_a_noop_without_commit(repo: tuple[Remote, dict[str, dict[str, str]]]) -> None:
    remote, _ = repo
    assert bump(remote, "--app", "api")[0] == 0
    head = remote.head()
    code, out, err = bump(remote, "--app", "api")
    assert (code, err) == (0, "")
    assert out == f"api (staging): {NEW} (unchanged)\nstaging: already up to date\n"
    assert remote.head() == head and remote.count() == 2


def test_dry_run_prints_diff_and_writes_nothing(repo: tuple[Remote, dict[str, dict[str, str]]]) -> None:
    remote, _ = repo
    head = remote.head()
    code, out, _ = bump(remote, "--app", "api", "--dry-run")
    assert code == 0
    assert f"-  tag: {OLD}   # deployed by hand once\n+  tag: {NEW}   # deployed by hand once\n" in out
    assert out.startswith("--- a/k8s/api/values-stage.yaml\n+++ b/k8s/api/values-stage.yaml\n")
    assert out.endswith("dry run: nothing written\n")
    assert remote.head() == head


def test_downgrade_refused_unless_allowed(
    repo: tuple[Remote, dict[str, dict[str, str]]], tmp_path: Path
) -> None:
    remote, _ = repo
    newer = "stage-0a1b2c3-1800000000"
    remote.commit({"k8s/api/values-stage.yaml": API.replace(OLD, newer)}, "hotfix by hand")
    build_layout(tmp_path / "registry" / "api", [LayoutImage(tags=[newer], created=utc(2024, 1, 1))])
    head = remote.head()
    code, out, err = bump(remote, "--app", "api")
    assert code == 2 and out == ""
    assert err == (
        f"updater: error: api (staging): refusing a downgrade: {NEW} (built 2023-11-14T23:00:00+00:00) "
        f"is older than the current {newer} (built 2024-01-01T00:00:00+00:00); "
        "pass --allow-downgrade to write it\n"
    )
    assert remote.head() == head
    code, _, err = bump(remote, "--app", "api", "--allow-downgrade")
    assert (code, err) == (0, "")
    assert remote.show("k8s/api/values-stage.yaml") == API.replace(OLD, NEW).encode()


def test_locator_matching_nothing_names_config_line_and_leaves_repo(tmp_path: Path) -> None:
    images = {name: layout(tmp_path, name)[0] for name in ("api", "workers", "cron")}
    broken = config(images).replace("key: cron.image.tag", "key: cron.image.tagg")
    remote = make_remote(
        tmp_path / "git",
        {".updater.yaml": broken, "k8s/api/values-stage.yaml": API, "k8s/shared/values-stage.yaml": SHARED},
    )
    head = remote.head()
    code, out, err = bump(remote)
    assert code == 2 and out == ""
    lines = err.splitlines()
    assert len(lines) == 1
    line = broken.splitlines().index("    key: cron.image.tagg") + 1
    assert lines[0].startswith(
        f"updater: error: {remote.work / '.updater.yaml'}:{line}: app 'cron' (staging): "
    )
    assert "k8s/shared/values-stage.yaml" in lines[0] and "tagg" in lines[0]
    assert remote.head() == head and git("status", "--porcelain", cwd=remote.work) == ""


def test_unknown_app_and_environment_are_usage_errors(repo: tuple[Remote, dict[str, dict[str, str]]]) -> None:
    remote, _ = repo
    code, _, err = bump(remote, "--app", "apii")
    assert (code, err) == (2, "updater: error: unknown app 'apii': did you mean 'api'?\n")
    result = run("bump", "--env", "stagin", cwd=remote.work)
    assert result.returncode == 2
    assert result.stderr == "updater: error: unknown environment 'stagin': did you mean 'staging'?\n"


def test_missing_tag_is_input_error_and_nothing_written(
    repo: tuple[Remote, dict[str, dict[str, str]]],
) -> None:
    remote, _ = repo
    head = remote.head()
    result = run("bump", "--env", "staging", "--sha", "deadbee", cwd=remote.work)
    assert result.returncode == 2 and result.stdout == ""
    assert result.stderr.startswith("updater: error: ") and "stage-deadbee-*" in result.stderr
    assert len(result.stderr.splitlines()) == 1
    assert remote.head() == head


def test_files_backend_edits_working_tree_only(repo: tuple[Remote, dict[str, dict[str, str]]]) -> None:
    remote, _ = repo
    cfg = remote.work / ".updater.yaml"
    cfg.write_text(cfg.read_text().replace("scm: {provider: git}", "scm: {provider: files}"))
    head = remote.head()
    code, out, err = bump(remote, "--app", "api")
    assert (code, err) == (0, "")
    assert "note: files written in place; commit them yourself" in out
    assert (remote.work / "k8s/api/values-stage.yaml").read_text() == API.replace(OLD, NEW)
    assert remote.head() == head


def test_pull_request_mode_with_plain_git_pushes_the_head_branch(
    repo: tuple[Remote, dict[str, dict[str, str]]],
) -> None:
    remote, _ = repo
    head = remote.head()
    code, out, err = bump(remote, "--app", "api", "--mode", "pull-request", "--json")
    assert (code, err) == (0, "")
    report = json.loads(out)
    assert report["notes"] == ["pushed to branch updater/staging/api; open a pull request into main"]
    assert report["commit"] == remote.head("updater/staging/api")
    assert remote.head() == head  # the base branch waits for the pull request
    assert (
        remote.show("k8s/api/values-stage.yaml", branch="updater/staging/api")
        == API.replace(OLD, NEW).encode()
    )


def test_unreachable_remote_exits_1_and_never_prints_its_token(
    repo: tuple[Remote, dict[str, dict[str, str]]],
) -> None:
    remote, _ = repo
    token = "ghp_" + "x7" * 18
    cfg = remote.work / ".updater.yaml"
    cfg.write_text(
        cfg.read_text().replace(
            "scm: {provider: git}", f"scm: {{provider: git, url: 'http://bot:{token}@127.0.0.1:9/r.git'}}"
        )
    )
    result = run("--debug", "--retry-budget", "1", "bump", "--env", "staging", "--sha", SHA, cwd=remote.work)
    assert result.returncode == 1 and result.stdout == ""
    assert "debug: updater.scm.git: git fetch" in result.stderr  # --debug really logged the git calls
    assert token not in result.stderr
    last = result.stderr.splitlines()[-1]
    # The credentials go to git as a header, not in its URL: errors name the server without them.
    assert last.startswith("updater: error: git fetch from http://127.0.0.1:9/r.git failed: ")
    assert last.endswith("; gave up after retrying")


def test_summary_names_the_branch_the_commit_landed_on(
    repo: tuple[Remote, dict[str, dict[str, str]]],
) -> None:
    remote, _ = repo
    code, out, err = bump(remote, "--app", "api")
    assert (code, err) == (0, "")
    assert out.splitlines(keepends=True)[-2:] == [
        f"api (staging): {OLD} -> {NEW}\n",
        f"committed {remote.head()[:12]} to staging (branch main)\n",
    ]
    head = "updater/staging/workers"
    code, out, err = bump(remote, "--app", "workers", "--mode", "pull-request")
    assert (code, err) == (0, "")
    assert out.splitlines(keepends=True)[-2:] == [
        f"committed {remote.head(head)[:12]} to staging (branch {head})\n",
        "note: pushed to branch updater/staging/workers; open a pull request into main\n",
    ]


def test_semver_range_below_the_current_version_is_a_refused_downgrade(tmp_path: Path) -> None:
    images = [
        LayoutImage(tags=[version], created=utc(2024, 1, day))
        for day, version in ((1, "1.3.0"), (2, "1.3.5"), (3, "1.10.0"), (4, "1.11.0-rc.1"))
    ]
    build_layout(tmp_path / "registry" / "api", images)
    config = f"""version: 1
scm: {{provider: git}}
environments:
  staging: {{branch: main}}
apps:
  api:
    image: oci:{tmp_path / "registry" / "api"}
    values: {{staging: k8s/api/values-stage.yaml}}
    key: image.tag
"""
    current = "image:\n  tag: 1.10.0\n"
    remote = make_remote(tmp_path / "git", {".updater.yaml": config, "k8s/api/values-stage.yaml": current})
    head = remote.head()
    code, out, err = bump(remote, "--strategy", "semver", "--range", "~1.3")
    assert (code, out) == (2, "")
    assert err == (
        "updater: error: api (staging): refusing a downgrade: 1.3.5 sorts below the current 1.10.0 "
        "(semver); pass --allow-downgrade to write it\n"
    )
    assert remote.head() == head
    code, out, err = bump(remote, "--strategy", "semver", "--range", "~1.3", "--allow-downgrade")
    assert (code, err) == (0, "")
    assert remote.show("k8s/api/values-stage.yaml") == b"image:\n  tag: 1.3.5\n"
    # The highest in ^1 is 1.10.0 (numeric order, pre-release skipped): an upgrade again.
    code, out, err = bump(remote, "--strategy", "semver", "--range", "^1", "--json")
    assert (code, err) == (0, "")
    assert [(a["old"], a["new"]) for a in json.loads(out)["apps"]] == [("1.3.5", "1.10.0")]


def test_dry_run_json_gives_each_files_unified_diff(repo: tuple[Remote, dict[str, dict[str, str]]]) -> None:
    remote, _ = repo
    head = remote.head()
    code, out, err = bump(remote, "--app", "api", "--app", "workers", "--dry-run", "--json")
    assert (code, err) == (0, "")
    result = json.loads(out)
    assert result["dry_run"] is True and result["commit"] is None
    assert result["diffs"] == {
        "k8s/api/values-stage.yaml": (
            "--- a/k8s/api/values-stage.yaml\n+++ b/k8s/api/values-stage.yaml\n@@ -1,5 +1,5 @@\n"
            " # api values\n image:\n   repository: example/api\n"
            f"-  tag: {OLD}   # deployed by hand once\n+  tag: {NEW}   # deployed by hand once\n"
            " resources: {}\n"
        ),
        "k8s/shared/values-stage.yaml": (
            "--- a/k8s/shared/values-stage.yaml\n+++ b/k8s/shared/values-stage.yaml\n@@ -1,4 +1,4 @@\n"
            f' workers:\n-  image: {{tag: "{OLD}"}}\n+  image: {{tag: "{NEW}"}}\n'
            f' cron:\n   image: {{tag: "{OLD}"}}\n'
        ),
    }
    assert remote.head() == head
    code, out, err = bump(remote, "--app", "api", "--json")
    assert (code, err) == (0, "")
    assert "diffs" not in json.loads(out)  # only a dry run carries them
