"""Commit → Healthy latency of `--wait-deployed`: with the refresh it sends vs waiting for Argo CD's poll.

Runs the real wait loop (updater.deploy.wait) against the loopback Argo CD (testing/argocd_server.py)
over a real bare git repository. Time is scaled so the run takes seconds: Argo CD's default git poll of
180 s becomes RECONCILE s (1/SCALE of it), a sync takes SYNC s and a rollout HEALTH s. For each round a
commit changes the tag, then the wait starts; "refresh" asks Argo CD to reconcile at once (what updater
does), "poll only" reads the app without refreshing (what a plain status poll sees). Figures are in
scaled seconds; the polling interval is not scaled, so the refresh figure carries up to one poll
interval of slack that a real (unscaled) run would not notice.

    .venv/bin/python benchmarks/argocd_wait.py [ROUNDS]
"""

from __future__ import annotations

import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from testing.argocd_server import AppSpec, Grant, ImageSource, start_argocd
from testing.gitrepo import git, make_remote
from updater.deploy.argocd import ArgoCD
from updater.deploy.decide import Expectation
from updater.deploy.settings import Server
from updater.deploy.wait import Watch, wait

SCALE = 60.0  # 180 s -> 3 s
RECONCILE, SYNC, HEALTH = 180.0 / SCALE, 10.0 / SCALE, 30.0 / SCALE
TOKEN = "benchmark-token-0123"


class PollOnly(ArgoCD):
    """The same client, but it never asks for a refresh: it sees the app when Argo CD's poll does."""

    def get(self, name: str, **kwargs: Any) -> Any:
        kwargs["refresh"] = False
        return super().get(name, **kwargs)


def _values(tag: str) -> str:
    return f"image:\n  repository: example/api\n  tag: {tag}\n"


def main(rounds: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        remote = make_remote(Path(tmp), {"values.yaml": _values("v0")})
        spec = AppSpec(
            "api", ".", ("values.yaml",), (ImageSource("example/api", "values.yaml", "image.tag"),)
        )
        figures: dict[str, list[float]] = {"refresh": [], "poll only": []}
        with start_argocd(
            remote.bare,
            [spec],
            {TOKEN: Grant()},
            reconcile_interval=RECONCILE,
            sync_delay=SYNC,
            health_delay=HEALTH,
        ) as server:
            for n in range(rounds):
                for label, client_type in (("refresh", ArgoCD), ("poll only", PollOnly)):
                    tag = f"v{n}-{label[0]}"
                    commit = remote.commit({"values.yaml": _values(tag)}, f"bump {tag}")
                    client = client_type(Server(server.url), {"ARGOCD_AUTH_TOKEN": TOKEN})
                    started = time.monotonic()
                    (result,) = wait(
                        client,
                        [Watch("api", "bench", "api", Expectation(commit, tag, "example/api"))],
                        timeout=RECONCILE * 3,
                        sync=False,
                        ancestry=lambda c, r: _descends(remote.bare, c, r),
                        progress=lambda line: None,
                    )
                    took = time.monotonic() - started
                    assert result.ok, result.verdict
                    figures[label].append(took)
        print(
            f"scale 1/{SCALE:g}: reconcile {RECONCILE:g}s (Argo CD's 180s), "
            f"sync {SYNC:.2f}s, rollout {HEALTH:.2f}s; polling is not scaled (0.5s growing to 5s)"
        )
        print(
            f"floor (sync + rollout): {SYNC + HEALTH:.2f}s; "
            f"poll-only adds up to one reconcile ({RECONCILE:g}s)"
        )
        print(f"{'commit -> Healthy':18} {'median':>8} {'min':>8} {'max':>8}   ({rounds} rounds)")
        for label, values in figures.items():
            print(f"{label:18} {statistics.median(values):7.2f}s {min(values):7.2f}s {max(values):7.2f}s")


def _descends(bare: Path, commit: str, revision: str) -> bool:
    try:
        git("merge-base", "--is-ancestor", commit, revision, cwd=bare)
    except Exception:
        return False
    return True


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 5)
