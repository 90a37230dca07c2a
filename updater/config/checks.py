"""The checks `updater.config` runs after the structural pass: names, templates, regexes, paths.

Each raises a ConfigError at the offending node ("FILE:LINE:COL: KEY: problem; what to do").
"""

from __future__ import annotations

import difflib
import os
import posixpath
import re
import string
from pathlib import Path
from typing import Any

from updater.config.model import Environment, Scm, TagPolicy
from updater.config.parse import Loaded, Path_
from updater.domain.keypath import KeyPathError, parse_key_path
from updater.domain.semver import parse_range
from updater.domain.tags import PLACEHOLDER, template_problem
from updater.infra.errors import InputError

_SCM_KEYS = {"repository": "github", "github-url": "github", "url": "git"}


def build_scm(loaded: Loaded, data: dict[str, Any]) -> Scm:
    """Return the scm settings, refusing keys that the chosen provider does not use."""
    provider = data.get("provider", "git")
    for key, owner in _SCM_KEYS.items():
        if key in data and provider != owner:
            raise loaded.error(
                ("scm", key), f"only used with provider {owner}; remove it or set provider: {owner}"
            )
    github_url = data.get("github-url")
    if github_url is not None and not re.match(r"^https?://[^/\s]+", github_url):
        message = f'"{github_url}" is not an http(s) URL; use e.g. https://ghe.example.com/api/v3'
        raise loaded.error(("scm", "github-url"), message, at_value=True)
    return Scm(provider, data.get("repository"), data.get("url"), github_url)


def build_environments(loaded: Loaded, data: dict[str, Any]) -> dict[str, Environment]:
    """Return the environments, with promote-from, branch and tag policy checked."""
    environments = {}
    for name, spec in data.items():
        source = spec.get("promote-from")
        if source is not None:
            check_env_name(loaded, ("environments", name, "promote-from"), source, list(data))
            if source == name:
                message = "an environment cannot promote from itself; name another environment"
                raise loaded.error(("environments", name, "promote-from"), message, at_value=True)
        if "branch" in spec:
            check_branch(loaded, ("environments", name, "branch"), spec["branch"], template=False)
        environments[name] = Environment(
            name=name,
            branch=spec.get("branch"),
            mode=spec.get("mode", "commit"),
            tag=tag_policy(loaded, ("environments", name, "tag"), spec.get("tag")),
            promote_from=source,
            frozen=spec.get("frozen", False),
            line=loaded.mark(("environments", name)).line,
        )
    return environments


MERGING_PROVIDERS = ("github",)


def check_modes(loaded: Loaded, scm: Scm, environments: dict[str, Environment]) -> None:
    """Refuse mode auto-merge where the provider cannot merge a pull request (git, files)."""
    for name, env in environments.items():
        if env.mode == "auto-merge" and scm.provider not in MERGING_PROVIDERS:
            message = (
                f"auto-merge needs a provider that merges pull requests (github); provider "
                f"{scm.provider} cannot: use mode pull-request or commit"
            )
            raise loaded.error(("environments", name, "mode"), message, at_value=True)


def check_env_name(
    loaded: Loaded, path: Path_, name: str, known: list[str], *, at_value: bool = True
) -> None:
    """Raise a ConfigError at `path` (its value, or its key) unless `name` is a `known` environment."""
    if name in known:
        return
    close = [env for env in known if env.startswith(name) or name.startswith(env)]
    close = close or difflib.get_close_matches(name, known, n=1)
    hint = f'did you mean "{close[0]}"?' if close else f"define it under environments ({', '.join(known)})"
    raise loaded.error(path, f'unknown environment "{name}"; {hint}', at_value=at_value)


_DURATION = {"s": 1.0, "m": 60.0, "h": 3600.0}


def tag_policy(loaded: Loaded, path: Path_, data: str | dict[str, Any] | None) -> TagPolicy:
    """Return the policy of a `tag:` value (a template shorthand or a mapping), checked."""
    if data is None:
        return TagPolicy()
    if isinstance(data, str):
        check_tag_template(loaded, path, data)
        return TagPolicy(template=data)
    kind = data.get("strategy") or _implied_strategy(loaded, path, data)
    needs = {"template": "template", "digest": "tag", "semver": "range"}
    for key in ("template", "tag", "range"):
        if key in data and needs.get(kind) != key:
            raise loaded.error((*path, key), f"not used by strategy {kind}; remove it")
    if kind == "template" and "template" not in data:
        raise loaded.error(path, 'strategy template needs a "template" key, e.g. template: "{sha:7}"')
    if "template" in data:
        check_tag_template(loaded, (*path, "template"), data["template"])
    exclude = data.get("exclude", ())
    exclude = (exclude,) if isinstance(exclude, str) else tuple(exclude)
    for index, pattern in enumerate(exclude):
        _check_regex(loaded, (*path, "exclude", index) if "exclude" in data else path, pattern)
    include = data.get("include")
    if include is not None:
        _check_regex(loaded, (*path, "include"), include)
    if "range" in data:
        _check_range(loaded, (*path, "range"), data["range"])
    wait = data.get("wait", 0)
    if isinstance(wait, str):
        unit = wait[-1] if wait[-1] in _DURATION else "s"
        wait = float(wait.rstrip("smh")) * _DURATION[unit]
    return TagPolicy(
        kind=kind,
        template=data.get("template"),
        tag=data.get("tag"),
        include=include,
        exclude=exclude,
        range=data.get("range"),
        wait=float(wait),
    )


