"""Hostile `.updater.yaml` files through the CLI: merge-key bombs, deep nesting, non-finite waits,
control characters in keys, FIFOs and huge files. Each ends in one escaped line and exit 2, at once."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

from testing.cli import run
from updater.config.loader import load

APP = "apps:\n  a: {image: r/a, values: {e0: v.yaml}, key: image.tag}\n"


def _write(tmp: Path, text: str) -> Path:
    path = tmp / ".updater.yaml"
    path.write_text(text)
    return path


def merge_bomb(levels: int) -> str:
    """Environments where each level merges the previous one ten times (`<<: [*e0, *e0, ...]`)."""
    lines = ["version: 1", "environments:", "  e0: &e0 {branch: main}"]
    for level in range(1, levels):
        lines.append(f"  e{level}: &e{level} {{<<: [{', '.join([f'*e{level - 1}'] * 10)}]}}")
    return "\n".join(lines) + "\n" + APP


def test_merge_keys_are_merged_once_not_re_expanded_at_every_level(tmp_path: Path) -> None:
    text = merge_bomb(8)  # 10**7 merges if each level re-expanded the one below
    assert 550 < len(text.encode()) < 620
    path = _write(tmp_path, text)
    started = time.monotonic()
    result = run("config", "validate", "--config-only", "--config", str(path), timeout=60)
    elapsed = time.monotonic() - started
    assert (result.returncode, result.stderr) == (0, ""), result.stderr
    assert result.stdout == f"{path}: ok (1 app, 8 environments; targets not opened)\n"
    assert elapsed < 5  # a process start and a few ms of loading; 10**7 merges took minutes
    started = time.monotonic()
    config = load(path)
    assert time.monotonic() - started < 0.5 and len(config.environments) == 8


@pytest.mark.parametrize(
    ("environment", "column"),
    [("{<<: " * 60 + "{branch: main}" + "}" * 60, 262), ("&e {branch: main, <<: *e}", 7)],
    ids=["60-nested-merges", "merges-itself"],
)
def test_merges_nested_deeper_than_the_limit_are_refused(
    tmp_path: Path, environment: str, column: int
) -> None:
    path = _write(tmp_path, f"version: 1\nenvironments:\n  e0: {environment}\n" + APP)
    result = run("config", "validate", "--config", str(path), timeout=60)
    assert (result.returncode, result.stdout) == (2, "")
    assert result.stderr == (
        f"updater: error: {path}:3:{column}: environments.e0: << merges nest more than 50 levels "
        "(or a mapping merges itself); flatten them\n"
    )


DEEP_FLOW = "  x: " + "[" * 3000 + "]" * 3000
DEEP_BLOCK = "  x:\n" + "".join("  " * n + "a:\n" for n in range(2, 600))


@pytest.mark.parametrize("nested", [DEEP_FLOW, DEEP_BLOCK], ids=["flow", "block"])
def test_a_config_nested_too_deep_is_a_clean_exit_2_naming_the_file(tmp_path: Path, nested: str) -> None:
    path = _write(tmp_path, "version: 1\nenvironments:\n" + nested + "\n" + APP)
    result = run("config", "validate", "--config", str(path), timeout=60)
    assert (result.returncode, result.stdout) == (2, "")
    assert result.stderr.startswith(f"updater: error: {path}:")
    assert "nested more than 100 levels deep" in result.stderr and "internal error" not in result.stderr


@pytest.mark.parametrize("wait", [".nan", ".NaN", ".inf", "-.inf", "+.inf", "-1", "-0.5"])
def test_a_wait_that_is_not_a_finite_positive_number_is_refused_with_file_and_line(
    tmp_path: Path, wait: str
) -> None:
    text = (
        f"version: 1\nenvironments:\n  staging:\n    tag: {{template: 'v-{{sha:7}}', wait: {wait}}}\n" + APP
    )
    path = _write(tmp_path, text)
    result = run("config", "validate", "--config", str(path), timeout=30)
    assert (result.returncode, result.stdout) == (2, "")
    assert result.stderr.startswith(f"updater: error: {path}:4:")
    assert "environments.staging.tag.wait" in result.stderr


def test_a_key_with_a_newline_cannot_forge_a_workflow_command(tmp_path: Path) -> None:
    text = 'version: 1\nenvironments:\n  staging: {"x\\n::error::forged\\r\\u001b[2J": 1}\n' + APP
    path = _write(tmp_path, text)
    result = run("config", "validate", "--config", str(path), timeout=30)
    assert (result.returncode, result.stdout) == (2, "")
    (line,) = result.stderr.splitlines()  # one line: nothing starts a new one
    assert line.startswith(f"updater: error: {path}:3:")
    assert "x\\n::error::forged\\r\\x1b[2J" in line
    assert "\r" not in result.stderr and "\x1b" not in result.stderr


def test_a_values_file_key_with_control_characters_is_escaped_in_set_output(tmp_path: Path) -> None:
    values = tmp_path / "values.yaml"
    values.write_text('"a\\n::error::forged":\n  image: r/app:v1\n')
    result = run("set", str(values), "--image", "r/app", "v2")
    assert result.returncode == 0, result.stderr
    (line,) = result.stdout.splitlines()
    assert "a\\n::error::forged" in line and line.startswith(f"{values}:2: ")


def test_a_fifo_as_config_is_refused_without_blocking(tmp_path: Path) -> None:
    path = tmp_path / ".updater.yaml"
    os.mkfifo(path)
    result = run("config", "validate", "--config", str(path), timeout=30)
    assert (result.returncode, result.stdout) == (2, "")
    assert result.stderr == f"updater: error: {path}: is a FIFO, not a regular file: give a YAML file\n"


def test_a_config_over_the_size_limit_is_refused(tmp_path: Path) -> None:
    path = _write(tmp_path, "version: 1\n" + "#" * (1024 * 1024) + "\n")
    result = run("config", "validate", "--config", str(path), timeout=30)
    assert (result.returncode, result.stdout) == (2, "")
    assert result.stderr == (
        f"updater: error: {path}: file too large (1.0 MiB): values and config files are limited to 1 MiB\n"
    )
