"""A values file that is a symlink inside the repository: refused with the file it points to, never
read as YAML (a link's blob is its target's name), through the CLI against a bare remote."""

from __future__ import annotations

import os
from pathlib import Path

from testing.cli import run
from testing.gitrepo import Remote, git, make_remote
from testing.oci_layout import LayoutImage, build_layout, utc

OLD, NEW = "v1-0a1b2c3", "v1-4f9e2d1"
SHA = "4f9e2d1c0b3a5968778695a4b3c2d1e0f9a8b7c6"


def _config(tmp: Path, scm: str) -> str:
    registry = tmp / "registry" / "a"
    build_layout(
        registry,
        [LayoutImage(tags=[OLD], created=utc(2024, 1, 1)), LayoutImage(tags=[NEW], created=utc(2024, 1, 2))],
    )
    return f"""version: 1
scm: {scm}
environments:
  staging: {{branch: main, tag: "v1-{{sha:7}}"}}
apps:
  a:
    image: oci:{registry}
    values: link.yaml
    key: image.tag
"""


def _remote_with_link(tmp: Path, config: str) -> Remote:
    remote = make_remote(tmp / "git", {".updater.yaml": config, "k8s/real.yaml": f"image:\n  tag: {OLD}\n"})
    os.symlink("k8s/real.yaml", remote.work / "link.yaml")
    git("add", "link.yaml", cwd=remote.work)
    git("commit", "-q", "-m", "link", cwd=remote.work)
    git("push", "-q", "origin", "HEAD:refs/heads/main", cwd=remote.work)
    return remote


def test_validate_and_bump_refuse_an_in_repo_symlink_naming_its_target(tmp_path: Path) -> None:
    remote = _remote_with_link(tmp_path, _config(tmp_path, "{provider: git}"))
    head = remote.head()
    expected = (
        f"updater: error: {remote.work / '.updater.yaml'}:8:13: apps.a.values: "
        '"link.yaml" is a symlink to k8s/real.yaml; name that file instead\n'
    )
    for args in (("config", "validate"), ("bump", "--env", "staging", "--sha", SHA)):
        result = run(*args, cwd=remote.work)
        assert (result.returncode, result.stdout, result.stderr) == (2, "", expected)
    assert remote.head() == head


def test_git_backend_refuses_a_link_only_the_branch_has(tmp_path: Path) -> None:
    """The config is outside any checkout (scm.url names the remote): the backend sees the link."""
    outside = tmp_path / "ci"
    outside.mkdir()
    remote = _remote_with_link(tmp_path, "")
    (outside / ".updater.yaml").write_text(_config(tmp_path, f"{{provider: git, url: {remote.bare}}}"))
    head = remote.head()
    result = run("bump", "--env", "staging", "--sha", SHA, "--config", str(outside / ".updater.yaml"))
    assert (result.returncode, result.stdout) == (2, "")
    assert result.stderr == (
        "updater: error: link.yaml is a symlink on branch main (to k8s/real.yaml): "
        "name the file it points to in the config\n"
    )
    assert remote.head() == head
    assert remote.show("k8s/real.yaml") == f"image:\n  tag: {OLD}\n".encode()