def _implied_strategy(loaded: Loaded, path: Path_, data: dict[str, Any]) -> str:
    for key, kind in (
        ("template", "template"),
        ("tag", "digest"),
        ("range", "semver"),
        ("include", "newest"),
    ):
        if key in data:
            return kind
    raise loaded.error(
        path, "no strategy; add strategy: template|digest|newest|semver|alphabetical|numerical"
    )


def _check_regex(loaded: Loaded, path: Path_, pattern: str) -> int:
    """Return the number of capture groups of `pattern`, or raise a ConfigError at `path`."""
    try:
        return re.compile(pattern).groups
    except re.error as exc:
        raise loaded.error(
            path, f"invalid regular expression: {exc}; fix the pattern", at_value=True
        ) from None


def check_template(loaded: Loaded, path: Path_, text: str, fields: tuple[str, ...]) -> None:
    """Raise a ConfigError unless `text` is a str.format template using only `fields`."""
    allowed = ", ".join("{" + name + "}" for name in fields)
    try:
        names = [name for _, name, _, _ in string.Formatter().parse(text) if name is not None]
    except ValueError as exc:
        message = f"invalid template {text!r}: {exc}; write {allowed}, and {{{{ }}}} for literal braces"
        raise loaded.error(path, message, at_value=True) from None
    for name in names:
        if name not in fields:
            message = f"unknown placeholder {{{name}}} in {text!r}; use {allowed}"
            raise loaded.error(path, message, at_value=True)


def check_tag_template(loaded: Loaded, path: Path_, text: str) -> None:
    """Raise a ConfigError unless `text` renders to a valid tag ({sha}, {sha:N}, {app}, ..., `*`)."""
    problem = template_problem(text)
    if problem:
        raise loaded.error(path, problem, at_value=True)


def _check_range(loaded: Loaded, path: Path_, text: str) -> None:
    try:
        parse_range(text)
    except InputError as exc:
        raise loaded.error(path, exc.message, at_value=True) from None


_REF_PART = r"[A-Za-z0-9_][A-Za-z0-9_.+-]*"


def check_branch(loaded: Loaded, path: Path_, text: str, *, template: bool = True) -> None:
    """Raise a ConfigError unless `text` (with placeholders filled) is a plain git branch name."""
    name = PLACEHOLDER.sub("x", text) if template else text
    if not re.fullmatch(f"{_REF_PART}(/{_REF_PART})*", name) or ".." in name or name.endswith((".lock", ".")):
        message = f"\"{text}\" is not a usable branch name; use letters, digits, '-', '_', '.' and '/'"
        raise loaded.error(path, message, at_value=True)


def check_key_path(loaded: Loaded, path: Path_, text: str) -> None:
    """Raise a ConfigError unless `text` follows the key-path grammar."""
    try:
        parse_key_path(text)
    except KeyPathError as exc:
        message = f'invalid key path "{text}": {exc}; write e.g. image.tag, containers[0].image or "a.b".tag'
        raise loaded.error(path, message, at_value=True) from None


def check_file(loaded: Loaded, root: Path, path: Path_, text: str) -> str:
    """Return `text` as a normalised repository-relative path, refusing anything leading outside `root`."""
    fix = f"use a path relative to the repository root {root}"
    if not text.strip():
        raise loaded.error(path, f"empty path; {fix}", at_value=True)
    if text.startswith("/") or re.match(r"^[A-Za-z]:[\\/]", text) or text.startswith("~"):
        raise loaded.error(path, f'"{text}" is absolute; {fix}', at_value=True)
    normal = posixpath.normpath(text)
    if normal == ".." or normal.startswith("../"):
        raise loaded.error(path, f'"{text}" is outside the repository; {fix}', at_value=True)
    if normal == ".":
        raise loaded.error(path, f'"{text}" is the repository itself; name a file', at_value=True)
    on_disk = root / normal
    if os.path.lexists(on_disk):
        real = on_disk.resolve()
        if not real.is_relative_to(root):
            message = f'"{text}" is a symlink to {real}, outside the repository; {fix}'
            raise loaded.error(path, message, at_value=True)
        if real.is_dir():
            raise loaded.error(path, f'"{text}" is a directory; name a YAML file', at_value=True)
        if real != on_disk:
            # Backends read blobs by path: a link's blob is its target's name, not YAML.
            message = f'"{text}" is a symlink to {real.relative_to(root).as_posix()}; name that file instead'
            raise loaded.error(path, message, at_value=True)
    return normal
