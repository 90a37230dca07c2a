"""Files that fight back, through the real CLI: FIFOs, devices and huge files as values files or
config, concurrent `updater set` runs on one file, kill -9 in the middle of a write, a directory
that may not be written."""

from __future__ import annotations

import os
import random
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

from testing.cli import ROOT, run
from testing.gitrepo import git
from testing.oci_layout import LayoutImage, build_layout, utc

UPDATER = [sys.executable, "-m", "updater"]


def test_a_tag_go_reads_as_a_number_is_written_quoted(tmp_path: Path) -> None:
    values = tmp_path / "values.yaml"
    for tag in ("0_x1", "0_b10", "0__o7", "0_X1f"):
        values.write_text("image:\n  tag: v1\n")
        result = run("set", str(values), "image.tag", tag)
        assert result.returncode == 0, result.stderr
        assert values.read_text() == f'image:\n  tag: "{tag}"\n'


@pytest.mark.parametrize(
    ("make", "kind"),
    [(os.mkfifo, "a FIFO"), (lambda p: os.symlink("/dev/zero", p), "a character device")],
    ids=["fifo", "dev-zero"],
)
def test_a_fifo_or_a_device_is_refused_at_once(tmp_path: Path, make: object, kind: str) -> None:
    path = tmp_path / "values.yaml"
    make(path)  # type: ignore[operator]
    started = time.monotonic()
    result = run("set", str(path), "image.tag", "v2", timeout=30)
    assert time.monotonic() - started < 15  # neither blocked on the FIFO nor read /dev/zero forever
    assert (result.returncode, result.stdout) == (2, "")
    assert result.stderr == f"updater: error: {path}: is {kind}, not a regular file: give a YAML file\n"


def test_dev_zero_named_directly_is_refused(tmp_path: Path) -> None:
    result = run("set", "/dev/zero", "image.tag", "v2", timeout=30)
    assert (result.returncode, result.stderr) == (
        2,
        "updater: error: /dev/zero: is a character device, not a regular file: give a YAML file\n",
    )


