"""`promote` carries the source commit, not the tag string (issue 11 point 1), through the CLI.

Registries are OCI layout directories (real blobs and index.json, no server) so each case is fast; the
end-to-end run against Debian's registry is tests/test_monorepo_e2e.py.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

from testing.cli import run
from testing.gitrepo import Remote, git, make_remote
from testing.oci_layout import LayoutImage, build_layout, utc

SHA = "1a2b3c4d5e6f708192a3b4c5d6e7f8091a2b3c4d"
STAGE_OLD, STAGE_NEW = "stage-0f0f0f0f-1700000000", "stage-1a2b3c4d-1700003600"
PROD_OLD, PROD_NEW, PROD_LATER = (
    "prod-0f0f0f0f-1700000100",
    "prod-1a2b3c4d-1700003900",
    "prod-9e9e9e9e-1700007200",
)
VALUES = "k8s/api/values-{env}.yaml"


def _values(tag: str) -> str:
    return f"images:\n  repositories:\n    api: eu.gcr.io/p/api\n  tag: {tag}\n"


def _repo(
    tmp: Path, *, production_tag: str, staging_tag: str = '"stage-{sha:8}-*"', stage: str = STAGE_NEW
) -> tuple[Remote, dict[str, dict[str, str]]]:
    digests = {
        "stage": build_layout(
            tmp / "reg" / "stage",
            [LayoutImage([STAGE_OLD], utc(2023, 11, 14)), LayoutImage([STAGE_NEW], utc(2023, 11, 15))],
        ),
        "prod": build_layout(
            tmp / "reg" / "prod",
            [
                LayoutImage([PROD_OLD], utc(2023, 11, 14)),
                LayoutImage([PROD_NEW], utc(2023, 11, 15)),
                LayoutImage([PROD_LATER], utc(2023, 11, 16)),  # a newer build of another commit
            ],
        ),
    }
    config = f"""version: 1
scm: {{provider: git}}
environments:
  staging: {{branch: main, tag: {staging_tag}}}
  production: {{branch: main, promote-from: staging, tag: {production_tag}}}
apps:
  api:
    image: {{staging: "oci:{tmp / "reg" / "stage"}", production: "oci:{tmp / "reg" / "prod"}"}}
    values: {{staging: k8s/api/values-staging.yaml, production: k8s/api/values-production.yaml}}
    key: images.tag
