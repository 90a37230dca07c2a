"""Requests and wall time per tag strategy against one repository holding 10,000 tags.

Three backends hold the same 10,000 tags (20 images of 500 tags each: 450 `build-NNNNN` and 50
`v1.K.J`, built a day apart, plus `latest` on the newest):
- Debian's real docker-registry behind the paginating, counting proxy (pages of 100 and of 1,000),
- the Artifact Registry loopback server (the real client, 1,000 images per page),
- an OCI layout directory.
Run: .venv/bin/python benchmarks/resolve.py
"""

from __future__ import annotations

import os
import sys
import tempfile
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from testing.gar_server import start_gar_server
from testing.oci_layout import LayoutImage, build_layout
from testing.registry import push_image, start_registry
from testing.registry_proxy import start_proxy
from updater.domain.imageref import parse
from updater.registry.base import Registry, RegistryOptions
from updater.registry.gar import ENDPOINT_ENV
from updater.registry.open import open_registry
from updater.resolve import Strategy, TemplateVars, resolve

IMAGES, PER_IMAGE, SEMVER_PER_IMAGE = 20, 500, 50
START = datetime(2026, 1, 1, tzinfo=timezone.utc)
STRATEGIES = [
    ("template (exact)", Strategy(template="build-08998")),
    ("template (open part)", Strategy(template="build-0899*")),
    ("digest (latest)", Strategy("digest", tag="latest", include="^build-")),
    ("newest (narrow include)", Strategy("newest", include="^build-089")),
    ("newest (all 9,000 build tags)", Strategy("newest", include="^build-")),
    ("semver ^1", Strategy("semver", range="^1")),
    ("numerical", Strategy("numerical", include=r"^build-(\d+)$")),
    ("alphabetical", Strategy("alphabetical", include="^build-")),
]


def image_tags() -> list[tuple[list[str], datetime]]:
    """Return the 20 images' tags and build times; the last image also carries `latest`."""
    images, n = [], 0
    for k in range(IMAGES):
        builds = [f"build-{n + i:05d}" for i in range(PER_IMAGE - SEMVER_PER_IMAGE)]
        n += len(builds)
        tags = builds + [f"v1.{k}.{j}" for j in range(SEMVER_PER_IMAGE)]
        if k == IMAGES - 1:
            tags.append("latest")
        images.append((tags, START + timedelta(days=k)))
    return images


def measure(label: str, make: object, count: object = None) -> None:
    """Resolve every strategy with a fresh client and print one row each."""
    assert callable(make)
    for name, strategy in STRATEGIES:
        registry: Registry = make()
        before = count() if callable(count) else None
        started = time.perf_counter()
        res = resolve(registry, strategy, TemplateVars())
        elapsed = time.perf_counter() - started
        seen = f"{count() - before:>7}" if callable(count) and before is not None else "      -"
        print(f"{label:<22} {name:<30} {res.tag:<12} {res.requests:>8} {seen} {elapsed:>8.2f}s", flush=True)


def main() -> None:
    images = image_tags()
    print(
        f"{IMAGES * PER_IMAGE + 1} tags in one repository; requests = the client's count after auth; "
        "seen = requests the server/proxy received"
    )
    print(f"{'backend':<22} {'strategy':<30} {'tag':<12} {'requests':>8} {'seen':>7} {'wall':>9}")
    # tmpfs when there is one: 10,000 tags are ~60,000 small files for the registry to write.
    shm = Path("/dev/shm")
    parent = str(shm) if shm.is_dir() and os.access(shm, os.W_OK) else None
    with tempfile.TemporaryDirectory(prefix="updater-bench-", dir=parent) as tmp:
        started = time.perf_counter()
        with start_registry(Path(tmp) / "registry") as registry:
            for i, (tags, created) in enumerate(images):
                push_image(registry.url, "bench/app", tags, created=created, seed=f"bench-{i}", workers=16)
            pushed = time.perf_counter() - started
            print(f"(pushed {IMAGES * PER_IMAGE + 1} tags to docker-registry in {pushed:.1f}s)", flush=True)
            for page in (100, 1000):
                with start_proxy(registry.url, page_size=page, max_page=page) as proxy:
                    ref = parse(f"{proxy.host}/bench/app")
                    measure(
                        f"registry, {page}/page",
                        lambda ref=ref: open_registry(ref, RegistryOptions()),
                        lambda proxy=proxy: proxy.total() - proxy.counts["ping"],
                    )

        with start_gar_server() as gar:
            os.environ[ENDPOINT_ENV] = gar.endpoint
            for tags, created in images:
                gar.add_image("europe-docker.pkg.dev/p/r/bench/app", tags, created)
            ref = parse("europe-docker.pkg.dev/p/r/bench/app")
            options = RegistryOptions(api="artifact-registry")
            measure(
                "artifact registry", lambda: open_registry(ref, options), lambda: sum(gar.counts.values())
            )

        layout = Path(tmp) / "layout"
        build_layout(layout, [LayoutImage(tags, created) for tags, created in images])
        ref = parse(f"oci:{layout}")
        measure("oci layout (files read)", lambda: open_registry(ref, RegistryOptions()))


if __name__ == "__main__":
    main()
