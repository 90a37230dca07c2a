"""`updater status`: app x environment, tag in git against the newest matching tag in the registry."""

from __future__ import annotations

import json
from pathlib import Path

from testing.cli import run
from testing.gitrepo import SHA, TAGS, two_env_gitops


def test_status_table_and_json(tmp_path: Path) -> None:
    ops = two_env_gitops(tmp_path)
    work = ops.remote.work
    result = run("status", "--json", cwd=work)
    assert (result.returncode, result.stderr) == (0, "")
    rows = [
        (r["app"], r["env"], r["tag"], r["newest"], r["behind"]) for r in json.loads(result.stdout)["rows"]
    ]
    assert rows == [
        ("api", "staging", TAGS[0], TAGS[2], True),
        ("api", "production", TAGS[0], TAGS[2], True),
        ("web", "staging", TAGS[0], TAGS[2], True),
        ("web", "production", TAGS[0], TAGS[1], True),  # its own image only has TAGS[:2]
    ]
    assert run("bump", "--env", "staging", "--sha", SHA, cwd=work).returncode == 0
    table = run("status", "--env", "staging", cwd=work)
    assert table.returncode == 0
    assert table.stdout.splitlines() == [
        "APP  ENV      TAG IN GIT                NEWEST IN REGISTRY        STATE",
        f"api  staging  {TAGS[2]}  {TAGS[2]}  up to date",
        f"web  staging  {TAGS[2]}  {TAGS[2]}  up to date",
    ]


def test_status_reports_a_broken_cell_and_goes_on(tmp_path: Path) -> None:
    ops = two_env_gitops(tmp_path)
    ops.remote.commit({"k8s/web/values-production.yaml": "web: {}\n"}, "break web in production")
    result = run("status", "--json", cwd=ops.remote.work)
    assert result.returncode == 2  # every row printed, then exit 2: a values file needs fixing
    rows = {(r["app"], r["env"]): r for r in json.loads(result.stdout)["rows"]}
    assert rows[("api", "production")]["behind"] is True
    broken = rows[("web", "production")]
    assert broken["tag"] is None and broken["behind"] is None
    assert broken["error"].startswith(f"{ops.remote.work / '.updater.yaml'}:")
    assert "app 'web' (production)" in broken["error"]
