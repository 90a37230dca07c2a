"""CPU per registry request, by HTTP library and by each layer of updater's registry client.

Why updater/registry/transport.py is on http.client: `updater status` sends hundreds of small
requests, and on two cores the registry's own CPU competes with the client's. Every row sends the same
requests one at a time to Debian's real docker-registry: for each of `--builds` images, its manifest
GET and its config blob GET. Rows: requests (a Session), urllib3 (a PoolManager), http.client (one
kept-alive connection), then updater's layers in turn: the bounded exchange (transport.exchange), the
auth and retry layer (registry.http.Transport), the OCI client with its shape and digest checks
(registry.oci.OciRegistry). The machine's speed drifts: compare rows of one run, not runs.
Run: .venv/bin/python benchmarks/transport.py [--builds N]
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import resource
import sys
import tempfile
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta, timezone
from pathlib import Path

import requests
import urllib3

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from testing.registry import push_image, start_registry
from updater.domain.imageref import parse
from updater.registry import transport
from updater.registry.base import RegistryOptions
from updater.registry.http import Transport
from updater.registry.oci import MANIFEST_ACCEPT, OciRegistry

REPOSITORY = "team/app"


def cpu() -> float:
    used = resource.getrusage(resource.RUSAGE_SELF)
    return used.ru_utime + used.ru_stime


def measure(name: str, pairs: list[tuple[str, str]], fetch: Callable[[str, str], None]) -> None:
    """Print the CPU and wall time per request of fetch(tag, config digest) over every pair."""
    fetch(*pairs[0])  # connect first: the rows compare requests, not handshakes
    started_cpu, started = cpu(), time.perf_counter()
    for tag, config in pairs[1:]:
        fetch(tag, config)
    count = 2 * (len(pairs) - 1)
    used, wall = cpu() - started_cpu, time.perf_counter() - started
    print(f"{name:<34} {1000 * used / count:6.3f} ms CPU  {1000 * wall / count:6.3f} ms wall", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--builds", type=int, default=200)
    args = parser.parse_args()
    shm = Path("/dev/shm")
    parent = str(shm) if shm.is_dir() and os.access(shm, os.W_OK) else None
    with (
        tempfile.TemporaryDirectory(prefix="updater-bench-transport-", dir=parent) as tmp,
        start_registry(Path(tmp) / "registry") as registry,
    ):
        start = datetime(2026, 1, 1, tzinfo=timezone.utc)
        tags = [f"b-{i:04d}" for i in range(args.builds)]
        with ThreadPoolExecutor(max_workers=8) as pool:
            list(
                pool.map(
                    lambda i: push_image(
                        registry.url, REPOSITORY, [tags[i]], created=start + timedelta(minutes=i)
                    ),
                    range(args.builds),
                )
            )
        base = f"{registry.url}/v2/{REPOSITORY}"
        accept = {"Accept": MANIFEST_ACCEPT}
        host, port = registry.host.rsplit(":", 1)
        conn = http.client.HTTPConnection(host, int(port))

        def raw(path: str, headers: dict[str, str]) -> bytes:
            conn.request("GET", f"/v2/{REPOSITORY}/{path}", headers=headers)
            return conn.getresponse().read()

        pairs = [(tag, json.loads(raw(f"manifests/{tag}", accept))["config"]["digest"]) for tag in tags]
        print(f"{args.builds} builds, {2 * args.builds} requests a row, one at a time")

        session = requests.Session()
        measure(
            "requests",
            pairs,
            lambda t, d: (
                session.get(f"{base}/manifests/{t}", headers=accept).content,
                session.get(f"{base}/blobs/{d}").content,
                None,
            )[-1],
        )
        manager = urllib3.PoolManager()
        measure(
            "urllib3",
            pairs,
            lambda t, d: (
                manager.request("GET", f"{base}/manifests/{t}", headers=accept).data,
                manager.request("GET", f"{base}/blobs/{d}").data,
                None,
            )[-1],
        )
        measure(
            "http.client",
            pairs,
            lambda t, d: (raw(f"manifests/{t}", accept), raw(f"blobs/{d}", {}), None)[-1],
        )

        client = transport.Client({"User-Agent": "bench"})

        def bounded(url: str, headers: dict[str, str]) -> None:
            transport.exchange(
                lambda u: client.open("GET", u, headers, 30), url, limit=1 << 22, deadline=30, redirects=None
            )

        measure(
            "updater: bounded exchange",
            pairs,
            lambda t, d: (bounded(f"{base}/manifests/{t}", accept), bounded(f"{base}/blobs/{d}", {}), None)[
                -1
            ],
        )
        http_layer = Transport(registry.host, registry.host, (), lambda: None)
        measure(
            "updater: + auth and retries",
            pairs,
            lambda t, d: (
                http_layer.get(f"{base}/manifests/{t}", accept=MANIFEST_ACCEPT, scope="s"),
                http_layer.get(f"{base}/blobs/{d}", scope="s"),
                None,
            )[-1],
        )
        oci = OciRegistry(parse(f"{registry.host}/{REPOSITORY}"), RegistryOptions())
        oci.list_tags()
        measure(
            "updater: + OCI shapes and digests",
            pairs,
            lambda t, d: (oci.created(oci.digest(t, read_manifest=True) or ""), None)[-1],
        )


if __name__ == "__main__":
    main()
