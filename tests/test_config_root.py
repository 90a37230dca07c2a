"""One rule for paths in .updater.yaml: relative to the repository root, wherever the config sits.

The config lives in deploy/ here; `values: k8s/a.yaml` means <repo>/k8s/a.yaml for `config validate`,
for bump through the git backend (given with --config, or found by walking up) and for the files
backend.
"""

from __future__ import annotations

from pathlib import Path

from testing.cli import run
from testing.gitrepo import Remote, git, make_remote
from testing.oci_layout import LayoutImage, build_layout, utc

OLD, NEW = "v1-0a1b2c3", "v1-4f9e2d1"
SHA = "4f9e2d1c0b3a5968778695a4b3c2d1e0f9a8b7c6"


def _repo(tmp: Path, provider: str = "git") -> Remote:
    registry = tmp / "registry" / "a"
    build_layout(
        registry,
        [LayoutImage(tags=[OLD], created=utc(2024, 1, 1)), LayoutImage(tags=[NEW], created=utc(2024, 1, 2))],
    )
    config = f"""version: 1
scm: {{provider: {provider}}}
environments:
  staging: {{branch: main, tag: "v1-{{sha:7}}"}}
apps:
  a:
    image: oci:{registry}
    values: k8s/a.yaml
    key: image.tag
"""
    return make_remote(tmp / "git", {"deploy/.updater.yaml": config, "k8s/a.yaml": f"image:\n  tag: {OLD}\n"})


def test_validate_and_bump_with_config_flag_read_paths_from_the_repo_root(tmp_path: Path) -> None:
    remote = _repo(tmp_path)
    validated = run("config", "validate", "--config", "deploy/.updater.yaml", cwd=remote.work)
    assert (validated.returncode, validated.stderr) == (0, "")
    root = remote.work.resolve()
    assert validated.stdout == (
        f"deploy/.updater.yaml: ok (1 app, 1 environment; paths relative to {root}; "
        "1 target holds a tag on its branch)\n"
    )
    result = run(
        "bump", "--env", "staging", "--sha", SHA, "--config", "deploy/.updater.yaml", cwd=remote.work
    )
    assert result.returncode == 0, result.stderr
    assert remote.show("k8s/a.yaml") == f"image:\n  tag: {NEW}\n".encode()
    assert remote.count() == 2


def test_bump_finds_the_config_by_walking_up_from_a_subdirectory(tmp_path: Path) -> None:
    remote = _repo(tmp_path)
    (remote.work / "deploy" / "notes").mkdir()
    result = run("bump", "--env", "staging", "--sha", SHA, cwd=remote.work / "deploy" / "notes")
    assert result.returncode == 0, result.stderr
    assert remote.show("k8s/a.yaml") == f"image:\n  tag: {NEW}\n".encode()


def test_files_backend_writes_the_file_at_the_repo_root(tmp_path: Path) -> None:
    remote = _repo(tmp_path, provider="files")
    result = run("bump", "--env", "staging", "--sha", SHA, cwd=remote.work / "deploy")
    assert result.returncode == 0, result.stderr
    assert (remote.work / "k8s" / "a.yaml").read_text() == f"image:\n  tag: {NEW}\n"
    assert not (remote.work / "deploy" / "k8s").exists()
    assert git("status", "--porcelain", cwd=remote.work) == " M k8s/a.yaml\n"


def test_a_path_escaping_the_repo_root_is_refused_from_a_subdirectory_config(tmp_path: Path) -> None:
    remote = _repo(tmp_path)
    path = remote.work / "deploy" / ".updater.yaml"
    path.write_text(path.read_text().replace("values: k8s/a.yaml", "values: ../k8s/a.yaml"))
    result = run("config", "validate", "--config", str(path))
    assert result.returncode == 2
    assert result.stderr.startswith(f"updater: error: {path}:8:13: ")
    assert '"../k8s/a.yaml" is outside the repository' in result.stderr


def test_a_root_symlink_leading_outside_is_refused_for_a_subdirectory_config(tmp_path: Path) -> None:
    remote = _repo(tmp_path)
    outside = tmp_path / "outside.yaml"
    outside.write_text(f"image:\n  tag: {OLD}\n")
    (remote.work / "k8s" / "a.yaml").unlink()
    (remote.work / "k8s" / "a.yaml").symlink_to(outside)
    path = remote.work / "deploy" / ".updater.yaml"
    result = run("config", "validate", "--config", str(path))
    assert result.returncode == 2
    assert result.stderr.startswith(f"updater: error: {path}:8:13: ")
    assert f'"k8s/a.yaml" is a symlink to {outside}, outside the repository' in result.stderr


def test_a_path_relative_to_the_config_folder_is_named_with_the_rule(tmp_path: Path) -> None:
    remote = _repo(tmp_path)
    remote.commit({"deploy/k8s/b.yaml": f"image:\n  tag: {OLD}\n"}, "b next to the config")
    path = remote.work / "deploy" / ".updater.yaml"
    path.write_text(path.read_text().replace("values: k8s/a.yaml", "values: k8s/b.yaml"))
    head = remote.head()
    result = run("bump", "--env", "staging", "--sha", SHA, "--config", str(path))
    assert result.returncode == 2
    assert result.stderr == (
        f"updater: error: {path}:9: app 'a' (staging): k8s/b.yaml does not exist on branch main: "
        "fix the path in the config (relative to the repository root)\n"
    )
    assert remote.head() == head
