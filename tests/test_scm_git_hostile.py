"""The git backend against a hostile remote, through the CLI: a second pusher that turns a directory
into a symlink while we race it, and credentials in `scm.url` that must reach neither `ps` nor disk."""

from __future__ import annotations

import base64
import os
from pathlib import Path

from testing import git_http, gitspy
from testing.cli import run
from testing.gitrepo import git, make_remote
from testing.oci_layout import LayoutImage, build_layout, utc

OLD, NEW = "v1-0a1b2c3", "v1-4f9e2d1"
SHA = "4f9e2d1c0b3a5968778695a4b3c2d1e0f9a8b7c6"
VALUES = f"image:\n  tag: {OLD}\n"


def _config(tmp: Path, url: str) -> Path:
    """A config outside any checkout, naming the remote, with one app in k8s/values.yaml."""
    registry = tmp / "registry" / "a"
    build_layout(
        registry,
        [LayoutImage(tags=[OLD], created=utc(2024, 1, 1)), LayoutImage(tags=[NEW], created=utc(2024, 1, 2))],
    )
    ci = tmp / "ci"
    ci.mkdir()
    (ci / ".updater.yaml").write_text(
        f"""version: 1
scm: {{provider: git, url: '{url}'}}
environments:
  staging: {{branch: main, tag: "v1-{{sha:7}}"}}
apps:
  a:
    image: oci:{registry}
    values: k8s/values.yaml
    key: image.tag
"""
    )
    return ci / ".updater.yaml"


def test_a_directory_turned_into_a_symlink_by_a_racing_pusher_is_not_followed(tmp_path: Path) -> None:
    remote = make_remote(tmp_path / "git", {"k8s/values.yaml": VALUES, "README": "x\n"})
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "values.yaml").write_text(VALUES)
    # The second pusher: replaces the directory k8s by a link to a directory outside any clone.
    other = tmp_path / "other"
    git("clone", "-q", str(remote.bare), str(other), cwd=tmp_path)
    git("rm", "-q", "-r", "k8s", cwd=other)
    os.symlink(outside, other / "k8s")
    git("add", "k8s", cwd=other)
    git("commit", "-q", "-m", "k8s is a link now", cwd=other)
    # It pushes right before our first push, which therefore loses the race.
    env, log = gitspy.spy(
        tmp_path, before_push=f'(cd "{other}" && "$REAL_GIT" push -q origin HEAD:refs/heads/main) || exit 99'
    )
    config = _config(tmp_path, str(remote.bare))
    result = run("bump", "--env", "staging", "--sha", SHA, "--config", str(config), env=env)
    assert (tmp_path / "spy-raced").is_dir(), "the second pusher did not run"
    assert (outside / "values.yaml").read_text() == VALUES, "wrote outside the clone"
    assert sorted(p.name for p in outside.iterdir()) == ["values.yaml"]
    assert (result.returncode, result.stdout) == (2, "")
    assert result.stderr == (
        f"updater: error: k8s/values.yaml: k8s is a symlink on branch main (to {outside}): "
        "refusing to follow it; name the real path in the config\n"
    )
    assert remote.head() == git("rev-parse", "HEAD", cwd=other).strip()  # only the other push landed
    assert log.read_text().count(" push ") == 1


def test_a_symlinked_directory_already_on_the_branch_is_refused_before_any_edit(tmp_path: Path) -> None:
    remote = make_remote(tmp_path / "git", {"real/values.yaml": VALUES})
    os.symlink("real", remote.work / "k8s")
    git("add", "k8s", cwd=remote.work)
    git("commit", "-q", "-m", "link", cwd=remote.work)
    git("push", "-q", "origin", "HEAD:refs/heads/main", cwd=remote.work)
    head = remote.head()
    config = _config(tmp_path, str(remote.bare))
    result = run("bump", "--env", "staging", "--sha", SHA, "--config", str(config))
    assert (result.returncode, result.stdout) == (2, "")
    assert result.stderr == (
        "updater: error: k8s/values.yaml: k8s is a symlink on branch main (to real): "
        "refusing to follow it; name the real path in the config\n"
    )
    assert remote.head() == head


def test_credentials_in_scm_url_reach_neither_argv_nor_the_clones_config(tmp_path: Path) -> None:
    password = "pw-Loopback-7f3a9c"
    root = tmp_path / "served"
    root.mkdir()
    remote = make_remote(tmp_path / "git", {"k8s/values.yaml": VALUES})
    git("clone", "-q", "--bare", str(remote.bare), str(root / "gitops.git"), cwd=tmp_path)
    env, log = gitspy.spy(tmp_path)
    with git_http.serve(root, "bob", password) as (base, seen):
        url = f"{base.replace('http://', 'http://bob:' + password + '@')}/gitops.git"
        config = _config(tmp_path, url)
        result = run("--debug", "bump", "--env", "staging", "--sha", SHA, "--config", str(config), env=env)
    assert result.returncode == 0, result.stderr
    assert git("show", "main:k8s/values.yaml", cwd=root / "gitops.git") == f"image:\n  tag: {NEW}\n"
    spied = log.read_text()
    assert "git-remote-http origin" in spied and '[remote "origin"]' in spied  # the spies saw the run
    assert f"url = {base}/gitops.git" in spied  # .git/config holds the bare URL
    assert password not in spied and "bob:" not in spied
    assert password not in result.stderr + result.stdout
    basic = base64.b64encode(f"bob:{password}".encode()).decode()
    # Sent with the first request and every one after: never challenged, never prompted.
    assert seen and all((header or "").partition(" ")[2] == basic for header in seen)


def test_history_refuses_a_version_over_the_size_limit_without_reading_it(tmp_path: Path) -> None:
    remote = make_remote(tmp_path / "git", {"k8s/values.yaml": VALUES + "#" * (2 * 1024 * 1024) + "\n"})
    remote.commit({"k8s/values.yaml": VALUES}, "small again")
    config = _config(tmp_path, str(remote.bare))
    result = run("history", "--env", "staging", "--app", "a", "--config", str(config))
    assert (result.returncode, result.stdout) == (2, "")
    assert result.stderr.startswith("updater: error: k8s/values.yaml at commit ")
    assert result.stderr.endswith(
        ": file too large (2.0 MiB): values and config files are limited to 1 MiB\n"
    )
