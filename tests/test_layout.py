"""The OCI layout registry (`oci:DIR`) read back from real layouts written by testing/oci_layout."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from testing.oci_layout import LayoutImage, build_layout, utc
from updater.domain.imageref import parse
from updater.infra.errors import InputError
from updater.registry.base import RegistryOptions
from updater.registry.layout import LayoutRegistry, parse_created


def _open(path: Path, platform: str = "linux/amd64") -> LayoutRegistry:
    return LayoutRegistry(parse(f"oci:{path}"), RegistryOptions(platform=platform))


def test_tags_digests_and_created(tmp_path: Path) -> None:
    written = build_layout(
        tmp_path,
        [LayoutImage(["a", "v1"], utc(2026, 1, 1)), LayoutImage(["b"], utc(2026, 2, 1, 12, 30))],
    )
    reg = _open(tmp_path)
    assert [(t.tag, t.digest) for t in reg.list_tags()] == sorted(written.items())
    assert reg.digest("b") == written["b"]
    assert reg.digest("missing") is None
    assert reg.created(written["b"]) == utc(2026, 2, 1, 12, 30)
    assert reg.name == f"oci:{tmp_path}"
    assert (tmp_path / "oci-layout").exists()


def test_multi_arch_index_picks_the_platform(tmp_path: Path) -> None:
    written = build_layout(
        tmp_path, [LayoutImage(["m"], utc(2026, 3, 1), platforms=["linux/amd64", "linux/arm64"])]
    )
    assert _open(tmp_path).created(written["m"]) == utc(2026, 3, 1)
    assert _open(tmp_path, "linux/arm64").created(written["m"]) == utc(2026, 3, 1, 0, 1)
    with pytest.raises(
        InputError, match=r"has no linux/s390x platform; pass --platform one of linux/amd64, linux/arm64"
    ):
        _open(tmp_path, "linux/s390x").created(written["m"])


def test_nested_index_and_moving_tags(tmp_path: Path) -> None:
    first = build_layout(tmp_path, [LayoutImage(["x-1", "latest"], utc(2026, 1, 1))])
    second = build_layout(tmp_path, [LayoutImage(["x-2", "latest"], utc(2026, 1, 2))], nested=True)
    index = json.loads((tmp_path / "index.json").read_text())
    assert len(index["manifests"]) == 1 and "annotations" not in index["manifests"][0]
    reg = _open(tmp_path)
    assert {t.tag: t.digest for t in reg.list_tags()} == {
        "x-1": first["x-1"],
        "x-2": second["x-2"],
        "latest": second["x-2"],
    }


def test_full_reference_ref_names(tmp_path: Path) -> None:
    written = build_layout(tmp_path, [LayoutImage(["t"], utc(2026, 1, 1))])
    index = json.loads((tmp_path / "index.json").read_text())
    index["manifests"][0]["annotations"]["org.opencontainers.image.ref.name"] = "example.com:5000/app:v9"
    (tmp_path / "index.json").write_text(json.dumps(index))
    assert _open(tmp_path).digest("v9") == written["t"]


def test_errors_name_the_layout(tmp_path: Path) -> None:
    with pytest.raises(InputError, match=r"oci:.*/nope: no such directory"):
        _open(tmp_path / "nope").list_tags()
    (tmp_path / "empty").mkdir()
    with pytest.raises(InputError, match=r"index .*index.json is missing"):
        _open(tmp_path / "empty").list_tags()
    written = build_layout(tmp_path / "l", [LayoutImage(["t"], utc(2026, 1, 1))])
    blob = tmp_path / "l" / "blobs" / "sha256" / written["t"].split(":")[1]
    blob.write_text(blob.read_text().replace('"schemaVersion":2', '"schemaVersion": 2'))
    with pytest.raises(InputError, match="does not match its digest; the layout is corrupt"):
        _open(tmp_path / "l").created(written["t"])


def test_parse_created_handles_go_nanoseconds() -> None:
    assert parse_created("2026-01-02T03:04:05.123456789Z") == parse_created(
        "2026-01-02T03:04:05.123456+00:00"
    )
    assert parse_created("") is None
    assert parse_created("yesterday") is None
    assert parse_created(None) is None
