"""Branch-shaped tags (`<branch>-<YYYYmmddHHMM>`, no commit SHA in them) through bump and status.

One line of config says "the newest build of this branch": `tag: "{branch}-*"`; the branch comes
from --branch, else CIRCLE_BRANCH / GITHUB_REF_NAME. The images live in an OCI layout directory.
"""

from __future__ import annotations

import json
from pathlib import Path

from testing.cli import run
from testing.gitrepo import git, make_remote
from testing.oci_layout import LayoutImage, build_layout, utc

TAGS = {
    "master-202401151230": utc(2024, 1, 15, 12, 30),
    "develop-202401200900": utc(2024, 1, 20, 9, 0),
    "master-202402011200": utc(2024, 2, 1, 12, 0),
    "feature-x-202402020800": utc(2024, 2, 2, 8, 0),
}
VALUES = "image:\n  repository: haoict/send2ereader\n  tag: master-202401151230  # deployed\n"
CI = {"CIRCLE_BRANCH": "", "GITHUB_REF_NAME": "", "GITHUB_SHA": "", "CIRCLE_SHA1": ""}


def _gitops(tmp: Path) -> Path:
    layout = tmp / "images"
    build_layout(layout, [LayoutImage([tag], created) for tag, created in TAGS.items()])
    config = (
        "version: 1\n"
        "scm: {provider: git}\n"
        "environments:\n"
        '  production: {branch: main, mode: commit, tag: "{branch}-*"}\n'
        "apps:\n"
        "  send2ereader:\n"
        f'    image: "oci:{layout}"\n'
        "    values: {production: chart/values.yaml}\n"
        "    key: image.tag\n"
    )
    remote = make_remote(tmp / "repo", {".updater.yaml": config, "chart/values.yaml": VALUES})
    return remote.work


def _values(work: Path) -> str:
    git("pull", "-q", cwd=work)
    return (work / "chart" / "values.yaml").read_text()


def test_bump_writes_the_newest_build_of_the_branch_given(tmp_path: Path) -> None:
    work = _gitops(tmp_path)
    proc = run("bump", "--env", "production", "--branch", "master", "--json", cwd=work, env=CI)
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["apps"][0]["new"] == "master-202402011200"
    assert _values(work) == VALUES.replace("master-202401151230", "master-202402011200")


def test_bump_takes_the_branch_from_circleci(tmp_path: Path) -> None:
    work = _gitops(tmp_path)
    proc = run("bump", "--env", "production", "--json", cwd=work, env={**CI, "CIRCLE_BRANCH": "develop"})
    assert proc.returncode == 0, proc.stderr
    assert _values(work) == VALUES.replace("master-202401151230", "develop-202401200900")


def test_bump_without_a_branch_says_how_to_give_one(tmp_path: Path) -> None:
    work = _gitops(tmp_path)
    proc = run("bump", "--env", "production", cwd=work, env=CI)
    assert proc.returncode == 2
    assert "needs {branch}" in proc.stderr and len(proc.stderr.strip().splitlines()) == 1


def test_status_shows_the_row_for_a_template_that_starts_with_an_open_field(tmp_path: Path) -> None:
    work = _gitops(tmp_path)
    proc = run("status", "--json", cwd=work, env=CI)
    assert proc.returncode == 0, proc.stderr
    (row,) = json.loads(proc.stdout)["rows"]
    # No branch known: the template's shape `*-*` is the newest build of any branch.
    assert (row["tag"], row["newest"], row["error"]) == (
        "master-202401151230",
        "feature-x-202402020800",
        None,
    )
    proc = run("status", "--branch", "master", "--json", cwd=work, env=CI)
    assert proc.returncode == 0, proc.stderr
    (row,) = json.loads(proc.stdout)["rows"]
    assert (row["newest"], row["behind"]) == ("master-202402011200", True)
    table = run("status", cwd=work, env={**CI, "CIRCLE_BRANCH": "master"})
    assert table.returncode == 0, table.stderr
    assert "master-202402011200" in table.stdout.splitlines()[1]
