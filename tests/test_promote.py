"""`updater promote` through the CLI: tags copied from git, checked in the target image's registry."""

from __future__ import annotations

import json
from pathlib import Path

from testing.cli import run
from testing.gitrepo import SHA, TAGS, git, two_env_gitops


def test_promote_copies_tags_and_target_digest_in_one_commit(tmp_path: Path) -> None:
    ops = two_env_gitops(tmp_path, prod_tags=TAGS)
    work = ops.remote.work
    assert run("bump", "--env", "staging", "--sha", SHA, cwd=work).returncode == 0
    result = run("promote", "--from", "staging", "--to", "production", "--json", cwd=work)
    assert (result.returncode, result.stderr) == (0, "")
    report = json.loads(result.stdout)
    assert report["command"] == "promote" and report["env"] == "production" and report["changed"]
    assert [(a["app"], a["old"], a["new"]) for a in report["apps"]] == [
        ("api", TAGS[0], TAGS[2]),
        ("web", TAGS[0], TAGS[2]),
    ]
    web_digest = ops.digests["web-prod"][TAGS[2]]
    assert report["apps"][1]["digest"] == web_digest
    assert (
        ops.values("api", "production") == f"image:\n  repository: example/api\n  tag: {TAGS[2]}\n".encode()
    )
    assert ops.values("web", "production") == (
        f"web:\n  tag: '{TAGS[2]}'\n  digest: '{web_digest}'\n  replicas: 2\n".encode()
    )
    assert ops.remote.count() == 3
    assert git("log", "-1", "--format=%s", cwd=ops.remote.bare).strip() == (
        f"promote production: api {TAGS[2]}, web {TAGS[2]}"
    )
    again = run("promote", "--to", "production", cwd=work)  # --from defaults to promote-from
    assert (again.returncode, again.stdout.splitlines()[-1]) == (0, "production: already up to date")
    assert ops.remote.count() == 3


def test_promote_refuses_tag_missing_from_target_image(tmp_path: Path) -> None:
    ops = two_env_gitops(tmp_path)  # production's web image lacks the newest tag
    work = ops.remote.work
    assert run("bump", "--env", "staging", "--sha", SHA, cwd=work).returncode == 0
    head = ops.remote.head()
    result = run("promote", "--from", "staging", "--to", "production", cwd=work)
    assert result.returncode == 2 and result.stdout == ""
    assert result.stderr == (
        "updater: error: promote production: 1 image lacks the tag: "
        f"oci:{ops.registry / 'web-prod'}:{TAGS[2]} (web): "
        "push it first, or leave these apps out with --app\n"
    )
    assert ops.remote.head() == head
    only_api = run("promote", "--from", "staging", "--to", "production", "--app", "api", cwd=work)
    assert only_api.returncode == 0
    assert (
        ops.values("web", "production") == f"web:\n  tag: '{TAGS[0]}'\n  digest: ''\n  replicas: 2\n".encode()
    )
    assert TAGS[2].encode() in ops.values("api", "production")


def test_promote_to_same_or_unknown_environment_is_usage_error(tmp_path: Path) -> None:
    ops = two_env_gitops(tmp_path)
    same = run("promote", "--from", "staging", "--to", "staging", cwd=ops.remote.work)
    assert (same.returncode, same.stderr) == (
        2,
        "updater: error: cannot promote 'staging' to itself: give two different environments\n",
    )
    unknown = run("promote", "--to", "prod", cwd=ops.remote.work)
    assert (unknown.returncode, unknown.stderr) == (
        2,
        "updater: error: unknown environment 'prod': did you mean 'production'?\n",
    )
