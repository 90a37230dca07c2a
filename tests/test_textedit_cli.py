"""`updater set` on a Helm chart's template: the real CLI in a subprocess, byte-exact except the tag."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from testing.cli import run
from testing.helmchart import DEPLOYMENT, IMAGE, TAG, VALUES, write_chart

NEW = "master-202402011200"


@pytest.fixture
def template(tmp_path: Path) -> Path:
    return chart_where(tmp_path, f'"{IMAGE}:{TAG}"')[0]


def chart_where(tmp_path: Path, second_image: str) -> tuple[Path, str]:
    """Write the chart with its second (quoted) image written as `second_image`; old mtime."""
    text = DEPLOYMENT.replace(f'"{IMAGE}:{TAG}"', second_image)
    path = write_chart(tmp_path, deployment=text)
    os.utime(path, (1_000_000_000, 1_000_000_000))
    return path, text


def assert_untouched(path: Path, text: str = DEPLOYMENT) -> None:
    assert path.read_bytes() == text.encode()
    assert path.stat().st_mtime == 1_000_000_000


def error_line(result: object) -> str:
    """The one stderr line of a refused run (exit 2), without the `updater: error: ` prefix."""
    assert getattr(result, "returncode", None) == 2
    stderr: str = getattr(result, "stderr", "")
    assert stderr.count("\n") == 1 and stderr.startswith("updater: error: "), stderr
    assert "fix the file first" not in stderr
    return stderr.removeprefix("updater: error: ").rstrip("\n")


@pytest.mark.parametrize("newline", ["\n", "\r\n"])
def test_set_image_in_the_chart_template_changes_only_the_tag(tmp_path: Path, newline: str) -> None:
    template = write_chart(tmp_path, newline=newline)
    result = run("set", str(template), "--image", IMAGE, NEW)
    assert result.returncode == 0, result.stderr
    assert result.stdout == (
        f"{template}:21: {IMAGE}: set {NEW} (was {TAG})\n{template}:32: {IMAGE}: set {NEW} (was {TAG})\n"
    )
    expected = DEPLOYMENT.replace(f"{IMAGE}:{TAG}", f"{IMAGE}:{NEW}").replace("\n", newline)
    assert template.read_bytes() == expected.encode()
    assert (template.parent.parent / "values.yaml").read_bytes() == VALUES.encode()


def test_json_and_explain_say_text_mode(template: Path) -> None:
    result = run(
        "set", "--json", "--explain", "--dry-run", str(template), "--image", f"docker.io/{IMAGE}", NEW
    )
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["mode"] == "text"
    assert (report["line"], report["old"], report["new"], report["changed"]) == (21, TAG, NEW, True)
    assert f"-          image: {IMAGE}:{TAG}\n+          image: {IMAGE}:{NEW}\n" in report["diff"]
    assert result.stderr.startswith(f"updater: {template}: text mode: not YAML (line 4: ")
    assert_untouched(template)


def test_json_says_yaml_mode_for_the_values_file(template: Path) -> None:
    values = template.parent.parent / "values.yaml"
    result = run("set", "--json", "--explain", str(values), "image.pullPolicy", "Always")
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["mode"] == "yaml"
    assert result.stderr.startswith(f"updater: {values}: yaml mode: ")


def test_a_key_path_on_the_template_is_refused_with_what_to_use(template: Path) -> None:
    result = run("set", str(template), "spec.replicas", "2")
    message = error_line(result)
    assert message.startswith(f"{template}:4: a template, not YAML (")
    assert message.endswith("use --image REPO or --marker NAME to edit the file as text")
    assert_untouched(template)


def test_a_tag_from_values_is_refused_naming_the_line(tmp_path: Path) -> None:
    template, text = chart_where(tmp_path, f'"{IMAGE}:{{{{ .Values.image.tag }}}}"')
    message = error_line(run("set", str(template), "--image", IMAGE, NEW))
    assert (
        message.startswith(f"{template}:32: ")
        and "the tag comes from values: target the values file" in message
    )
    assert_untouched(template, text)


def test_different_tags_need_all(tmp_path: Path) -> None:
    template, text = chart_where(tmp_path, f'"{IMAGE}:develop-202401010000"')
    message = error_line(run("set", str(template), "--image", IMAGE, NEW))
    assert f"line 21 ({TAG}), line 32 (develop-202401010000)" in message and "--all" in message
    assert_untouched(template, text)
    result = run("set", "--all", str(template), "--image", IMAGE, NEW)
    assert result.returncode == 0, result.stderr
    assert template.read_text() == DEPLOYMENT.replace(TAG, NEW)


def test_nothing_found_in_text_mode_says_what_was_looked_for(template: Path) -> None:
    message = error_line(run("set", str(template), "--image", "ghcr.io/org/app", NEW))
    assert message.startswith(f"{template}: no reference to ghcr.io/org/app found: looked for ")
    assert message.endswith("(text mode: not YAML at line 4)")
    assert_untouched(template)


def test_set_marker_in_the_chart_template(tmp_path: Path) -> None:
    template, text = chart_where(tmp_path, f'"{IMAGE}:{TAG}"  # updater: proxy')
    result = run("set", "--json", str(template), "--marker", "proxy", NEW)
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert (report["mode"], report["key"], report["line"], report["old"]) == ("text", "marker proxy", 32, TAG)
    assert template.read_text() == text.replace(f'"{IMAGE}:{TAG}"', f'"{IMAGE}:{NEW}"')
