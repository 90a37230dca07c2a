"""An OCI image layout directory (`oci:DIR`) as a registry: offline, for the demo and air-gapped use.

One layout is one repository. Tags are the `org.opencontainers.image.ref.name` annotations of
index.json, looked for through untagged nested indexes too; build times come from config blobs,
whose digests are checked, so a corrupt layout is reported rather than trusted.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

from updater.domain.imageref import ImageRef
from updater.infra.errors import InputError
from updater.registry.base import RegistryOptions, TagInfo

REF_NAME = "org.opencontainers.image.ref.name"
_INDEX_TYPES = (
    "application/vnd.oci.image.index.v1+json",
    "application/vnd.docker.distribution.manifest.list.v2+json",
)


def parse_created(value: object) -> datetime | None:
    """Return the `created` time of an image config, or None when absent or unreadable."""
    if not isinstance(value, str) or not value:
        return None
    text = value.strip().replace("Z", "+00:00").replace("z", "+00:00")
    if "." in text:  # Go writes nanoseconds; Python 3.10 parses at most microseconds
        head, _, rest = text.partition(".")
        digits = "".join(ch for ch in rest if ch.isdigit())
        text = f"{head}.{digits[:6]}{rest[len(digits) :]}"
    try:
        return datetime.fromisoformat(text)
    except ValueError:
        return None


def _tag_of(ref_name: str) -> str | None:
    """Return the tag a ref.name annotation names: a bare tag, or the tag of a full reference."""
    if "/" not in ref_name and ":" not in ref_name:
        return ref_name
    tail = ref_name.rsplit("/", 1)[-1]
    return tail.rsplit(":", 1)[1] if ":" in tail else None


class LayoutRegistry:
    """A read-only `Registry` over an OCI image layout directory; `requests` counts files read."""

    def __init__(self, ref: ImageRef, options: RegistryOptions) -> None:
        if not ref.layout:
            raise InputError(f"{ref.name}: not an OCI layout reference; write oci:DIR")
        self.root = Path(ref.layout)
        self.name = f"oci:{ref.layout}"
        self.requests = 0
        self.platform = options.platform

    def _read_json(self, path: Path, what: str) -> dict[str, Any]:
        self.requests += 1
        try:
            value = json.loads(path.read_bytes())
        except FileNotFoundError:
            if not self.root.is_dir():
                raise InputError(
                    f"{self.name}: no such directory; build the layout or fix the path"
                ) from None
            raise InputError(f"{self.name}: {what} {path} is missing; the layout is incomplete") from None
        except (OSError, ValueError) as exc:
            raise InputError(f"{self.name}: cannot read {what} {path}: {exc}") from None
        if not isinstance(value, dict):
            raise InputError(f"{self.name}: {what} {path} is not a JSON object")
        return value

    def _blob(self, digest: str) -> dict[str, Any]:
        algorithm, _, hexdigest = digest.partition(":")
        if algorithm != "sha256" or len(hexdigest) != 64:
            raise InputError(f"{self.name}: unsupported digest {digest!r}")
        path = self.root / "blobs" / "sha256" / hexdigest
        value = self._read_json(path, "blob")
        if hashlib.sha256(path.read_bytes()).hexdigest() != hexdigest:
            raise InputError(f"{self.name}: blob {path} does not match its digest; the layout is corrupt")
        return value

    def _tagged(self) -> Iterator[tuple[str, str]]:
        """Yield (tag, digest) from index.json and the untagged indexes it nests."""

        def walk(manifests: object, depth: int) -> Iterator[tuple[str, str]]:
            if not isinstance(manifests, list) or depth > 8:
                return
            for desc in manifests:
                if not isinstance(desc, dict) or not isinstance(desc.get("digest"), str):
                    continue
                ref_name = (desc.get("annotations") or {}).get(REF_NAME)
                if isinstance(ref_name, str):
                    tag = _tag_of(ref_name)
                    if tag:
                        yield tag, desc["digest"]
                elif desc.get("mediaType") in _INDEX_TYPES:
                    yield from walk(self._blob(desc["digest"]).get("manifests"), depth + 1)

        index = self._read_json(self.root / "index.json", "index")
        yield from walk(index.get("manifests"), 0)

    def list_tags(self) -> list[TagInfo]:
        """Return every tag with its digest (the index gives both, no blob reads)."""
        tags: dict[str, str] = {}
        for tag, digest in self._tagged():
            tags.setdefault(tag, digest)
        return [TagInfo(tag, digest) for tag, digest in sorted(tags.items())]

    def digest(self, tag: str, *, read_manifest: bool = False) -> str | None:
        """Return the digest the tag points to, or None."""
        return next((digest for name, digest in self._tagged() if name == tag), None)

    def created(self, digest: str) -> datetime | None:
        """Return the build time of the image, for the selected platform when it is an index."""
        manifest = self._blob(digest)
        if manifest.get("mediaType") in _INDEX_TYPES or "manifests" in manifest:
            manifest = self._blob(self._pick_platform(digest, manifest))
        config = manifest.get("config")
        if not isinstance(config, dict) or not isinstance(config.get("digest"), str):
            raise InputError(f"{self.name}: manifest {digest} has no config descriptor")
        return parse_created(self._blob(config["digest"]).get("created"))

    def _pick_platform(self, digest: str, index: dict[str, Any]) -> str:
        wanted = self.platform.split("/")
        seen = []
        for desc in index.get("manifests") or []:
            platform = desc.get("platform") or {}
            have = [platform.get("os", ""), platform.get("architecture", "")]
            if platform.get("variant"):
                have.append(platform["variant"])
            seen.append("/".join(have))
            if have[:2] == wanted[:2] and (len(wanted) < 3 or have[2:] == wanted[2:]):
                return str(desc["digest"])
        raise InputError(
            f"{self.name}: image {digest} has no {self.platform} platform; "
            f"pass --platform one of {', '.join(seen) or '(none)'}"
        )
