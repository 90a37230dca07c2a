"""A GitOps repository on the loopback GitHub, and `updater` run against it as a subprocess.

Every app's image is the same OCI image layout on disk (two tags, OLD and NEW), so a bump of any
number of apps resolves without a network registry; the GitHub side is testing/github_server.py
(GitHub's published REST/GraphQL API over a real bare git repository).
"""

from __future__ import annotations

import json
import subprocess
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from testing.cli import run
from testing.github_server import GitHubServer, start_github
from testing.oci_layout import LayoutImage, build_layout, utc

TOKEN = "ghp_" + "G1tOps" * 7
SHA = "4f9e2d1c0b3a5968778695a4b3c2d1e0f9a8b7c6"
OLD, NEW = "stage-0a1b2c3-1700000000", "stage-4f9e2d1-1700003600"
NEWER = "stage-9c8b7a6-1700007200"
NEWER_SHA = "9c8b7a6d5e4f30211203f4e5d6c7b8a9f0e1d2c3"


def values(app: str, tag: str) -> bytes:
    return f"image:\n  repository: example/{app}\n  tag: {tag}  # set by updater\n".encode()


def app_names(count: int) -> list[str]:
    return [f"app{i:02d}" for i in range(count)]


@dataclass
class GitOps:
    server: GitHubServer
    config: Path
    digests: dict[str, str]  # tag -> digest

    def run(
        self, *args: str, env: Mapping[str, str] | None = None, token: bool = True
    ) -> subprocess.CompletedProcess[str]:
        """Run `updater ARGS --config CONFIG` with GITHUB_TOKEN and GITHUB_API_URL (unless `token` is off)."""
        base = {"UPDATER_RETRY_BUDGET": "5", "GITHUB_TOKEN": "", "GITHUB_API_URL": ""}
        if token:
            base.update(GITHUB_TOKEN=TOKEN, GITHUB_API_URL=self.server.url)
        return run(*args, "--config", str(self.config), env={**base, **(env or {})})

    def bump(self, *args: str, sha: str = SHA) -> dict[str, object]:
        """Run `updater bump --env production --sha SHA --json ARGS`; assert exit 0 and no token in the
        output; return the JSON result."""
        done = self.run("bump", "--env", "production", "--sha", sha, "--json", *args)
        assert done.returncode == 0, done.stderr
        assert TOKEN not in done.stdout + done.stderr
        result: dict[str, object] = json.loads(done.stdout)
        return result

    def call_log(self) -> list[str]:
        """The requests since the last reset: "METHOD /path" for REST, "POST query" / "POST mutation
        createRef,..." for GraphQL."""
        return [f"{method} {what}" for _, method, what in self.server.log]

    def calls(self) -> int:
        counts = self.server.counts()
        return counts["rest"] + counts["graphql"]

    def commits(self, branch: str) -> int:
        """Commits on `branch` since the repository was created."""
        oid = self.server.state.ref_oid(branch)
        count = 0
        while oid:
            count += 1
            parents = self.server.repo.commit(oid).parents
            oid = parents[0] if parents else None
        return count - 1


@contextmanager
def gitops(
    tmp: Path,
    count: int,
    *,
    branch: str | None = "main",
    mode: str = "pull-request",
    default_branch: str = "main",
    extra: str = "",
) -> Iterator[GitOps]:
    """Yield `count` apps whose production values are at OLD, on a loopback GitHub; the registry has
    OLD, NEW and NEWER. `branch` None leaves the environment on the repository's default branch."""
    layout = tmp / "registry" / "image"
    digests = build_layout(
        layout,
        [
            LayoutImage([OLD], utc(2023, 11, 14, 22)),
            LayoutImage([NEW], utc(2023, 11, 14, 23)),
            LayoutImage([NEWER], utc(2023, 11, 15, 0)),
        ],
    )
    on = f"branch: {branch}, " if branch else ""
    apps = "".join(
        f"  {app}:\n    image: oci:{layout}\n    values: {{production: k8s/{app}/values-prod.yaml}}\n"
        "    key: image.tag\n"
        for app in app_names(count)
    )
    config = (
        "version: 1\nscm: {provider: github, repository: acme/gitops}\n"
        f'environments:\n  production: {{{on}mode: {mode}, tag: "stage-{{sha:7}}-*"}}\n'
        f"{extra}apps:\n{apps}"
    )
    files = {f"k8s/{app}/values-prod.yaml": values(app, OLD) for app in app_names(count)}
    files[".updater.yaml"] = config.encode()
    (tmp / ".updater.yaml").write_text(config)
    with start_github(tmp / "github", files, token=TOKEN, branch=default_branch) as server:
        yield GitOps(server, tmp / ".updater.yaml", dict(digests))
        assert server.validation_errors == []
