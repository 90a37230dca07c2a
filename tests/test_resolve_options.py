"""The shared strategy/registry flags: parsing, defaults and overriding a config's policy."""

from __future__ import annotations

from typing import Any

import click
import pytest
from click.testing import CliRunner

from updater.commands.options import (
    parse_duration,
    registry_options_from_options,
    strategy_from_options,
    strategy_options,
)
from updater.infra import redact
from updater.registry.base import RegistryOptions
from updater.resolve import Strategy


def _parse(*args: str) -> dict[str, Any]:
    seen: dict[str, Any] = {}

    @click.command()
    @strategy_options
    def cmd(**kw: Any) -> None:
        seen.update(kw)

    result = CliRunner().invoke(cmd, list(args), catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return seen


def test_flags_become_a_strategy() -> None:
    kw = _parse("--template", "stage-{sha:7}", "--exclude", "a", "--exclude", "b", "--wait", "1m30s")
    assert strategy_from_options(**kw) == Strategy(
        "template", template="stage-{sha:7}", exclude=("a", "b"), wait=90
    )
    assert strategy_from_options(**_parse("--tag", "latest")).kind == "digest"
    assert strategy_from_options(**_parse("--range", "^1")) == Strategy("semver", range="^1")
    assert strategy_from_options(**_parse("--strategy", "newest", "--include", "^v")).include == "^v"


def test_flags_override_the_config_policy() -> None:
    base = Strategy("template", template="stage-{app}-{sha:7}", include="^stage-", wait=60)
    assert strategy_from_options(base, **_parse()) == base
    moved = strategy_from_options(base, **_parse("--tag", "latest"))
    assert (moved.kind, moved.tag, moved.include, moved.wait) == ("digest", "latest", "^stage-", 60)
    assert strategy_from_options(base, **_parse("--wait", "0")).wait == 0


def test_registry_options(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("UPDATER_REGISTRY_PASSWORD", "s3cret-password")
    kw = _parse(
        "--insecure-registry", "r:5000", "--platform", "linux/arm64", "--api", "oci", "--username", "u"
    )
    base = RegistryOptions(insecure_hosts=("cfg:1",), platform="linux/amd64")
    opts = registry_options_from_options(base, **kw)
    assert opts == RegistryOptions(("cfg:1", "r:5000"), "u", "s3cret-password", "linux/arm64", "oci", None)
    assert redact.mask("pw s3cret-password") == "pw ***"


def test_durations() -> None:
    assert [parse_duration(t) for t in ("90", "90s", "5m", "1h", "1m30s", "2.5s")] == [
        90,
        90,
        300,
        3600,
        90,
        2.5,
    ]
    for bad in ("5x", "m", "1m 30s", ""):
        with pytest.raises(ValueError, match="is not a duration"):
            parse_duration(bad)
