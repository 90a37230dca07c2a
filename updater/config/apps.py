"""Build an `App` from its checked config data: images, files and locators per environment.

The rules, so that the common case stays short:
- `values` is one path or a list (every environment) or a mapping per environment;
- the shorthand locators (`key`, `image-locator`, `marker`) apply to every values file of the
  environment; `targets` entries name their own `file` (default: the values files) and `env`;
- `overrides.ENV` replaces the locators (and the tag policy) in one environment;
- with no locator at all, the tag is found by the app's image in each file (`image-locator: true`);
- `image` may list several images sharing one value (one `images.tag` for three containers): the
  first is the one the tag is resolved in, every other must have the same tag; a digest can then not
  be recorded in the file (one place cannot hold several);
- the app is deployed to exactly the environments that end up with targets, and needs an image in each.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from updater.config.checks import check_env_name, check_file, check_key_path, tag_policy
from updater.config.model import App, Environment, TagPolicy, Target
from updater.config.parse import Loaded, Path_, dotted
from updater.domain.keypath import format_key_path, parse_key_path

_LOCATOR_KEYS = ("key", "image-locator", "marker", "targets")
File = tuple[str, Path_]  # normalised file and the config node naming it
Located = tuple[Target, Path_]  # a target and the config node of its locator
# (branch, file, document, locator) -> the app and config node that writes it; see `build_app`
Claims = dict[tuple[str | None, str, int | None, str], tuple[str, Path_]]  # -> (environment, node)


def build_app(
    loaded: Loaded,
    root: Path,
    environments: dict[str, Environment],
    name: str,
    spec: dict[str, Any],
    claims: Claims,
) -> App:
    """Return the app `name` of the config, or raise a ConfigError at the offending node.

    `claims` collects every (branch, file, document, locator) written so far: two apps (or two
    environments on one branch) writing the same value would overwrite each other on every run.
    """
    base: Path_ = ("apps", name)
    known = list(environments)
    files = _values(loaded, root, base, spec.get("values"), known)
    all_images = _images(loaded, base, spec["image"], known)
    images = {env: listed[0] for env, listed in all_images.items()}
    more = {env: listed[1:] for env, listed in all_images.items() if len(listed) > 1}
    if more and spec.get("digest"):
        count = max(len(listed) for listed in all_images.values())
        message = (
            f"one place cannot hold the digests of {count} images; remove digest, or give the app one image"
        )
        raise loaded.error((*base, "digest"), message, at_value=True)
    overrides: dict[str, dict[str, Any]] = spec.get("overrides", {})
    for env in overrides:
        check_env_name(loaded, (*base, "overrides", env), env, known, at_value=False)
    digest = spec.get("digest")
    digest_key = digest if isinstance(digest, str) else None
    if digest_key is not None:
        check_key_path(loaded, (*base, "digest"), digest_key)
    targets: dict[str, tuple[Target, ...]] = {}
    for env in known:
        override = overrides.get(env, {})
        if any(key in override for key in _LOCATOR_KEYS):
            source, source_path = override, (*base, "overrides", env)
        else:
            source, source_path = spec, base
        document = override.get("document", spec.get("document"))
        scope = _Scope(
            loaded, root, env, known, files.get(env, []), all_images.get(env, ()), document, digest_key
        )
        found = _targets(scope, source, source_path)
        for target, path in found:
            _claim(loaded, claims, environments[env], target, path)
        if found:
            targets[env] = tuple(target for target, _ in found)
    if not targets:
        raise loaded.error(base, "no files to write; add values: PATH (or one per environment) or targets")
    for env, env_targets in targets.items():
        if env not in images:
            where = ", ".join(sorted({target.file for target in env_targets}))
            message = f'no image for environment "{env}", which has files ({where}); add image.{env}'
            raise loaded.error((*base, "image"), message)
    tags: dict[str, TagPolicy] = {}
    for env in targets:
        if "tag" in overrides.get(env, {}):
            tags[env] = tag_policy(loaded, (*base, "overrides", env, "tag"), overrides[env]["tag"])
        elif "tag" in spec:
            tags[env] = tag_policy(loaded, (*base, "tag"), spec["tag"])
    record = bool(spec.get("digest")) or any(t.digest_key for ts in targets.values() for t in ts)
    if record and more:
        path = (*base, "digest") if spec.get("digest") else base
        message = (
            "a digest key cannot hold the digests of several images; remove it, or give the app one image"
        )
        raise loaded.error(path, message)
    return App(name, images, targets, tags, record, loaded.mark(base).line, more)


def _claim(loaded: Loaded, claims: Claims, env: Environment, target: Target, path: Path_) -> None:
    """Record that `target` is written in `env`, refusing a value another app or environment writes."""
    if target.key is not None:
        locator = "key " + format_key_path(parse_key_path(target.key))
    elif target.marker is not None:
        locator = f"marker {target.marker}"
    else:
        locator = f"image {target.image}"
    claim = (env.branch, target.file, target.document, locator)
    if claim in claims and claims[claim] != (env.name, path):
        other_env, other_path = claims[claim]
        branch = f"branch {env.branch}" if env.branch else "the default branch"
        message = (
            f"{target.file} ({locator}) on {branch} is already written by {dotted(other_path)} "
            f"(line {loaded.mark(other_path).line}, environment {other_env}); "
            "each value holds one tag: point to another key, file or branch"
        )
        raise loaded.error(path, message, at_value=True)
    claims[claim] = (env.name, path)


def _values(loaded: Loaded, root: Path, base: Path_, raw: Any, known: list[str]) -> dict[str, list[File]]:
    """Return the values files of each environment."""
    path: Path_ = (*base, "values")
    if raw is None:
        return {}
    if not isinstance(raw, dict):
        return {env: _files(loaded, root, path, raw) for env in known}
    out = {}
    for env, item in raw.items():
        check_env_name(loaded, (*path, env), env, known, at_value=False)
        out[env] = _files(loaded, root, (*path, env), item)
    return out


def _files(loaded: Loaded, root: Path, path: Path_, raw: str | list[str]) -> list[File]:
    if isinstance(raw, str):
        return [(check_file(loaded, root, path, raw), path)]
    return [(check_file(loaded, root, (*path, i), item), (*path, i)) for i, item in enumerate(raw)]


def _images(
    loaded: Loaded, base: Path_, raw: str | list[str] | dict[str, str | list[str]], known: list[str]
) -> dict[str, tuple[str, ...]]:
    """Return each environment's images, the one the tag is resolved in first."""
    if not isinstance(raw, dict):
        return dict.fromkeys(known, _image_list(loaded, (*base, "image"), raw))
    out = {}
    for env, images in raw.items():
        check_env_name(loaded, (*base, "image", env), env, known, at_value=False)
        out[env] = _image_list(loaded, (*base, "image", env), images)
    return out