def test_a_file_over_the_size_limit_is_refused_naming_the_limit(tmp_path: Path) -> None:
    path = tmp_path / "values.yaml"
    head = b"image:\n  tag: v1\n"
    path.write_bytes(head + b"# padding\n" * ((1024 * 1024 - len(head)) // 10 + 1))
    before = path.read_bytes()
    result = run("set", str(path), "image.tag", "v2", timeout=30)
    assert (result.returncode, result.stdout) == (2, "")
    assert result.stderr == (
        f"updater: error: {path}: file too large (1.0 MiB): values and config files are limited to 1 MiB\n"
    )
    assert path.read_bytes() == before


@pytest.mark.slow
def test_thirty_concurrent_sets_on_one_file_lose_no_edit(tmp_path: Path) -> None:
    path = tmp_path / "values.yaml"
    count = 30
    path.write_text("".join(f"k{i}:\n  tag: v0\n" for i in range(count)))
    procs = [
        subprocess.Popen(
            [*UPDATER, "set", str(path), f"k{i}.tag", f"v{i}-new"],
            cwd=ROOT,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for i in range(count)
    ]
    results = [(p.wait(timeout=180), p.stderr.read() if p.stderr else "") for p in procs]
    for proc in procs:
        for stream in (proc.stdout, proc.stderr):
            if stream:
                stream.close()
    assert all(code == 0 for code, _ in results), results
    assert path.read_text() == "".join(f"k{i}:\n  tag: v{i}-new\n" for i in range(count))
    assert sorted(os.listdir(tmp_path)) == ["values.yaml"]


def _untracked_or_changed(repo: Path) -> list[str]:
    return git("status", "--porcelain", "--untracked-files=all", cwd=repo).splitlines()


@pytest.mark.slow
def test_kill_9_during_writes_leaves_nothing_git_add_could_commit(tmp_path: Path) -> None:
    """Each run is killed the moment a temp file appears (mid-write) or at a random time."""
    repo = tmp_path / "repo"
    repo.mkdir()
    git("init", "-q", cwd=repo)
    values = repo / "values.yaml"
    body = "".join(f"app{i}:\n  image: {{repository: r/app{i}, tag: v1}}\n" for i in range(3000))
    values.write_text("image:\n  tag: v0\n" + body)
    git("add", "-A", cwd=repo)
    git("-c", "user.name=t", "-c", "user.email=t@t", "commit", "-q", "-m", "init", cwd=repo)
    watched = [repo, repo / ".git"]
    rng = random.Random(10)
    mid_write = 0
    for run_index in range(16):
        tag = f"v{run_index + 1}"
        proc = subprocess.Popen([*UPDATER, "set", str(values), "image.tag", tag], cwd=ROOT)
        deadline = time.monotonic() + (rng.uniform(0.2, 1.5) if run_index % 2 else 30)
        while proc.poll() is None and time.monotonic() < deadline:
            if any("tmp" in name for d in watched for name in os.listdir(d)):
                mid_write += 1
                break
        proc.kill()
        proc.wait()
        assert values.read_text().startswith(("image:\n  tag: v", "image:\n  tag: v"))
        assert values.read_text().endswith(body)
        assert _untracked_or_changed(repo) in ([], [" M values.yaml"]), run_index
    assert mid_write >= 4  # most runs really were killed in the middle of a write
    # The next run removes the temp files the killed ones left in .git.
    assert run("set", str(values), "image.tag", "v99").returncode == 0
    assert [n for n in os.listdir(repo / ".git") if "updater-tmp" in n] == []


def test_a_directory_it_may_not_write_is_a_clean_exit_2(tmp_path: Path) -> None:
    directory = tmp_path / "ro"
    directory.mkdir()
    values = directory / "values.yaml"
    values.write_text("image:\n  tag: v1\n")
    directory.chmod(0o555)
    # root ignores permissions: drop the capabilities that let it, as a CI job's user would not have.
    prefix = (
        ["setpriv", "--bounding-set", "-dac_override,-dac_read_search,-fowner"] if os.geteuid() == 0 else []
    )
    if prefix and shutil.which("setpriv") is None:
        pytest.fail("setpriv (util-linux) is needed to run this test as root")
    try:
        result = subprocess.run(
            [*prefix, *UPDATER, "set", str(values), "image.tag", "v2"],
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=60,
        )
    finally:
        directory.chmod(0o755)
    assert (result.returncode, result.stdout) == (2, "")
    assert result.stderr == (
        f"updater: error: {values}: cannot write: Permission denied; "
        f"check that you may write to {directory}\n"
    )
    assert values.read_text() == "image:\n  tag: v1\n"


def _files_repo(tmp: Path, values: str = "k8s/values.yaml") -> Path:
    """A repository for `scm.provider: files` with one app whose tag lives in `values`."""
    registry = tmp / "registry" / "a"
    build_layout(registry, [LayoutImage(tags=["v1-4f9e2d1"], created=utc(2024, 1, 1))])
    repo = tmp / "repo"
    (repo / "k8s").mkdir(parents=True)
    (repo / ".updater.yaml").write_text(
        f"""version: 1
scm: {{provider: files}}
environments:
  staging: {{tag: "v1-{{sha:7}}"}}
apps:
  a: {{image: "oci:{registry}", values: {values}, key: image.tag}}
"""
    )
    return repo


def test_bump_refuses_a_fifo_values_file_without_blocking(tmp_path: Path) -> None:
    repo = _files_repo(tmp_path)
    os.mkfifo(repo / "k8s" / "values.yaml")
    result = run("bump", "--env", "staging", "--sha", "4f9e2d1" + "0" * 33, cwd=repo, timeout=30)
    assert (result.returncode, result.stdout) == (2, "")
    assert result.stderr.endswith("k8s/values.yaml: is a FIFO, not a regular file: give a YAML file\n")


def test_bump_refuses_a_values_file_over_the_limit(tmp_path: Path) -> None:
    repo = _files_repo(tmp_path)
    values = repo / "k8s" / "values.yaml"
    values.write_bytes(b"image:\n  tag: v0\n" + b"#" * (1024 * 1024))
    result = run("bump", "--env", "staging", "--sha", "4f9e2d1" + "0" * 33, cwd=repo, timeout=30)
    assert (result.returncode, result.stdout) == (2, "")
    assert result.stderr.endswith(
        "k8s/values.yaml: file too large (1.0 MiB): values and config files are limited to 1 MiB\n"
    )


@pytest.mark.parametrize("style", ["flow", "block"])
def test_a_values_file_nested_too_deep_is_refused_naming_the_line(tmp_path: Path, style: str) -> None:
    path = tmp_path / "values.yaml"
    if style == "flow":
        nested = "x: " + "[" * 5000 + "]" * 5000 + "\n"
        line = 3
    else:
        nested = "x:\n" + "".join("  " * depth + "a:\n" for depth in range(1, 400)) + "  " * 400 + "b: 1\n"
        line = 103
    path.write_text("image:\n  tag: v1\n" + nested)
    result = run("set", str(path), "image.tag", "v2", timeout=60)
    assert (result.returncode, result.stdout) == (2, "")
    assert result.stderr == (
        f"updater: error: {path}:{line}: nested more than 100 levels deep; "
        "values files this deep are not supported\n"
    )
    # 100 levels are fine.
    path.write_text("image:\n  tag: v1\nx: " + "[" * 99 + "]" * 99 + "\n")
    assert run("set", str(path), "image.tag", "v2").returncode == 0


def test_status_and_bump_escape_control_characters_from_values_files(tmp_path: Path) -> None:
    repo = _files_repo(tmp_path)
    (repo / "k8s" / "values.yaml").write_text('image:\n  tag: "v0\\n::error::forged\\r\\u001b[2J"\n')
    status = run("status", cwd=repo, timeout=60)
    assert status.returncode == 0, status.stderr
    assert "forged\\r\\x1b[2J" in status.stdout
    assert not any(line.startswith("::") for line in status.stdout.splitlines())
    assert "\r" not in status.stdout and "\x1b" not in status.stdout
    # bump refuses the value (not a tag): the refusal quotes it escaped, on one line.
    bump = run("bump", "--env", "staging", "--sha", "4f9e2d1" + "0" * 33, cwd=repo, timeout=60)
    assert (bump.returncode, bump.stdout) == (2, ""), bump.stderr
    (line,) = bump.stderr.splitlines()
    assert 'holds "v0\\n::error::forged\\r\\x1b[2J", which is not a tag' in line
    assert "\r" not in bump.stderr and "\x1b" not in bump.stderr


def test_a_fifo_as_github_app_key_is_refused_without_blocking(tmp_path: Path) -> None:
    repo = _files_repo(tmp_path)
    fifo = tmp_path / "key.pem"
    os.mkfifo(fifo)
    result = run("status", "--app-id", "1", "--app-key", str(fifo), cwd=repo, timeout=30)
    assert (result.returncode, result.stdout) == (2, "")
    assert f"{fifo}: cannot read the private key (is a FIFO, not a regular file)" in result.stderr
