"""`.updater.yaml`: the frozen model the use cases read (built and checked by `updater.config.loader`)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from updater.deploy.settings import DeploySettings
from updater.infra.errors import InputError
from updater.scm.base import Author

CONFIG_NAME = ".updater.yaml"


class ConfigError(InputError):
    """A config that cannot be used; the message names FILE:LINE:COL and the key (exit 2)."""


@dataclass(frozen=True)
class Scm:
    provider: str = "git"  # github | git | files
    repository: str | None = None  # owner/name (github; default $GITHUB_REPOSITORY)
    url: str | None = None  # git remote URL or path (git; default: the repository holding the config)
    github_url: str | None = None  # GitHub Enterprise API URL (default $GITHUB_API_URL or api.github.com)


@dataclass(frozen=True)
class RegistrySettings:
    api: str = "auto"  # auto | oci | artifact-registry
    insecure: tuple[str, ...] = ()  # hosts reached over plain HTTP
    platform: str | None = None  # e.g. linux/amd64, for multi-arch images


@dataclass(frozen=True)
class CommitSettings:
    author: Author | None = None  # None: from the environment (git config, CI)
    message: str | None = None  # template; None: the use case's default


@dataclass(frozen=True)
class PullRequestSettings:
    title: str | None = None  # templates; None: the use case's default
    body: str | None = None
    labels: tuple[str, ...] = ()
    reviewers: tuple[str, ...] = ()
    team_reviewers: tuple[str, ...] = ()
    assignees: tuple[str, ...] = ()
    draft: bool = False
    merge_method: str = "squash"  # merge | squash | rebase
    branch: str = "updater/{env}/{app}"  # head branch template


@dataclass(frozen=True)
class TagPolicy:
    """How a tag is chosen; the fields mirror `updater.resolve.Strategy` one to one."""

    kind: str = "template"  # template | digest | newest | semver | alphabetical | numerical
    template: str | None = None  # None: nothing configured, the command line decides
    tag: str | None = None
    include: str | None = None
    exclude: tuple[str, ...] = ()
    range: str | None = None
    wait: float = 0.0  # seconds


@dataclass(frozen=True)
class Environment:
    name: str
    branch: str | None  # None: the repository's default branch
    mode: str = "commit"  # commit | pull-request | auto-merge
    tag: TagPolicy = field(default_factory=TagPolicy)
    promote_from: str | None = None
    frozen: bool = False
    line: int = 0


@dataclass(frozen=True)
class Target:
    """One place in one file: exactly one of key, image, marker is set."""

    file: str  # repository-relative, normalised, checked to stay inside the repository
    key: str | None = None  # key path (validated syntax)
    image: str | None = None  # image repository to find in the file
    marker: str | None = None  # marker comment name
    document: int | None = None
    digest_key: str | None = None  # key path receiving the digest (None: tag@sha256:... when recording)
    line: int = 0  # config line of the locator, for errors raised later


@dataclass(frozen=True)
class App:
    name: str
    images: dict[str, str]  # env -> image repository (the first, when several share the value)
    targets: dict[str, tuple[Target, ...]]  # env -> targets; the app is deployed to exactly these envs
    tag: dict[str, TagPolicy]  # env -> policy overriding the environment's; empty: none
    record_digest: bool = False
    line: int = 0
    # env -> the other images that share the tag value (`image: [a, b, c]`): each must have the tag
    more_images: dict[str, tuple[str, ...]] = field(default_factory=dict)


@dataclass(frozen=True)
class Config:
    path: Path
    root: Path  # the repository root (the git work tree holding the config, else its directory), absolute
    scm: Scm
    registry: RegistrySettings
    commit: CommitSettings
    pull_request: PullRequestSettings
    environments: dict[str, Environment]
    apps: dict[str, App]
    lines: Mapping[tuple[str | int, ...], int] = field(default_factory=dict, repr=False, compare=False)
    deploy: DeploySettings | None = None  # Argo CD (None: no deploy section)

    def where(self, *keys: str | int) -> str:
        """Return "FILE:LINE" of a config node (or its nearest configured ancestor) for later errors."""
        path = tuple(keys)
        while path and path not in self.lines:
            path = path[:-1]
        return f"{self.path}:{self.lines.get(path, 1)}"
