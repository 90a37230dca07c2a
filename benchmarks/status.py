"""Wall time and registry requests of `updater status` for one app whose repository holds 400 builds.

The layout of the monorepo user in issue 11: every push builds `stage-<sha8>-<epoch>` into one
repository, and staging's policy is `stage-{sha:8}-*`. Debian's real docker-registry holds the 400
builds (400 distinct images, a minute apart); the counting, paginating proxy (pages of 100) stands in
front of it; a GitOps remote (real git) holds `.updater.yaml` and the values file. `updater status`
runs through the CLI as a subprocess, as a user runs it, so the wall time includes the interpreter's
start. Requests = what the proxy received (the `/v2/` ping included). The proxy is Python and adds its
own time to every request, so the same status then runs straight against the registry ("direct"),
which is the figure to compare with the issue's target (400 builds in at most 2 s): each run's wall
time, and the CPU time updater and the registry used. This machine's speed drifts by a third from
minute to minute: compare the median of many runs, taken at the same moment.
Run: .venv/bin/python benchmarks/status.py [--builds N] [--apps N]
"""

from __future__ import annotations

import argparse
import hashlib
import os
import resource
import statistics
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
    parser.add_argument("--runs", type=int, default=7, help="status runs straight to the registry")
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
            # Staging runs an older build: the row is behind the newest. Through the counting proxy once:
            # the requests are the figure here (the proxy's own Python time inflates the wall time).
            remote = make_remote(Path(tmp) / "git", gitops_files(proxy.host, args.apps, builds[0][0]))
            print(f"{'builds':>6} {'apps':>4} {'requests':>8} {'wall':>7}  state of the first row")
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
        # Straight to the registry, as the issue measures: wall time, and the CPU time of updater and of
        # the registry (two cores: their sum over two is the floor of the wall time).
        direct = make_remote(Path(tmp) / "direct", gitops_files(registry.host, args.apps, builds[0][0]))
        walls = []
        print(f"{'builds':>6} {'apps':>4} {'':>8} {'wall':>7}  updater CPU, registry CPU")
        for _ in range(args.runs):
            ours, theirs = _children_cpu(), _process_cpu(registry.process.pid)
            started = time.perf_counter()
            done = run("status", cwd=direct.work, timeout=600)
            wall = time.perf_counter() - started
            if done.returncode != 0:
                raise SystemExit(f"updater status failed ({done.returncode}): {done.stderr.strip()}")
            walls.append(wall)
            cpu_ours, cpu_theirs = _children_cpu() - ours, _process_cpu(registry.process.pid) - theirs
            print(
                f"{len(builds):>6} {args.apps:>4} {'direct':>8} {wall:>6.2f}s  "
                f"{cpu_ours:.2f}s, {cpu_theirs:.2f}s",
                flush=True,
            )
        print(
            f"direct: median {statistics.median(walls):.2f}s, best {min(walls):.2f}s, "
            f"worst {max(walls):.2f}s over {len(walls)} runs"
        )


def _children_cpu() -> float:
    """User + system CPU seconds of the finished child processes (each `updater status`)."""
    used = resource.getrusage(resource.RUSAGE_CHILDREN)
    return used.ru_utime + used.ru_stime


def _process_cpu(pid: int) -> float:
    """User + system CPU seconds a running process has used so far (Linux /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


if __name__ == "__main__":
    main()
