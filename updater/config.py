"""`.updater.yaml`: the model the use cases read, and `load`, which refuses a bad config with FILE:LINE:COL.

The shape is declared once in `updater.config_schema`; `_configload` checks it structurally (with
ruamel.yaml, imported only when a config is loaded), then `_configcheck` and `_configapps` check what a
schema cannot (environment names, paths that stay inside the repository, key paths, regexes, templates,
two apps writing one value) while this module assembles the frozen model.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from updater.errors import InputError
from updater.scm.base import Author

if TYPE_CHECKING:
    from updater._configload import Loaded

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
    images: dict[str, str]  # env -> image repository
    targets: dict[str, tuple[Target, ...]]  # env -> targets; the app is deployed to exactly these envs
    tag: dict[str, TagPolicy]  # env -> policy overriding the environment's; empty: none
    record_digest: bool = False
    line: int = 0


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

    def where(self, *keys: str | int) -> str:
        """Return "FILE:LINE" of a config node (or its nearest configured ancestor) for later errors."""
        path = tuple(keys)
        while path and path not in self.lines:
            path = path[:-1]
        return f"{self.path}:{self.lines.get(path, 1)}"


def find_config(start: Path) -> Path:
    """Return the .updater.yaml in `start` or a parent, stopping at the git root."""
    here = start.resolve()
    for directory in (here, *here.parents):
        candidate = directory / CONFIG_NAME
        if candidate.is_file():
            return candidate
        if (directory / ".git").exists():
            raise ConfigError(
                f"{here}: no {CONFIG_NAME} up to the repository root {directory}; "
                f"create one at the root (updater config schema describes it) or pass --config PATH"
            )
    raise ConfigError(f"{here}: no {CONFIG_NAME} here or in any parent; create one or pass --config PATH")


def repo_root(directory: Path) -> Path:
    """Return the git work tree holding `directory` (the nearest ancestor with .git), else `directory`.

    Paths in the config are relative to this root wherever the config sits, because every backend
    (a git clone, the GitHub API) addresses files from the repository root.
    """
    for candidate in (directory, *directory.parents):
        if (candidate / ".git").exists():
            return candidate
    return directory


def load(path: Path) -> Config:
    """Return the config in `path`, or raise ConfigError naming FILE:LINE:COL, the key and the fix."""
    from updater import _configload, config_schema

    try:
        text = path.read_bytes().decode("utf-8")
    except FileNotFoundError:
        raise ConfigError(f"{path}: no such file; create it or pass --config PATH") from None
    except IsADirectoryError:
        raise ConfigError(f"{path}: is a directory; pass the path of the .updater.yaml file") from None
    except UnicodeDecodeError as exc:
        before = exc.object[: exc.start]
        line, column = before.count(b"\n") + 1, exc.start - before.rfind(b"\n")
        raise ConfigError(f"{path}:{line}:{column}: not UTF-8; save the file as UTF-8") from None
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read: {exc.strerror}") from None
    return _build(path, _configload.load_data(str(path), text, config_schema.CONFIG))


def _build(path: Path, loaded: Loaded) -> Config:
    from updater import _configapps
    from updater._configcheck import build_environments, build_scm, check_branch, check_template
    from updater.config_schema import BRANCH_FIELDS, MESSAGE_FIELDS

    data = loaded.data
    root = repo_root(Path(os.path.abspath(path)).parent.resolve())
    scm = build_scm(loaded, data.get("scm") or {})
    registry = data.get("registry") or {}
    commit = data.get("commit") or {}
    pr = data.get("pull-request") or {}
    if "message" in commit:
        check_template(loaded, ("commit", "message"), commit["message"], MESSAGE_FIELDS)
    for key in ("title", "body"):
        if key in pr:
            check_template(loaded, ("pull-request", key), pr[key], MESSAGE_FIELDS)
    if "branch" in pr:
        check_template(loaded, ("pull-request", "branch"), pr["branch"], BRANCH_FIELDS)
        check_branch(loaded, ("pull-request", "branch"), pr["branch"])
    environments = build_environments(loaded, data["environments"])
    claims: _configapps.Claims = {}
    apps = {
        name: _configapps.build_app(loaded, root, environments, name, spec, claims)
        for name, spec in data["apps"].items()
    }
    author = commit.get("author")
    return Config(
        path=path,
        root=root,
        scm=scm,
        registry=RegistrySettings(
            api=registry.get("api", "auto"),
            insecure=tuple(registry.get("insecure", ())),
            platform=registry.get("platform"),
        ),
        commit=CommitSettings(
            author=Author(author["name"], author["email"]) if author else None,
            message=commit.get("message"),
        ),
        pull_request=PullRequestSettings(
            title=pr.get("title"),
            body=pr.get("body"),
            labels=tuple(pr.get("labels", ())),
            reviewers=tuple(pr.get("reviewers", ())),
            team_reviewers=tuple(pr.get("team-reviewers", ())),
            assignees=tuple(pr.get("assignees", ())),
            draft=pr.get("draft", False),
            merge_method=pr.get("merge-method", "squash"),
            branch=pr.get("branch", "updater/{env}/{app}"),
        ),
        environments=environments,
        apps=apps,
        lines={key: mark.line for key, mark in loaded.marks.items()},
    )
