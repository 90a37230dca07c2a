"""`load`: read `.updater.yaml` and refuse a bad config with FILE:LINE:COL.

The shape is declared once in `updater.config.schema`; `parse` checks it structurally (with
ruamel.yaml, imported only when a config is loaded), then `checks` and `apps` check what a
schema cannot (environment names, paths that stay inside the repository, key paths, regexes, templates,
two apps writing one value) while this module assembles the frozen model.
"""

from __future__ import annotations

import os
from pathlib import Path

from updater.config.apps import Claims, build_app
from updater.config.checks import build_environments, build_scm, check_branch, check_template
from updater.config.deploy import build_deploy
from updater.config.model import (
    CONFIG_NAME,
    CommitSettings,
    Config,
    ConfigError,
    PullRequestSettings,
    RegistrySettings,
)
from updater.config.parse import Loaded, load_data
from updater.config.schema import BRANCH_FIELDS, CONFIG, MESSAGE_FIELDS
from updater.infra import safeio
from updater.infra.errors import InputError
from updater.scm.base import Author


def load_config(path: str | None) -> Config:
    """Return the config at `path`, or the .updater.yaml found from the current directory up."""
    return load(Path(path) if path else find_config(Path.cwd()))


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
    if not path.exists():
        raise ConfigError(f"{path}: no such file; create it or pass --config PATH")
    if path.is_dir():
        raise ConfigError(f"{path}: is a directory; pass the path of the .updater.yaml file")
    try:
        # Regular files only (a FIFO would block), within safeio's size limit.
        text = safeio.read_regular(path).decode("utf-8")
    except InputError as exc:
        raise ConfigError(exc.message) from None
    except UnicodeDecodeError as exc:
        before = exc.object[: exc.start]
        line, column = before.count(b"\n") + 1, exc.start - before.rfind(b"\n")
        raise ConfigError(f"{path}:{line}:{column}: not UTF-8; save the file as UTF-8") from None
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read: {exc.strerror}") from None
    return _build(path, load_data(str(path), text, CONFIG))


def _build(path: Path, loaded: Loaded) -> Config:
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
    claims: Claims = {}
    apps = {
        name: build_app(loaded, root, environments, name, spec, claims) for name, spec in data["apps"].items()
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
        deploy=build_deploy(loaded, root, data.get("deploy"), list(apps), environments),
        lines={key: mark.line for key, mark in loaded.marks.items()},
    )