"""
    files = {
        ".updater.yaml": config,
        VALUES.format(env="staging"): _values(stage),
        VALUES.format(env="production"): _values(PROD_OLD),
    }
    return make_remote(tmp / "git", files), digests


def test_the_target_family_tag_of_the_same_commit_is_written_with_its_digest(tmp_path: Path) -> None:
    remote, digests = _repo(tmp_path, production_tag='"prod-{sha:8}-*"')
    done = run("promote", "--to", "production", "--json", cwd=remote.work)
    assert (done.returncode, done.stderr) == (0, "")
    [app] = json.loads(done.stdout)["apps"]
    assert (app["old"], app["new"], app["digest"]) == (PROD_OLD, PROD_NEW, digests["prod"][PROD_NEW])
    assert (app["source_commit"], app["promoted_from"]) == ("1a2b3c4d", {"env": "staging", "tag": STAGE_NEW})
    assert remote.show(VALUES.format(env="production")) == _values(PROD_NEW).encode()
    message = git("log", "-1", "--format=%B", "main", cwd=remote.bare)
    assert message.startswith(f"promote production: api {PROD_NEW}\n")
    assert f"  source commit: 1a2b3c4d (staging {STAGE_NEW})\n" in message


def test_the_summary_says_which_commit_both_tags_were_built_from(tmp_path: Path) -> None:
    remote, _ = _repo(tmp_path, production_tag='"prod-{sha:8}-*"')
    done = run("promote", "--to", "production", cwd=remote.work)
    assert (done.returncode, done.stderr) == (0, "")
    assert (
        f"api (production): {PROD_OLD} -> {PROD_NEW} "
        f"(built from the same commit 1a2b3c4d as staging's {STAGE_NEW})\n" in done.stdout
    )


def test_a_commit_not_built_for_the_target_yet_exits_2_and_writes_nothing(tmp_path: Path) -> None:
    remote, _ = _repo(
        tmp_path, production_tag='"prod-{sha:8}-*"', stage=STAGE_OLD.replace("0f0f0f0f", "abcdef12")
    )
    head = remote.head()
    done = run("promote", "--to", "production", cwd=remote.work)
    assert done.returncode == 2
    assert "prod-abcdef12-*" in done.stderr and "built from commit abcdef12" in done.stderr
    assert remote.head() == head


def test_the_policies_agree_the_tag_is_copied(tmp_path: Path) -> None:
    remote, _ = _repo(tmp_path, production_tag='"stage-{sha:8}-*"')
    pushed = build_layout(tmp_path / "reg" / "prod", [LayoutImage([STAGE_NEW], utc(2023, 11, 15, 6))])
    done = run("promote", "--to", "production", "--json", cwd=remote.work)
    assert (done.returncode, done.stderr) == (0, "")
    [app] = json.loads(done.stdout)["apps"]
    assert (app["new"], app["digest"], app["source_commit"]) == (STAGE_NEW, pushed[STAGE_NEW], "1a2b3c4d")


def test_a_tag_outside_the_target_policy_is_refused_unless_forced(tmp_path: Path) -> None:
    # staging's policy does not spell the commit: nothing tells which prod- build matches stage-…
    remote, _ = _repo(
        tmp_path, staging_tag="{strategy: newest, include: '^stage-'}", production_tag='"prod-{sha:8}-*"'
    )
    build_layout(tmp_path / "reg" / "prod", [LayoutImage([STAGE_NEW], utc(2023, 11, 15, 6))])
    head = remote.head()
    refused = run("promote", "--to", "production", cwd=remote.work)
    assert refused.returncode == 2
    assert refused.stderr == (
        f"updater: error: app 'api': {STAGE_NEW} does not satisfy production's tag policy "
        "prod-{sha:8}-* (staging's policy does not spell the commit, nor does the commit that wrote it "
        "name one, so the production build of the same commit cannot be found): pass --force to write it "
        "anyway\n"
    )
    assert remote.head() == head
    forced = run("promote", "--to", "production", "--force", "--json", cwd=remote.work)
    assert (forced.returncode, forced.stderr) == (0, "")
    assert json.loads(forced.stdout)["apps"][0]["new"] == STAGE_NEW
    assert remote.show(VALUES.format(env="production")) == _values(STAGE_NEW).encode()


def test_a_target_template_needing_the_whole_commit_names_both_templates(tmp_path: Path) -> None:
    remote, _ = _repo(tmp_path, production_tag='"prod-{sha}"')
    done = run("promote", "--to", "production", cwd=remote.work)
    assert done.returncode == 2
    assert done.stderr == (
        f"updater: error: app 'api': staging's {STAGE_NEW} gives 8 hex digits of its commit "
        "(stage-{sha:8}-*), but production's template prod-{sha} needs 40: "
        "make the templates spell the same length, or pass --force to copy the tag\n"
    )


def test_wait_polls_until_the_target_build_of_the_commit_appears(tmp_path: Path) -> None:
    remote, _ = _repo(
        tmp_path, production_tag='"prod-{sha:8}-*"', stage=STAGE_OLD.replace("0f0f0f0f", "abcdef12")
    )
    late = "prod-abcdef12-1700009999"
    command = [sys.executable, "-m", "updater", "promote", "--to", "production", "--wait", "60s", "--json"]
    with subprocess.Popen(
        command, cwd=remote.work, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    ) as proc:
        time.sleep(1.5)  # the production build lands while promote waits
        pushed = build_layout(tmp_path / "reg" / "prod", [LayoutImage([late], utc(2023, 11, 17))])
        out, err = proc.communicate(timeout=90)
    assert (proc.returncode, err) == (0, "")
    [app] = json.loads(out)["apps"]
    assert (app["new"], app["digest"]) == (late, pushed[late])


def test_the_source_commit_line_bump_wrote_names_the_build_when_the_tag_does_not(tmp_path: Path) -> None:
    # staging picks the newest build (its tags do not spell the commit); bump records the commit.
    remote, digests = _repo(
        tmp_path,
        staging_tag="{strategy: newest, include: '^stage-'}",
        production_tag='"prod-{sha:8}-*"',
        stage=STAGE_OLD,
    )
    bumped = run("bump", "--env", "staging", "--sha", SHA, cwd=remote.work)
    assert bumped.returncode == 0, bumped.stderr
    assert f"\nSource commit: {SHA}\n" in git("log", "-1", "--format=%B", "main", cwd=remote.bare)
    done = run("promote", "--to", "production", "--json", cwd=remote.work)
    assert (done.returncode, done.stderr) == (0, "")
    [app] = json.loads(done.stdout)["apps"]
    assert (app["new"], app["digest"], app["source_commit"]) == (PROD_NEW, digests["prod"][PROD_NEW], SHA)


def test_the_recorded_commit_gives_a_target_template_the_whole_commit(tmp_path: Path) -> None:
    remote, _ = _repo(tmp_path, production_tag='"prod-{sha}"', stage=STAGE_OLD)
    pushed = build_layout(tmp_path / "reg" / "prod", [LayoutImage([f"prod-{SHA}"], utc(2023, 11, 15, 6))])
    assert run("bump", "--env", "staging", "--sha", SHA, cwd=remote.work).returncode == 0
    done = run("promote", "--to", "production", "--json", cwd=remote.work)
    assert (done.returncode, done.stderr) == (0, "")
    [app] = json.loads(done.stdout)["apps"]
    assert (app["new"], app["digest"]) == (f"prod-{SHA}", pushed[f"prod-{SHA}"])