def _image_list(loaded: Loaded, path: Path_, raw: str | list[str]) -> tuple[str, ...]:
    if isinstance(raw, str):
        _check_image(loaded, path, raw)
        return (raw,)
    for index, image in enumerate(raw):
        _check_image(loaded, (*path, index), image)
        if image in raw[:index]:
            raise loaded.error(
                (*path, index), f'"{image}" is listed twice; list each image once', at_value=True
            )
    return tuple(raw)


def _check_image(loaded: Loaded, path: Path_, image: str) -> None:
    """Refuse an image that is empty, or that carries the tag or digest updater is meant to write."""
    if not image or any(c.isspace() for c in image):
        raise loaded.error(
            path, f'"{image}" is not an image repository; write e.g. ghcr.io/org/app', at_value=True
        )
    if image.startswith("oci:"):  # an OCI layout directory, e.g. in the offline demo
        return
    last = image.rsplit("/", 1)[-1]
    if "@" in image or ":" in last:
        message = f'"{image}" includes a tag or digest; give the repository only, updater writes the tag'
        raise loaded.error(path, message, at_value=True)


@dataclass(frozen=True)
class _Scope:
    """What the locators of one app in one environment resolve against."""

    loaded: Loaded
    root: Path
    env: str
    known: list[str]  # every environment name
    files: list[File]  # the app's values files in `env`
    images: tuple[str, ...]  # the app's images in `env` (empty: none given)
    document: int | None
    digest_key: str | None  # the app's `digest: KEY`


