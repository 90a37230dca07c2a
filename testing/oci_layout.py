"""Write real OCI image layouts (index.json, blobs/sha256) for tests and the offline demo.

The blobs are genuine: a gzipped tar layer, a config whose `created` is the build time, an image
manifest, and for several platforms an image index. One layout directory holds one repository; its
tags are `org.opencontainers.image.ref.name` annotations in index.json. Building into an existing
layout adds images and moves tags that are pushed again, as a registry would.
"""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import tarfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

INDEX = "application/vnd.oci.image.index.v1+json"
MANIFEST = "application/vnd.oci.image.manifest.v1+json"
CONFIG = "application/vnd.oci.image.config.v1+json"
LAYER = "application/vnd.oci.image.layer.v1.tar+gzip"
REF_NAME = "org.opencontainers.image.ref.name"


@dataclass(frozen=True)
class LayoutImage:
    """One image to write: its tags, build time, and platforms (empty: one linux/amd64 manifest).

    With several platforms, platform i is built `i` minutes after `created`, so tests can tell which
    platform's config was read.
    """

    tags: Sequence[str]
    created: datetime
    platforms: Sequence[str] = ()
    content: str = ""  # makes otherwise identical images differ; defaults to the tags and time


def _write_blob(root: Path, data: bytes) -> str:
    digest = "sha256:" + hashlib.sha256(data).hexdigest()
    path = root / "blobs" / "sha256" / digest.split(":", 1)[1]
    path.parent.mkdir(parents=True, exist_ok=True)
    if not path.exists():
        path.write_bytes(data)
    return digest


def _descriptor(media_type: str, digest: str, size: int, **extra: Any) -> dict[str, Any]:
    return {"mediaType": media_type, "digest": digest, "size": size, **extra}


def _json_blob(root: Path, media_type: str, value: dict[str, Any], **extra: Any) -> dict[str, Any]:
    data = json.dumps(value, sort_keys=True, separators=(",", ":")).encode()
    return _descriptor(media_type, _write_blob(root, data), len(data), **extra)


def _layer(content: str) -> tuple[bytes, str]:
    """Return a gzipped tar holding one file, and the diff_id of the uncompressed tar."""
    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w", format=tarfile.PAX_FORMAT) as tar:
        body = content.encode()
        info = tarfile.TarInfo("etc/image-content")
        info.size, info.mtime = len(body), 0
        tar.addfile(info, io.BytesIO(body))
    tar_bytes = raw.getvalue()
    return gzip.compress(tar_bytes, mtime=0), "sha256:" + hashlib.sha256(tar_bytes).hexdigest()


def _platform(text: str) -> dict[str, str]:
    parts = text.split("/")
    platform = {"os": parts[0], "architecture": parts[1]}
    if len(parts) > 2:
        platform["variant"] = parts[2]
    return platform


def _manifest(root: Path, content: str, created: datetime, platform: str) -> dict[str, Any]:
    gz, diff_id = _layer(content + "\n" + platform)
    layer = _descriptor(LAYER, _write_blob(root, gz), len(gz))
    config = {
        "created": created.astimezone(timezone.utc).isoformat().replace("+00:00", "Z"),
        **_platform(platform),
        "config": {"Labels": {"content": content}},
        "rootfs": {"type": "layers", "diff_ids": [diff_id]},
    }
    config_desc = _json_blob(root, CONFIG, config)
    manifest = {"schemaVersion": 2, "mediaType": MANIFEST, "config": config_desc, "layers": [layer]}
    return _json_blob(root, MANIFEST, manifest)


def _image(root: Path, image: LayoutImage) -> dict[str, Any]:
    content = image.content or f"{','.join(image.tags)}@{image.created.isoformat()}"
    if not image.platforms:
        return _manifest(root, content, image.created, "linux/amd64")
    manifests = []
    for i, platform in enumerate(image.platforms):
        desc = _manifest(root, content, image.created + timedelta(minutes=i), platform)
        manifests.append({**desc, "platform": _platform(platform)})
    return _json_blob(root, INDEX, {"schemaVersion": 2, "mediaType": INDEX, "manifests": manifests})


def _existing(root: Path) -> list[dict[str, Any]]:
    """Return the tagged descriptors already in the layout, looking through untagged nested indexes."""
    index_path = root / "index.json"
    if not index_path.exists():
        return []
    found: list[dict[str, Any]] = []

    def walk(manifests: Iterable[dict[str, Any]]) -> None:
        for desc in manifests:
            if REF_NAME in desc.get("annotations", {}):
                found.append(desc)
            elif desc.get("mediaType") == INDEX:
                blob = root / "blobs" / "sha256" / desc["digest"].split(":", 1)[1]
                walk(json.loads(blob.read_bytes()).get("manifests", []))

    walk(json.loads(index_path.read_text()).get("manifests", []))
    return found


def build_layout(path: str | Path, images: Iterable[LayoutImage], *, nested: bool = False) -> dict[str, str]:
    """Write the images into the OCI layout at `path` and return {tag: digest} for what was written.

    A tag written again moves to the new image. With `nested`, index.json points to one untagged
    image index that holds the tagged descriptors (as some tools write it).
    """
    root = Path(path)
    root.mkdir(parents=True, exist_ok=True)
    (root / "oci-layout").write_text(json.dumps({"imageLayoutVersion": "1.0.0"}))
    entries = {e["annotations"][REF_NAME]: e for e in _existing(root)}
    written: dict[str, str] = {}
    for image in images:
        desc = _image(root, image)
        for tag in image.tags:
            entries.pop(tag, None)  # a tag pushed again moves to the new image
            entries[tag] = {**desc, "annotations": {REF_NAME: tag}}
            written[tag] = desc["digest"]
    manifests = list(entries.values())
    if nested:
        nested_index = {"schemaVersion": 2, "mediaType": INDEX, "manifests": manifests}
        manifests = [_json_blob(root, INDEX, nested_index)]
    index = {"schemaVersion": 2, "mediaType": INDEX, "manifests": manifests}
    (root / "index.json").write_text(json.dumps(index, indent=2) + "\n")
    return written


def utc(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    """Return a UTC datetime (shorthand for test tables)."""
    return datetime(year, month, day, hour, minute, tzinfo=timezone.utc)
