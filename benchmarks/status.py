"""Wall time and registry requests of `updater status` for one app whose repository holds 400 builds.

The layout of the monorepo user in issue 11: every push builds `stage-<sha8>-<epoch>` into one
repository, and staging's policy is `stage-{sha:8}-*`. Debian's real docker-registry holds the 400
builds (400 distinct images, a minute apart); the counting, paginating proxy (pages of 100) stands in
front of it; a GitOps remote (real git) holds `.updater.yaml` and the values file. `updater status`
runs through the CLI as a subprocess, as a user runs it, so the wall time includes the interpreter's
start. Requests = what the proxy received (the `/v2/` ping included). The proxy is Python and adds its
own time to every request, so the same status also runs straight against the registry ("direct"),
which is the figure to compare with the issue's target.
Run: .venv/bin/python benchmarks/status.py [--builds N] [--apps N]
"""

from __future__ import annotations

import argparse
import hashlib
import os
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta, timezone
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from testing.cli import run
from testing.gitrepo import make_remote
from testing.registry import push_image, start_registry
from testing.registry_proxy import start_proxy

REPOSITORY = "airqo-250220/airqo-stage-analytics-api"
START = datetime(2026, 1, 1, tzinfo=timezone.utc)


def build_tags(count: int) -> list[tuple[str, datetime]]:
    """Return `count` builds: (`stage-<sha8>-<epoch>`, build time), one minute apart, oldest first."""
    builds = []
    for i in range(count):
        created = START + timedelta(minutes=i)
        sha8 = hashlib.sha1(f"commit-{i}".encode()).hexdigest()[:8]
        builds.append((f"stage-{sha8}-{int(created.timestamp())}", created))
    return builds


def gitops_files(host: str, apps: int, tag: str) -> dict[str, str]:
    """Return the GitOps repository: `apps` apps on the same image, each at `tag` in staging."""
    lines = [
        "version: 1",
        "scm: {provider: git}",
        "environments:",
        '  staging: {branch: main, tag: "stage-{sha:8}-*"}',
        "apps:",
    ]
    files: dict[str, str] = {}
    for n in range(apps):
        name = "analytics" if n == 0 else f"analytics-{n}"
        lines += [
            f"  {name}:",
            f"    image: {host}/{REPOSITORY}",
            f"    values: {{staging: k8s/{name}/values-stage.yaml}}",
            "    key: images.tag",
        ]
        files[f"k8s/{name}/values-stage.yaml"] = (
            f"images:\n  repositories:\n    api: eu.gcr.io/{REPOSITORY}\n  tag: {tag}\n"
        )
    files[".updater.yaml"] = "\n".join(lines) + "\n"
    return files


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--builds", type=int, default=400)
    parser.add_argument("--apps", type=int, default=1, help="apps sharing the image (default 1)")
    parser.add_argument("--runs", type=int, default=3, help="status runs; the best wall time is shown")
    args = parser.parse_args()
    builds = build_tags(args.builds)
    shm = Path("/dev/shm")
    parent = str(shm) if shm.is_dir() and os.access(shm, os.W_OK) else None
    with (
        tempfile.TemporaryDirectory(prefix="updater-bench-status-", dir=parent) as tmp,
        start_registry(Path(tmp) / "registry") as registry,
    ):
        started = time.perf_counter()
        with ThreadPoolExecutor(max_workers=8) as pool:
            list(
                pool.map(
                    lambda build: push_image(registry.url, REPOSITORY, [build[0]], created=build[1]),
                    builds,
                )
            )
        print(f"(pushed {len(builds)} builds in {time.perf_counter() - started:.1f}s)", flush=True)
        with start_proxy(registry.url, page_size=100) as proxy:
            # Staging runs an older build: the row is behind the newest.
            remote = make_remote(Path(tmp) / "git", gitops_files(proxy.host, args.apps, builds[0][0]))
            print(f"{'builds':>6} {'apps':>4} {'requests':>8} {'wall':>7}  state of the first row")
            for _ in range(args.runs):
                proxy.reset_counts()
                started = time.perf_counter()
                done = run("status", cwd=remote.work, timeout=600)
                wall = time.perf_counter() - started
                if done.returncode != 0:
                    raise SystemExit(f"updater status failed ({done.returncode}): {done.stderr.strip()}")
                row = done.stdout.splitlines()[1].split()
                kinds = ", ".join(f"{k} {v}" for k, v in sorted(proxy.counts.items()))
                print(
                    f"{len(builds):>6} {args.apps:>4} {proxy.total():>8} {wall:>6.2f}s  "
                    f"{' '.join(row[2:])}  ({kinds})",
                    flush=True,
                )
        direct = make_remote(Path(tmp) / "direct", gitops_files(registry.host, args.apps, builds[0][0]))
        for _ in range(args.runs):
            started = time.perf_counter()
            done = run("status", cwd=direct.work, timeout=600)
            wall = time.perf_counter() - started
            if done.returncode != 0:
                raise SystemExit(f"updater status failed ({done.returncode}): {done.stderr.strip()}")
            row = done.stdout.splitlines()[1].split()
            print(
                f"{len(builds):>6} {args.apps:>4} {'direct':>8} {wall:>6.2f}s  {' '.join(row[2:])}",
                flush=True,
            )


if __name__ == "__main__":
    main()