def _targets(scope: _Scope, source: dict[str, Any], source_path: Path_) -> list[Located]:
    """Return the targets of one environment from `source` (the app, or its override for `env`)."""
    out: list[Located] = []
    if not any(key in source for key in _LOCATOR_KEYS):  # default: find the app's image in each file
        for file, path in scope.files:
            line = scope.loaded.value_marks[path].line
            for image in scope.images or (None,):
                target = Target(
                    file, image=image, document=scope.document, digest_key=scope.digest_key, line=line
                )
                out.append((target, path))
        return out
    for config_key, field in (("key", "key"), ("image-locator", "image"), ("marker", "marker")):
        raw = source.get(config_key)
        if raw is None:
            continue
        if isinstance(raw, list):
            items = [((*source_path, config_key, i), item) for i, item in enumerate(raw)]
        else:
            items = [((*source_path, config_key), raw)]
        for path, value in items:
            # `image-locator: true` finds each of the app's images (none given: reported later)
            own = [{field: image} for image in scope.images or (None,)]
            locators = own if value is True else [_locator(scope, path, field, value)]
            line = scope.loaded.value_marks[path].line
            for file, _ in scope.files:
                for locator in locators:
                    target = Target(
                        file, document=scope.document, digest_key=scope.digest_key, line=line, **locator
                    )
                    out.append((target, path))
    for index, item in enumerate(source.get("targets", [])):
        out += _explicit_target(scope, (*source_path, "targets", index), item)
    return out


def _locator(scope: _Scope, path: Path_, field: str, value: str | bool) -> dict[str, Any]:
    """Return the Target keyword for one locator, checked."""
    assert isinstance(value, str)
    if field == "image":
        _check_image(scope.loaded, path, value)
    elif field == "key":
        check_key_path(scope.loaded, path, value)
    elif field == "marker" and not re.fullmatch(r"[^\s#]+", value):
        message = f'"{value}" is not a marker name; use the NAME of "# updater: NAME"'
        raise scope.loaded.error(path, message, at_value=True)
    return {field: value}


def _explicit_target(scope: _Scope, path: Path_, item: dict[str, Any]) -> list[Located]:
    """Return the targets one `targets:` entry gives in `env` (none if it is for other environments)."""
    loaded = scope.loaded
    envs = item.get("env")
    if envs is not None:
        names = [envs] if isinstance(envs, str) else envs
        for i, name in enumerate(names):
            check_env_name(
                loaded, (*path, "env") if isinstance(envs, str) else (*path, "env", i), name, scope.known
            )
        if scope.env not in names:
            return []
    chosen = [key for key in ("key", "image", "marker") if key in item]
    if len(chosen) != 1:
        found = " and ".join(chosen) if chosen else "none"
        raise loaded.error(path, f"a target needs exactly one of key, image, marker (found {found})")
    field = chosen[0]
    locator = _locator(scope, (*path, field), field, item[field])
    digest_key = item.get("digest-key", scope.digest_key)
    if "digest-key" in item:
        check_key_path(loaded, (*path, "digest-key"), item["digest-key"])
    if "file" in item:
        files = [check_file(loaded, scope.root, (*path, "file"), item["file"])]
    elif scope.files:
        files = [file for file, _ in scope.files]
    elif envs is None:
        return []  # an app without values files in this environment
    else:
        raise loaded.error(
            path, f'no file for environment "{scope.env}"; add file: PATH or values.{scope.env}'
        )
    line = loaded.mark(path).line
    document = item.get("document", scope.document)
    return [
        (Target(file, document=document, digest_key=digest_key, line=line, **locator), (*path, field))
        for file in files
    ]
