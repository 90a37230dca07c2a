"""`make demo`: the whole job on embedded defaults, offline, in a throwaway directory.

It builds a GitOps repository from examples/gitops (several apps, values-stage.yaml /
values-prod.yaml in the shapes real monorepos use, and .updater.yaml) behind a bare "remote", and one
OCI image layout per image standing in for the registry. Then it runs the real CLI, as CI would:
bump staging to the images built from one commit, bump again (a no-op), promote staging to
production, show the status, roll one app back in production and show its history, and prints the
diffs and the git log. Nothing leaves the machine.

    python examples/demo.py [--out DIR]      (default: ./demo-out, wiped first)
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import time
from datetime import datetime, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # run from a plain checkout too: this tree's updater and testing helpers

from testing.oci_layout import LayoutImage, build_layout  # noqa: E402
from updater.config import load  # noqa: E402

EXAMPLE = ROOT / "examples" / "gitops"
# The commit CI built and the builds already in the registry: CI tags "stage-<sha:7>-<unix time>".
SOURCE_SHA = "4f9e2d1c0b3a5968778695a4b3c2d1e0f9a8b7c6"
BUILDS = (("0a1b2c3", 1763290000), ("9d8c7b6", 1763500000), ("4f9e2d1", 1763700000))
GIT_ENV = {
    "GIT_AUTHOR_NAME": "Dana Developer",
    "GIT_AUTHOR_EMAIL": "dana@example.com",
    "GIT_COMMITTER_NAME": "Dana Developer",
    "GIT_COMMITTER_EMAIL": "dana@example.com",
}


def git(*args: str, cwd: Path) -> str:
    env = {**os.environ, **GIT_ENV}
    return subprocess.run(["git", *args], cwd=cwd, env=env, check=True, capture_output=True, text=True).stdout


def build_registry(out: Path, images: set[str]) -> dict[str, str]:
    """Write one OCI layout per image holding every build (plus `latest`); return image -> oci:DIR."""
    refs = {}
    for image in sorted(images):
        directory = out / "registry" / image.rsplit("/", 1)[-1]
        builds = []
        for i, (sha, unix) in enumerate(BUILDS):
            tags = [f"stage-{sha}-{unix}"] + (["latest"] if i == len(BUILDS) - 1 else [])
            created = datetime.fromtimestamp(unix, tz=timezone.utc)
            builds.append(LayoutImage(tags=tags, created=created, content=f"{image} {sha}"))
        build_layout(directory, builds)
        refs[image] = f"oci:{directory}"
    return refs


def build_repo(out: Path, refs: dict[str, str]) -> tuple[Path, Path]:
    """Copy examples/gitops into a clone of a new bare remote, images pointed at the layouts; push it."""
    remote, work = out / "remote.git", out / "gitops"
    git("init", "-q", "--bare", "-b", "main", str(remote), cwd=out)
    shutil.copytree(EXAMPLE, work)
    config = work / ".updater.yaml"
    text = config.read_text()
    for image, ref in refs.items():  # only the apps' `image:` entries, not `image-locator:`
        text = re.sub(
            rf"^(\s*(?:image|staging|production): ){re.escape(image)}$", rf"\g<1>{ref}", text, flags=re.M
        )
    config.write_text(text)
    git("init", "-q", "-b", "main", cwd=work)
    git("add", "-A", cwd=work)
    git("commit", "-q", "-m", "GitOps repository from examples/gitops", cwd=work)
    git("remote", "add", "origin", str(remote), cwd=work)
    git("push", "-q", "-u", "origin", "main", cwd=work)
    return remote, work


def updater(*args: str, cwd: Path) -> None:
    """Run the real CLI the way CI does, echoing the command and its output; stop on failure."""
    print(f"\n$ updater {' '.join(args)}", flush=True)
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    for name in ("GITHUB_SHA", "CIRCLE_SHA1", "GITHUB_RUN_ID", "CIRCLE_BUILD_URL", "UPDATER_DEBUG"):
        env.pop(name, None)
    result = subprocess.run(
        [sys.executable, "-m", "updater", *args], cwd=cwd, env=env, text=True, capture_output=True
    )
    print(result.stdout, end="")
    print(result.stderr, end="", file=sys.stderr)
    if result.returncode != 0:
        raise SystemExit(f"demo: `updater {' '.join(args)}` failed with exit {result.returncode}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path("demo-out"), help="Work directory (wiped first).")
    out = parser.parse_args().out.resolve()
    start = time.monotonic()
    if out.exists():
        shutil.rmtree(out)
    out.mkdir(parents=True)
    images = {image for app in load(EXAMPLE / ".updater.yaml").apps.values() for image in app.images.values()}
    refs = build_registry(out, images)
    remote, work = build_repo(out, refs)
    print(
        f"demo: GitOps repo {work} (remote {remote}),\n"
        f"      {len(refs)} images in OCI layouts under {out / 'registry'}"
    )

    updater("status", cwd=work)
    updater("bump", "--env", "staging", "--sha", SOURCE_SHA, cwd=work)
    updater("bump", "--env", "staging", "--sha", SOURCE_SHA, cwd=work)
    updater("promote", "--from", "staging", "--to", "production", cwd=work)
    updater("status", cwd=work)
    updater("rollback", "--env", "production", "--app", "calibrate", cwd=work)
    updater("history", "--env", "production", "--app", "calibrate", cwd=work)

    print("\n$ git log --stat (the remote)")
    print(git("log", "--stat", "--format=%h %an: %s%n%n%b", "main", cwd=remote).strip())
    print(f"\ndemo: done in {time.monotonic() - start:.1f}s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
