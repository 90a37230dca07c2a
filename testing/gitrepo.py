"""Real git repositories and bare remotes in tmp dirs, for the scm and end-to-end tests."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from testing.oci_layout import LayoutImage, build_layout, utc

# A fixed identity so that tests never depend on the machine's git config.
ENV = {
    "GIT_AUTHOR_NAME": "Test Author",
    "GIT_AUTHOR_EMAIL": "author@example.test",
    "GIT_COMMITTER_NAME": "Test Author",
    "GIT_COMMITTER_EMAIL": "author@example.test",
}


def git(*args: str, cwd: str | os.PathLike[str]) -> str:
    """Run git in `cwd` and return its stdout (raises CalledProcessError with stderr on failure)."""
    result = subprocess.run(
        ["git", *args],
        cwd=cwd,
        env={**os.environ, **ENV},
        capture_output=True,
        text=True,
    )
    if result.returncode != 0:
        raise subprocess.CalledProcessError(result.returncode, ["git", *args], result.stdout, result.stderr)
    return result.stdout


@dataclass(frozen=True)
class Remote:
    """A bare repository standing in for the GitOps remote, and a working clone of it."""

    bare: Path
    work: Path

    @property
    def url(self) -> str:
        return str(self.bare)

    def head(self, branch: str = "main") -> str:
        return git("rev-parse", f"refs/heads/{branch}", cwd=self.bare).strip()

    def show(self, path: str, branch: str = "main") -> bytes:
        """Return the bytes of `path` at the head of `branch` in the bare remote."""
        return subprocess.run(
            ["git", "show", f"refs/heads/{branch}:{path}"], cwd=self.bare, capture_output=True, check=True
        ).stdout

    def log(self, branch: str = "main") -> list[str]:
        """Return the subjects on `branch`, newest first."""
        return git("log", "--format=%s", f"refs/heads/{branch}", cwd=self.bare).splitlines()

    def count(self, branch: str = "main") -> int:
        return int(git("rev-list", "--count", f"refs/heads/{branch}", cwd=self.bare))

    def is_linear(self, branch: str = "main") -> bool:
        """True when no commit on `branch` has more than one parent."""
        return git("rev-list", "--min-parents=2", f"refs/heads/{branch}", cwd=self.bare).strip() == ""

    def commit(self, files: Mapping[str, bytes | str], message: str, branch: str = "main") -> str:
        """Commit `files` on `branch` from the working clone and push it; return the new head."""
        git("fetch", "-q", "origin", cwd=self.work)
        git("checkout", "-q", "-B", branch, f"origin/{branch}", cwd=self.work)
        _write(self.work, files)
        git("add", "-A", cwd=self.work)
        git("commit", "-q", "-m", message, cwd=self.work)
        git("push", "-q", "origin", f"HEAD:refs/heads/{branch}", cwd=self.work)
        return self.head(branch)


def _write(root: Path, files: Mapping[str, bytes | str]) -> None:
    for name, content in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(content.encode() if isinstance(content, str) else content)


def make_remote(tmp: Path, files: Mapping[str, bytes | str], branches: tuple[str, ...] = ("main",)) -> Remote:
    """Create bare `tmp/remote.git` holding `files` in one commit on every branch, and clone `tmp/work`."""
    tmp.mkdir(parents=True, exist_ok=True)
    bare = tmp / "remote.git"
    work = tmp / "work"
    git("init", "-q", "--bare", "-b", branches[0], str(bare), cwd=tmp)
    git("init", "-q", "-b", branches[0], str(work), cwd=tmp)
    _write(work, files)
    git("add", "-A", cwd=work)
    git("commit", "-q", "-m", "initial layout", cwd=work)
    git("remote", "add", "origin", str(bare), cwd=work)
    for branch in branches:
        git("push", "-q", "origin", f"HEAD:refs/heads/{branch}", cwd=work)
    git("branch", "-q", "--set-upstream-to", f"origin/{branches[0]}", cwd=work)
    return Remote(bare=bare, work=work)


def reject_pushes(remote: Remote, message: str = "pushes are frozen") -> None:
    """Install a pre-receive hook that refuses every push: a push that fails for good."""
    hook = remote.bare / "hooks" / "pre-receive"
    hook.write_text(f"#!/bin/sh\necho '{message}' >&2\nexit 1\n")
    hook.chmod(0o755)


# --- a small two-environment GitOps repo over OCI layout registries -----------------------------
SHA = "4f9e2d1c0b3a5968778695a4b3c2d1e0f9a8b7c6"
TAGS = ("stage-0a1b2c3-1700000000", "stage-1b2c3d4-1700001800", "stage-4f9e2d1-1700003600")


@dataclass(frozen=True)
class GitOps:
    """A GitOps remote with apps `api` (key) and `web` (separate image per env, digest recorded)."""

    remote: Remote
    registry: Path
    digests: dict[str, dict[str, str]]  # layout name -> tag -> digest

    def values(self, app: str, env: str) -> bytes:
        return self.remote.show(f"k8s/{app}/values-{env}.yaml")


def two_env_gitops(tmp: Path, *, prod_tags: tuple[str, ...] = TAGS[:2]) -> GitOps:
    """Build the repo: staging and production both at TAGS[0]; registries hold TAGS (prod: `prod_tags`)."""
    registry = tmp / "registry"
    digests: dict[str, dict[str, str]] = {}
    for name, tags in (("api", TAGS), ("web-stage", TAGS), ("web-prod", prod_tags)):
        images = [
            LayoutImage(tags=[tag], created=utc(2023, 11, 14, 22 + i // 2, 30 * (i % 2)))
            for i, tag in enumerate(tags)
        ]
        digests[name] = build_layout(registry / name, images)
    config = f"""version: 1
scm: {{provider: git}}
environments:
  staging: {{branch: main, tag: "stage-{{sha:7}}-*"}}
  production: {{branch: main, promote-from: staging}}
apps:
  api:
    image: oci:{registry / "api"}
    values: {{staging: k8s/api/values-staging.yaml, production: k8s/api/values-production.yaml}}
    key: image.tag
  web:
    image: {{staging: "oci:{registry / "web-stage"}", production: "oci:{registry / "web-prod"}"}}
    values: {{staging: k8s/web/values-staging.yaml, production: k8s/web/values-production.yaml}}
    key: web.tag
    digest: web.digest
"""
    files: dict[str, str] = {".updater.yaml": config}
    for env in ("staging", "production"):
        files[f"k8s/api/values-{env}.yaml"] = f"image:\n  repository: example/api\n  tag: {TAGS[0]}\n"
        files[f"k8s/web/values-{env}.yaml"] = f"web:\n  tag: '{TAGS[0]}'\n  digest: ''\n  replicas: 2\n"
    return GitOps(make_remote(tmp / "git", files), registry, digests)
