"""When `git remote get-url origin` fails, the error carries git's own reason (one line, exit 2)."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

from testing.cli import run

CONFIG = (
    "version: 1\nenvironments: {staging: {branch: main}}\n"
    "apps: {a: {image: r/a, values: a.yaml, key: image.tag}}\n"
)
ISOLATED = {"GIT_CONFIG_GLOBAL": os.devnull, "GIT_CONFIG_NOSYSTEM": "1"}  # no safe.directory = *


def test_a_repo_owned_by_another_uid_names_gits_dubious_ownership(tmp_path: Path) -> None:
    repo = tmp_path / "gitops"
    subprocess.run(["git", "init", "-q", str(repo)], check=True)
    subprocess.run(["git", "remote", "add", "origin", "/srv/gitops.git"], cwd=repo, check=True)
    (repo / ".updater.yaml").write_text(CONFIG)
    subprocess.run(["chown", "-R", "12345", str(repo)], check=True)
    result = run("status", cwd=repo, env=ISOLATED)
    assert (result.returncode, result.stdout) == (2, "")
    assert result.stderr == (
        f"updater: error: {repo / '.updater.yaml'}: scm.provider git needs a remote: set scm.url, or run in "
        "a clone with an 'origin' remote "
        f"(git: fatal: detected dubious ownership in repository at '{repo}'); "
        f"if you trust it: git config --global --add safe.directory {repo}\n"
    )


def test_a_clone_without_origin_says_so(tmp_path: Path) -> None:
    subprocess.run(["git", "init", "-q", str(tmp_path)], check=True)
    (tmp_path / ".updater.yaml").write_text(CONFIG)
    result = run("status", cwd=tmp_path, env=ISOLATED)
    assert result.returncode == 2
    assert result.stderr.endswith("'origin' remote (git: error: No such remote 'origin')\n")
