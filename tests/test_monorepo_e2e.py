"""Issue 11's monorepo user end to end, through the CLI as subprocesses: real git, Debian's registry.

The repository is AirQo's layout built from the real values files of the shared corpus (read in place;
a written fixture of the same shape otherwise, see testing/airqo.py). Staging builds are tagged
`stage-<sha8>-<epoch>` in `airqo-stage-*` repositories, production builds `prod-<sha8>-<epoch>` in
others: the same commit has a different tag (and epoch) in each family.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from testing import airqo
from testing.cli import run
from testing.gitrepo import Remote, git
from testing.registry import RunningRegistry, start_registry

STAGE = "k8s/analytics/values-stage.yaml"
PROD = "k8s/analytics/values-prod.yaml"
WORKFLOWS = "k8s/workflows/values-stage.yaml"
PR_BRANCH = "updater/production/analytics"


@pytest.fixture(scope="module")
def registry(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[RunningRegistry, airqo.Builds]]:
    with start_registry(tmp_path_factory.mktemp("airqo-registry")) as running:
        yield running, airqo.push_builds(running.host)


def _line_of(data: bytes, needle: str) -> int:
    """Return the 1-based line of the first line of `data` that contains `needle`."""
    for number, line in enumerate(data.decode().splitlines(), 1):
        if needle in line:
            return number
    raise AssertionError(f"{needle!r} not in the file")


def test_bump_staging_then_promote_production_by_source_commit(
    tmp_path: Path, registry: tuple[RunningRegistry, airqo.Builds]
) -> None:
    running, builds = registry
    remote = airqo.gitops(tmp_path / "git", running.host)
    work = remote.work
    originals = {path: remote.show(path) for path in (STAGE, PROD, WORKFLOWS)}

    checked = run("config", "validate", cwd=work)
    assert (checked.returncode, checked.stderr) == (0, ""), checked.stdout
    assert checked.stdout == (
        f"{work / '.updater.yaml'}: ok (2 apps, 2 environments; 3 targets hold a tag on their branches)\n"
    )

    # bump staging: ONE commit, only the tag bytes of both apps' files; the shared key's three images
    # each have the tag, and each digest is reported.
    before = remote.count()
    bumped = run("bump", "--env", "staging", "--sha", airqo.C1, "--json", cwd=work)
    assert (bumped.returncode, bumped.stderr) == (0, "")
    assert remote.count() == before + 1
    assert remote.show(STAGE) == originals[STAGE].replace(
        airqo.STAGE_ANALYTICS.encode(), airqo.STAGE_C1.encode()
    )
    assert remote.show(WORKFLOWS) == originals[WORKFLOWS].replace(
        airqo.STAGE_WORKFLOWS.encode(), airqo.WORKFLOWS_C1.encode()
    )
    workflows = json.loads(bumped.stdout)["apps"][1]
    assert workflows["new"] == airqo.WORKFLOWS_C1
    assert workflows["images"] == [
        {"image": airqo.image(running.host, name), "digest": builds.of(name, airqo.WORKFLOWS_C1)}
        for name in airqo.WORKFLOWS_IMAGES
    ]

    # promote production: the prod- tag built from the same commit (not the newer decoy build, not
    # staging's string), resolved in production's own repository; a pull-request branch, main untouched.
    preview = run("promote", "--to", "production", "--dry-run", "--json", cwd=work)
    assert (preview.returncode, preview.stderr) == (0, "")
    [app] = json.loads(preview.stdout)["apps"]
    assert (app["old"], app["new"], app["digest"]) == (
        airqo.PROD_ANALYTICS,
        airqo.PROD_C1,
        builds.of("airqo-analytics-api", airqo.PROD_C1),
    )
    assert app["source_commit"] == airqo.C1[:8]
    assert app["promoted_from"] == {"env": "staging", "tag": airqo.STAGE_C1}

    head = remote.head()
    promoted = run("promote", "--to", "production", cwd=work)
    assert (promoted.returncode, promoted.stderr) == (0, ""), promoted.stdout
    assert (
        f"analytics (production): {airqo.PROD_ANALYTICS} -> {airqo.PROD_C1} "
        f"(built from the same commit {airqo.C1[:8]} as staging's {airqo.STAGE_C1})\n"
    ) in promoted.stdout
    assert remote.head() == head and remote.show(PROD) == originals[PROD]
    assert remote.show(PROD, branch=PR_BRANCH) == originals[PROD].replace(
        airqo.PROD_ANALYTICS.encode(), airqo.PROD_C1.encode()
    )
    message = git("log", "-1", "--format=%B", f"refs/heads/{PR_BRANCH}", cwd=remote.bare)
    assert f"source commit: {airqo.C1[:8]} (staging {airqo.STAGE_C1})" in message

    # rollback staging: analytics goes back to the tag it had, in one commit that also holds it.
    before = remote.count()
    rolled = run("rollback", "--env", "staging", "--app", "analytics", cwd=work)
    assert (rolled.returncode, rolled.stderr) == (0, ""), rolled.stdout
    assert remote.count() == before + 1
    assert remote.show(STAGE) == originals[STAGE]
    assert b"analytics" in remote.show(".updater/holds.yaml")
    assert "analytics (staging) is held at " + airqo.STAGE_ANALYTICS in rolled.stdout

    # the next automatic bump skips the held app: a note, exit 0, nothing written.
    skipped = run("bump", "--env", "staging", "--app", "analytics", "--sha", airqo.C2, cwd=work)
    assert (skipped.returncode, skipped.stderr) == (0, ""), skipped.stdout
    assert "analytics (staging) skipped: held (rolled back from " + airqo.STAGE_C1 in skipped.stdout
    assert remote.count() == before + 1 and remote.show(STAGE) == originals[STAGE]
    table = run("status", "--env", "staging", cwd=work)
    assert "held (rolled back from " + airqo.STAGE_C1 in table.stdout

    # release lifts the hold (one commit); the next bump writes the new build.
    released = run("release", "--env", "staging", "--app", "analytics", cwd=work)
    assert (released.returncode, released.stderr) == (0, ""), released.stdout
    assert remote.count() == before + 2
    bumped = run("bump", "--env", "staging", "--app", "analytics", "--sha", airqo.C2, cwd=work)
    assert (bumped.returncode, bumped.stderr) == (0, ""), bumped.stdout
    assert remote.count() == before + 3
    assert remote.show(STAGE) == originals[STAGE].replace(
        airqo.STAGE_ANALYTICS.encode(), airqo.STAGE_C2.encode()
    )
    kinds = run("history", "--env", "staging", "--app", "analytics", "--json", cwd=work)
    assert kinds.returncode == 0, kinds.stderr
    # Newest first, in the order the commits landed even when they share a second (git's ancestry).
    latest = [e["kind"] for e in json.loads(kinds.stdout)["entries"]][:4]
    assert latest == ["bump", "release", "rollback", "bump"]


def test_a_shared_key_with_images_missing_the_tag_exits_2_naming_each_and_writes_nothing(
    tmp_path: Path, registry: tuple[RunningRegistry, airqo.Builds]
) -> None:
    running, _ = registry
    remote = airqo.gitops(tmp_path / "git", running.host)
    head = remote.head()
    done = run("bump", "--env", "staging", "--sha", airqo.C2, cwd=remote.work)
    assert done.returncode == 2, done.stderr
    [line] = done.stderr.splitlines()
    assert line.startswith("updater: error: ")
    for name in ("airqo-stage-workflows-xcom", "airqo-stage-redis"):
        assert f"{airqo.image(running.host, name)}:{airqo.WORKFLOWS_C2}" in line
    assert "2 images" in line
    # analytics resolved fine, yet nothing is written: the run is all or nothing.
    assert remote.head() == head


def test_a_key_at_the_repository_scalar_is_refused_with_the_key_that_holds_the_tag(
    tmp_path: Path, registry: tuple[RunningRegistry, airqo.Builds]
) -> None:
    running, _ = registry
    remote = airqo.gitops(tmp_path / "git", running.host)
    config = (remote.work / ".updater.yaml").read_text()
    wrong = config.replace(
        "    key: images.tag\n  workflows:", "    key: images.repositories.api\n  workflows:"
    )
    assert wrong != config
    (remote.work / "wrong.yaml").write_text(wrong)
    data = remote.show(STAGE)
    at, tag_line = _line_of(data, "    api: eu.gcr.io/"), _line_of(data, "  tag: ")
    head = remote.head()

    done = run(
        "bump",
        "--env",
        "staging",
        "--app",
        "analytics",
        "--sha",
        airqo.C1,
        "--config",
        "wrong.yaml",
        cwd=remote.work,
    )
    assert done.returncode == 2, done.stderr
    assert done.stderr == (
        f"updater: error: {STAGE}:{at}: app 'analytics' (staging): key images.repositories.api holds "
        f"\"eu.gcr.io/{airqo.PROJECT}/airqo-stage-analytics-api\", which is not a tag (it contains '/'): "
        f"did you mean key images.tag (line {tag_line})?\n"
    )
    assert remote.head() == head

    checked = run("config", "validate", "wrong.yaml", cwd=remote.work)
    assert checked.returncode == 2
    assert f"{STAGE}:{at}: app 'analytics' (staging): key images.repositories.api holds" in checked.stdout


def test_validate_opens_every_target_on_its_branch(
    tmp_path: Path, registry: tuple[RunningRegistry, airqo.Builds]
) -> None:
    running, _ = registry
    remote: Remote = airqo.gitops(tmp_path / "git", running.host)
    config = (remote.work / ".updater.yaml").read_text()
    wrong = config.replace(f"staging: {STAGE},", "staging: k8s/analytics/values-staging.yaml,").replace(
        "    key: images.tag\n", "    key: image.tag\n", 2
    )
    # the second replace hits both apps: analytics' production file and workflows' file lack image.tag
    (remote.work / "broken.yaml").write_text(wrong)

    checked = run("config", "validate", "broken.yaml", "--json", cwd=remote.work)
    assert checked.returncode == 2, checked.stderr
    report = json.loads(checked.stdout)
    assert report["ok"] is False
    problems = {(t["app"], t["env"], t["file"]): t["error"] for t in report["targets"] if not t["ok"]}
    assert set(problems) == {
        ("analytics", "staging", "k8s/analytics/values-staging.yaml"),
        ("analytics", "production", PROD),
        ("workflows", "staging", WORKFLOWS),
    }
    assert (
        "does not exist on branch main"
        in problems[("analytics", "staging", "k8s/analytics/values-staging.yaml")]
    )
    assert "did you mean images" in problems[("workflows", "staging", WORKFLOWS)]  # the close key
    # Every problem is reported, not the first one only.
    text = run("config", "validate", "broken.yaml", cwd=remote.work)
    assert text.returncode == 2
    assert "(and 2 more)" in text.stderr
    assert len(text.stdout.splitlines()) == 3  # one line per problem, each naming FILE:LINE
