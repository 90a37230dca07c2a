"""Tag strategies, templates, semver ranges and downgrades, resolved against real OCI layouts."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from testing.cli import run
from testing.oci_layout import LayoutImage, build_layout, utc
from updater.domain.imageref import parse
from updater.domain.semver import parse_range, parse_version
from updater.infra import retry
from updater.infra.errors import InputError
from updater.registry.base import RegistryOptions
from updater.registry.layout import LayoutRegistry
from updater.resolve import (
    NoMatchingTag,
    Strategy,
    TemplateVars,
    commit_sha,
    describe,
    downgrade_reason,
    is_downgrade,
    render_template,
    resolve,
)

SHA = "1a2b3c4d5e6f7a8b9c0d1a2b3c4d5e6f7a8b9c0d"
VARS = TemplateVars(sha=SHA, app="docs", env="staging", branch="feature/New_UI", run="42")


@pytest.fixture
def layout(tmp_path: Path) -> LayoutRegistry:
    build_layout(
        tmp_path,
        [
            LayoutImage(["stage-docs-0000000", "v1.2.0", "build-9"], utc(2026, 1, 1)),
            LayoutImage(["stage-docs-1a2b3c4", "v1.10.0", "build-10", "latest"], utc(2026, 1, 3)),
            LayoutImage(["stage-1a2b3c4d-1767400000", "v2.0.0-rc.1", "build-11"], utc(2026, 1, 5)),
            LayoutImage(["stage-1a2b3c4d-1767300000"], utc(2026, 1, 4)),
            LayoutImage(["v1.11.0-beta", "nightly"], utc(2026, 1, 6)),
        ],
    )
    return LayoutRegistry(parse(f"oci:{tmp_path}"), RegistryOptions())


def test_render_template() -> None:
    assert render_template("stage-{app}-{sha:7}", VARS) == "stage-docs-1a2b3c4"
    assert render_template("{env}-{branch}-{run}-{sha}", VARS) == f"staging-feature-New_UI-42-{SHA}"
    assert render_template("stage-{sha:8}-*", VARS) == "stage-1a2b3c4d-*"
    with pytest.raises(InputError, match=r"unknown field \{commit\}; use \{sha\}, \{app\}"):
        render_template("x-{commit}", VARS)
    with pytest.raises(InputError, match=r"needs \{sha\}: pass --sha or run inside a git checkout"):
        render_template("x-{sha:7}", TemplateVars())
    with pytest.raises(InputError, match=r"only \{sha:N\} takes a length"):
        render_template("{app:2}", VARS)
    with pytest.raises(InputError, match="not a valid tag"):
        render_template("a/{app}", VARS)


def test_template_exact_is_one_read(layout: LayoutRegistry) -> None:
    res = resolve(layout, Strategy(template="stage-{app}-{sha:7}"), VARS)
    assert (res.tag, res.strategy, res.requests) == ("stage-docs-1a2b3c4", "template", 1)
    assert res.digest == layout.digest("stage-docs-1a2b3c4")


def test_template_missing_tag_is_an_input_error(layout: LayoutRegistry) -> None:
    with pytest.raises(NoMatchingTag) as info:
        resolve(layout, Strategy(template="stage-{app}-{sha:7}"), TemplateVars(sha="f" * 40, app="docs"))
    assert info.value.exit_code == 2
    assert info.value.message == (
        f"oci:{layout.root}:stage-docs-fffffff does not exist: push the image first, or pass --wait DURATION"
    )


def test_template_with_open_part_takes_the_newest_match(layout: LayoutRegistry) -> None:
    res = resolve(layout, Strategy(template="stage-{sha:8}-*"), VARS)
    assert res.tag == "stage-1a2b3c4d-1767400000"
    assert res.created == utc(2026, 1, 5)
    assert [c.tag for c in res.candidates if c.accepted] == [
        "stage-1a2b3c4d-1767300000",
        "stage-1a2b3c4d-1767400000",
    ]


def test_digest_resolves_a_moving_tag_to_its_immutable_sibling(layout: LayoutRegistry) -> None:
    res = resolve(layout, Strategy("digest", tag="latest", include=r"^stage-docs-"), VARS)
    assert res.tag == "stage-docs-1a2b3c4"
    assert res.digest == layout.digest("latest")
    lines = describe(res.candidates)
    assert "- v1.10.0: does not match include /^stage-docs-/" in lines
    assert "- stage-docs-0000000: different digest" in lines


def test_digest_of_an_immutable_tag_is_itself(layout: LayoutRegistry) -> None:
    res = resolve(layout, Strategy("digest", tag="stage-{app}-{sha:7}"), VARS)
    assert (res.tag, res.requests) == ("stage-docs-1a2b3c4", 1)


def test_digest_without_sibling(layout: LayoutRegistry) -> None:
    with pytest.raises(NoMatchingTag, match=r"no other tag of .* has the digest of 'nightly' \(sha256:"):
        resolve(layout, Strategy("digest", tag="nightly", exclude=(r"beta",)), VARS)


def test_newest_reads_each_digest_once(layout: LayoutRegistry) -> None:
    res = resolve(layout, Strategy("newest", include=r"^build-"), VARS)
    assert (res.tag, res.created) == ("build-11", utc(2026, 1, 5))
    # one index read for the listing, then manifest + config for each of the 3 distinct digests
    assert res.requests == 1 + 3 * 2


def test_newest_skips_moving_tags_and_excludes(layout: LayoutRegistry) -> None:
    res = resolve(layout, Strategy("newest", exclude=("beta",)), VARS)
    # Three tags share the newest build; the tie goes to the highest name.
    assert (res.tag, res.created) == ("v2.0.0-rc.1", utc(2026, 1, 5))
    reasons = {c.tag: c.reason for c in res.candidates}
    assert reasons["nightly"] == "a moving tag (give --include to allow it)"
    assert reasons["v1.11.0-beta"] == "matches exclude /beta/"


def test_semver(layout: LayoutRegistry) -> None:
    assert resolve(layout, Strategy("semver"), VARS).tag == "v1.10.0"
    assert resolve(layout, Strategy("semver", range="<1.10"), VARS).tag == "v1.2.0"
    assert resolve(layout, Strategy("semver", range=">=2.0.0-rc.0"), VARS).tag == "v2.0.0-rc.1"
    res = resolve(layout, Strategy("semver", range="^1"), VARS)
    reasons = {c.tag: c.reason for c in res.candidates}
    assert reasons["v1.11.0-beta"] == "a pre-release (name one in --range to allow them)"
    assert reasons["build-9"] == "not a semantic version"
    with pytest.raises(NoMatchingTag, match=r"passes the semver strategy \(range \^3\)"):
        resolve(layout, Strategy("semver", range="^3"), VARS)


def test_alphabetical_and_numerical_use_the_include_group(layout: LayoutRegistry) -> None:
    assert resolve(layout, Strategy("alphabetical", include=r"^build-(\d+)$"), VARS).tag == "build-9"
    assert resolve(layout, Strategy("numerical", include=r"^build-(\d+)$"), VARS).tag == "build-11"
    with pytest.raises(NoMatchingTag, match=r"passes the numerical strategy \(include /\^build-/\)"):
        resolve(layout, Strategy("numerical", include=r"^build-"), VARS)


def test_bad_strategies_fail_before_any_read(layout: LayoutRegistry) -> None:
    cases = [
        (Strategy("fancy"), "unknown tag strategy 'fancy'"),
        (Strategy("template"), "needs a template"),
        (Strategy("digest"), "needs the tag CI pushed"),
        (Strategy("newest", include="(["), "--include '([' is not a valid regular expression"),
        (Strategy("semver", range=">=one"), "'one' is not a version"),
    ]
    for strategy, message in cases:
        with pytest.raises(InputError, match=message.replace("(", r"\(").replace("[", r"\[")):
            resolve(layout, strategy, VARS)
    assert layout.requests == 0


def test_wait_polls_until_the_tag_appears(layout: LayoutRegistry, monkeypatch: pytest.MonkeyPatch) -> None:
    sleeps: list[float] = []

    def push_while_sleeping(seconds: float) -> None:  # CI finishes its push during the first wait
        sleeps.append(seconds)
        build_layout(layout.root, [LayoutImage(["stage-docs-abcdef0"], utc(2026, 2, 1))])

    monkeypatch.setattr(retry, "sleep", push_while_sleeping)
    messages: list[str] = []
    res = resolve(
        layout,
        Strategy(template="stage-{app}-{sha:7}", wait=30),
        TemplateVars(sha="abcdef0123", app="docs"),
        progress=messages.append,
    )
    assert res.tag == "stage-docs-abcdef0"
    assert len(sleeps) == 1
    assert messages and messages[0] == (
        f"waiting (30s left): oci:{layout.root}:stage-docs-abcdef0 does not exist: push the image first"
    )


def test_wait_gives_up_with_the_last_reason(layout: LayoutRegistry, monkeypatch: pytest.MonkeyPatch) -> None:
    clock = [0.0]
    monkeypatch.setattr(retry, "sleep", lambda s: clock.__setitem__(0, clock[0] + s))
    monkeypatch.setattr("tenacity.time.monotonic", lambda: clock[0])
    with pytest.raises(NoMatchingTag, match=r"does not exist: .* \(waited 20s\)$"):
        resolve(layout, Strategy(template="nope-{sha:7}", wait=20), VARS)


def test_semver_ranges() -> None:
    def ok(r: str, v: str) -> bool:
        version = parse_version(v)
        assert version is not None
        return parse_range(r).contains(version)

    assert ok("^1.4", "1.9.0") and not ok("^1.4", "2.0.0") and not ok("^1.4", "1.3.9")
    assert ok("^0.4", "0.4.7") and not ok("^0.4", "0.5.0")
    assert ok("~1.4", "1.4.9") and not ok("~1.4", "1.5.0")
    assert ok(">=1.2,<2", "1.2.0") and not ok(">=1.2,<2", "2.0.0")
    assert ok(">= 1.2 < 2", "1.99.0")
    assert ok("1.x", "1.0.3") and ok("1.2.*", "1.2.9") and not ok("1.2.*", "1.3.0")
    assert ok("<1 || >=3", "3.1.0") and not ok("<1 || >=3", "2.0.0")
    assert not ok("<2", "2.0.0-rc.1") and ok(">=2.0.0-rc.1", "2.0.0-rc.2")
    assert parse_version("1.0.0-alpha.1").key() < parse_version("1.0.0-alpha.beta").key()  # type: ignore[union-attr]
    assert parse_version("latest") is None


def test_downgrades(layout: LayoutRegistry) -> None:
    assert is_downgrade("v1.10.0", "v1.2.0", Strategy("semver"))
    assert not is_downgrade("v1.2.0", "v1.10.0", Strategy("semver"))
    assert is_downgrade("build-10", "build-9", Strategy("numerical", include=r"(\d+)"))
    assert not is_downgrade("a", "b", Strategy("alphabetical"))
    assert not is_downgrade("x", "y", Strategy(template="t"))  # build times unknown: cannot tell
    newer = resolve(layout, Strategy(template="stage-{app}-{sha:7}"), VARS)
    older = resolve(layout, Strategy(template="stage-docs-0000000"), VARS)
    assert downgrade_reason(layout, Strategy(template="t"), newer.tag, newer) is None
    assert downgrade_reason(layout, Strategy(template="t"), older.tag, newer) is None
    assert downgrade_reason(layout, Strategy(template="t"), newer.tag, older) == (
        "stage-docs-0000000 (built 2026-01-01T00:00:00+00:00) is older than the current "
        "stage-docs-1a2b3c4 (built 2026-01-03T00:00:00+00:00)"
    )


def test_commit_sha(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("GITHUB_SHA", raising=False)
    monkeypatch.delenv("CIRCLE_SHA1", raising=False)
    assert commit_sha("ABCDEF1") == "abcdef1"
    with pytest.raises(InputError, match="--sha 'main' is not a commit SHA"):
        commit_sha("main")
    assert commit_sha(cwd=str(tmp_path)) is None  # not a git checkout
    subprocess.run(["git", "init", "-q", str(tmp_path)], check=True)
    subprocess.run(
        [
            "git",
            "-C",
            str(tmp_path),
            "-c",
            "user.name=t",
            "-c",
            "user.email=t@e",
            "commit",
            "-q",
            "--allow-empty",
            "-m",
            "x",
        ],
        check=True,
    )
    head = subprocess.run(
        ["git", "-C", str(tmp_path), "rev-parse", "HEAD"], capture_output=True, text=True
    ).stdout
    assert commit_sha(cwd=str(tmp_path)) == head.strip()
    monkeypatch.setenv("CIRCLE_SHA1", "c" * 40)
    assert commit_sha(cwd=str(tmp_path)) == "c" * 40
    monkeypatch.setenv("GITHUB_SHA", "b" * 40)
    assert commit_sha(cwd=str(tmp_path)) == "b" * 40


def test_ten_thousand_tags(tmp_path: Path) -> None:
    images = [
        LayoutImage(
            [f"build-{k * 500 + i:05d}" for i in range(490)] + [f"v1.{k}.{j}" for j in range(10)],
            utc(2026, 1, 1 + k),
        )
        for k in range(20)
    ]
    build_layout(tmp_path, images)
    registry = LayoutRegistry(parse(f"oci:{tmp_path}"), RegistryOptions())
    assert len(registry.list_tags()) == 10_000
    numerical = resolve(registry, Strategy("numerical", include=r"^build-(\d+)$"), VARS)
    assert (numerical.tag, numerical.requests) == ("build-09989", 1)
    assert resolve(registry, Strategy("semver", range="~1.7"), VARS).tag == "v1.7.9"
    newest = resolve(registry, Strategy("newest", include="^build-"), VARS)
    assert newest.created == utc(2026, 1, 20)
    assert newest.requests == 1 + 20 * 2  # the index, then manifest + config once per digest
    # build-03000..03489 are day 7, build-03500..03989 day 8: the open part takes the newest build
    opened = resolve(registry, Strategy(template="build-0{run}*"), TemplateVars(run="3"))
    assert (opened.tag, opened.created) == ("build-03989", utc(2026, 1, 8))


def test_cli_on_a_layout(tmp_path: Path) -> None:
    build_layout(tmp_path / "docs", [LayoutImage(["stage-docs-1a2b3c4", "latest"], utc(2026, 1, 1))])
    result = run("resolve", "oci:docs", "--template", "stage-{app}-{sha:7}", "--sha", SHA, cwd=tmp_path)
    assert (result.returncode, result.stdout, result.stderr) == (0, "stage-docs-1a2b3c4\n", "")
    moving = run("resolve", "oci:docs:latest", "--json", cwd=tmp_path)
    assert json.loads(moving.stdout)["tag"] == "stage-docs-1a2b3c4"
    none = run("resolve", "oci:docs", cwd=tmp_path)
    assert (none.returncode, none.stderr) == (
        2,
        "updater: error: oci:docs: say how to pick the tag: --template, --tag, --range, "
        "or --strategy newest --include REGEX\n",
    )
    bad = run("resolve", "oci:docs", "--wait", "soon", "--tag", "latest", cwd=tmp_path)
    assert bad.returncode == 2
    assert "'soon' is not a duration; write e.g. 90s, 5m or 1m30s" in bad.stderr


def test_cli_image_tag_is_the_digest_strategy_tag_never_silently_dropped(tmp_path: Path) -> None:
    build_layout(tmp_path / "docs", [LayoutImage(["stage-docs-1a2b3c4", "latest"], utc(2026, 1, 1))])
    build_layout(tmp_path / "docs", [LayoutImage(["stage-docs-0000000"], utc(2025, 1, 1))])
    for args in ((), ("--strategy", "digest"), ("--strategy", "digest", "--include", "^stage-")):
        done = run("resolve", "oci:docs:latest", *args, cwd=tmp_path)
        assert (done.returncode, done.stdout, done.stderr) == (0, "stage-docs-1a2b3c4\n", "")
    refused = {
        ("--template", "stage-{sha:7}"): "--template",
        ("--range", "^1"): "--range",
        ("--strategy", "newest", "--include", "^stage-"): "--strategy newest",
    }
    for args, flag in refused.items():
        done = run("resolve", "oci:docs:latest", *args, "--sha", SHA, cwd=tmp_path)
        assert (done.returncode, done.stdout, done.stderr) == (
            2,
            "",
            f"updater: error: oci:docs:latest: :latest asks for the immutable tag with latest's digest "
            f"and cannot be combined with {flag}: drop :latest, or the flag\n",
        )
    twice = run("resolve", "oci:docs:latest", "--tag", "stable", cwd=tmp_path)
    assert (twice.returncode, twice.stderr) == (
        2,
        "updater: error: oci:docs:latest: the tag is given twice (:latest and --tag): keep one\n",
    )
