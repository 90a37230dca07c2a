"""The shape of `.updater.yaml`, declared once: the validator walks it and `config schema` prints it.

Keeping one declaration means the JSON Schema editors see can never drift from what `load` accepts.
Cross-references (environment names, paths inside the repo, key-path and regex syntax) are checked
by `updater.config` after this structural pass.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Union

NAME_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_.-]*$"
MODES = ("commit", "pull-request", "auto-merge")
STRATEGIES = ("template", "digest", "newest", "semver", "alphabetical", "numerical")
PROVIDERS = ("github", "git", "files")
REGISTRY_APIS = ("auto", "oci", "artifact-registry")
MERGE_METHODS = ("merge", "squash", "rebase")
DURATION_PATTERN = r"^[0-9]+(\.[0-9]+)?(s|m|h)?$"


@dataclass(frozen=True)
class Scalar:
    """A string, boolean, integer or number, optionally restricted to `enum` or a `pattern`."""

    kind: str  # string | boolean | integer | number
    description: str = ""
    enum: tuple[str | bool | int, ...] = ()
    pattern: str | None = None
    minimum: float | None = None


@dataclass(frozen=True)
class ListOf:
    item: Spec
    description: str = ""
    min_items: int = 0


@dataclass(frozen=True)
class MapOf:
    """A mapping with user-chosen keys (environment or app names) and values of one shape."""

    value: Spec
    description: str = ""
    key_pattern: str | None = None
    min_items: int = 0


@dataclass(frozen=True)
class Obj:
    """A mapping with a fixed set of keys; `title` names its JSON Schema definition."""

    title: str
    fields: Mapping[str, Spec] = field(default_factory=dict)
    description: str = ""
    required: tuple[str, ...] = ()


@dataclass(frozen=True)
class OneOf:
    """One of several shapes, told apart by the YAML node (scalar type, mapping or list)."""

    options: tuple[Spec, ...]
    description: str = ""


Spec = Union[Scalar, ListOf, MapOf, Obj, OneOf]  # noqa: UP007 - a runtime alias, and 3.10 is supported


def _string(description: str, **kwargs: Any) -> Scalar:
    return Scalar("string", description, **kwargs)


def _one_or_many(description: str) -> OneOf:
    return OneOf((_string(""), ListOf(_string(""), min_items=1)), description)


# Placeholders of each kind of template (tag fields come from updater.resolve.TemplateVars).
TAG_FIELDS = ("sha", "app", "env", "branch", "run")
MESSAGE_FIELDS = ("command", "env", "apps", "tags", "app", "tag")
BRANCH_FIELDS = ("env", "app", "command")


def _template(description: str, fields: tuple[str, ...]) -> Scalar:
    names = ", ".join("{" + name + "}" for name in fields)
    return _string(f"{description}; a template of {names}" + (", {sha:N}" if "sha" in fields else ""))


TAG_POLICY = Obj(
    "tag-policy",
    {
        "strategy": _string("How to choose the tag.", enum=STRATEGIES),
        "template": _template(
            "Tag to use (`*` leaves a part open, resolved to the newest match)", TAG_FIELDS
        ),
        "tag": _string("For strategy digest: the tag CI pushed or a moving tag such as latest."),
        "include": _string(
            "Regular expression a tag must match (a capture group orders numerical/alphabetical)."
        ),
        "exclude": _one_or_many("Regular expression(s) of tags to ignore."),
        "range": _string("For strategy semver: the version range, e.g. '>=1.2,<2'."),
        "wait": OneOf(
            (
                Scalar("number", minimum=0),
                _string("a duration such as 30s, 10m or 1h", pattern=DURATION_PATTERN),
            ),
            "How long to wait for the tag to appear: seconds, or 30s / 10m / 1h.",
        ),
    },
    "How an environment's tag is chosen.",
)
TAG = OneOf((_template("Tag", TAG_FIELDS), TAG_POLICY), "A tag template, or a tag policy mapping.")

ENVIRONMENT = Obj(
    "environment",
    {
        "branch": _string(
            "Branch the environment's files live on (default: the repository's default branch)."
        ),
        "mode": _string("How changes land (default commit).", enum=MODES),
        "tag": TAG,
        "promote-from": _string("Environment whose tags `updater promote` copies here."),
        "frozen": Scalar("boolean", "Refuse bumps and promotions into this environment."),
    },
    "One deployment environment.",
)

_LOCATORS: dict[str, Spec] = {
    "key": _one_or_many("Key path(s) of the tag, e.g. image.tag or containers[0].image."),
    "image-locator": OneOf(
        (_string(""), Scalar("boolean", enum=(True,))),
        "Find the tag by image repository in the file (true: the app's image).",
    ),
    "marker": _one_or_many("Marker comment name(s) next to the tag (# updater:NAME)."),
    "document": Scalar("integer", "0-based YAML document in a multi-document file.", minimum=0),
    "digest": OneOf(
        (Scalar("boolean"), _string("")),
        "Record the digest: true writes tag@sha256:..., a key path writes it to that key.",
    ),
}

TARGET = Obj(
    "target",
    {
        "file": _string("Repository-relative file (default: the app's values files)."),
        "env": _one_or_many("Environment(s) this target applies to (default: all of the app's)."),
        "key": _string("Key path of the tag."),
        "image": _string("Image repository to find in the file."),
        "marker": _string("Marker comment name."),
        "document": _LOCATORS["document"],
        "digest-key": _string("Key path that receives the digest."),
    },
    "One place in one file to write the tag: exactly one of key, image, marker.",
)

OVERRIDE = Obj(
    "app-override",
    {
        **{k: v for k, v in _LOCATORS.items() if k != "digest"},
        "targets": ListOf(TARGET, min_items=1),
        "tag": TAG,
    },
    "Settings of an app that differ in one environment.",
)

_VALUES_ITEM = OneOf((_string(""), ListOf(_string(""), min_items=1)))
_IMAGES = ListOf(_string(""), min_items=1)
APP = Obj(
    "app",
    {
        "image": OneOf(
            (_string(""), _IMAGES, MapOf(OneOf((_string(""), _IMAGES)), min_items=1)),
            "Image repository, a list sharing one tag (the first is resolved), or per environment.",
        ),
        "values": OneOf(
            (_string(""), ListOf(_string(""), min_items=1), MapOf(_VALUES_ITEM, min_items=1)),
            "Values file(s) relative to the repository root, or per environment.",
        ),
        **_LOCATORS,
        "targets": ListOf(TARGET, "Places to write the tag, for layouts the shorthands don't cover.", 1),
        "tag": TAG,
        "overrides": MapOf(OVERRIDE, "Per-environment settings.", NAME_PATTERN, 1),
    },
    "One deployable image and where its tag is written.",
    required=("image",),
)

_ENV_VAR = r"^[A-Za-z_][A-Za-z0-9_]*$"
DEPLOY_APPLICATION = Obj(
    "deploy-application",
    {
        "name": _string("Application name."),
        "namespace": _string("Its appNamespace (default: deploy.namespace)."),
        "project": _string("Its Argo CD project (default: deploy.project)."),
    },
    "An Argo CD Application.",
)
DEPLOY = Obj(
    "deploy",
    {
        "server": _string("Argo CD API URL, e.g. https://argocd.example.com (plain http only to loopback)."),
        "token-env": _string(
            "Environment variable holding the API token (default ARGOCD_AUTH_TOKEN).", pattern=_ENV_VAR
        ),
        "ca-file": _string("CA bundle (PEM) for the server's certificate; relative to the repo root."),
        "insecure": Scalar("boolean", "Skip TLS verification (test servers only)."),
        "namespace": _string("appNamespace of the Applications (default: Argo CD's own)."),
        "project": _string("Argo CD project of the Applications."),
        "selector": _string("Label selector for the list call of `status --live`, e.g. team=web."),
        "application": _string("Application name template of {app} and {env} (default {app}-{env})."),
        "applications": MapOf(
            MapOf(
                OneOf((_string(""), DEPLOY_APPLICATION)),
                "By environment: a name, or name/namespace/project.",
                NAME_PATTERN,
            ),
            "Application names that differ from the template, by app then environment.",
            NAME_PATTERN,
        ),
    },
    "Argo CD, for --wait-deployed, `updater deployed` and `status --live`.",
    required=("server",),
)

CONFIG = Obj(
    "config",
    {
        "version": Scalar("integer", "Config format version.", enum=(1,)),
        "scm": Obj(
            "scm",
            {
                "provider": _string("Where the GitOps repository lives (default git).", enum=PROVIDERS),
                "repository": _string("GitHub repository owner/name.", pattern=r"^[\w.-]+/[\w.-]+$"),
                "url": _string("Git remote URL or path (default: the repository holding this file)."),
                "github-url": _string("GitHub Enterprise API URL, e.g. https://ghe.example.com/api/v3."),
            },
            "The GitOps repository.",
        ),
        "registry": Obj(
            "registry",
            {
                "api": _string("Registry API (default auto).", enum=REGISTRY_APIS),
                "insecure": ListOf(
                    _string("a host or host:port", pattern=r"^[A-Za-z0-9.-]+(:[0-9]+)?$"),
                    "Registry hosts reached over plain HTTP.",
                ),
                "platform": _string(
                    "Platform of multi-arch images, e.g. linux/amd64.",
                    pattern=r"^[\w.-]+/[\w.-]+(/[\w.-]+)?$",
                ),
            },
            "Container registry settings.",
        ),
        "commit": Obj(
            "commit",
            {
                "author": Obj(
                    "author",
                    {
                        "name": _string("Author name."),
                        "email": _string("Author email, name@host.", pattern="@"),
                    },
                    "Commit author (default: from the environment).",
                    required=("name", "email"),
                ),
                "message": _template("Commit message title", MESSAGE_FIELDS),
            },
            "Commit settings.",
        ),
        "pull-request": Obj(
            "pull-request",
            {
                "title": _template("Pull request title", MESSAGE_FIELDS),
                "body": _template("Pull request body (before the list of changes)", MESSAGE_FIELDS),
                "labels": ListOf(_string(""), "Labels to add."),
                "reviewers": ListOf(_string(""), "Users asked to review."),
                "team-reviewers": ListOf(_string(""), "Teams asked to review."),
                "assignees": ListOf(_string(""), "Users assigned."),
                "draft": Scalar("boolean", "Open pull requests as drafts."),
                "merge-method": _string("Merge method for auto-merge (default squash).", enum=MERGE_METHODS),
                "branch": _template("Head branch (default updater/{env}/{app})", BRANCH_FIELDS),
            },
            "Pull request settings (modes pull-request and auto-merge).",
        ),
        "environments": MapOf(ENVIRONMENT, "Deployment environments by name.", NAME_PATTERN, 1),
        "apps": MapOf(APP, "Apps by name.", NAME_PATTERN),
        "deploy": DEPLOY,
    },
    "updater configuration (.updater.yaml).",
    required=("version", "environments", "apps"),
)


def json_schema() -> dict[str, Any]:
    """Return the JSON Schema (draft 2020-12) of the config, generated from CONFIG."""
    defs: dict[str, Any] = {}
    root = _to_json(CONFIG, defs)
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "title": "updater configuration",
        **root,
        "$defs": defs,
    }


def _to_json(spec: Spec, defs: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any]
    if isinstance(spec, Scalar):
        out = {"type": spec.kind}
        if spec.enum:
            out = (
                {"const": spec.enum[0]}
                if len(spec.enum) == 1
                else {"type": spec.kind, "enum": list(spec.enum)}
            )
        if spec.pattern:
            out["pattern"] = spec.pattern
        if spec.minimum is not None:
            out["minimum"] = spec.minimum
    elif isinstance(spec, ListOf):
        out = {"type": "array", "items": _to_json(spec.item, defs)}
        if spec.min_items:
            out["minItems"] = spec.min_items
    elif isinstance(spec, MapOf):
        out = {"type": "object", "additionalProperties": _to_json(spec.value, defs)}
        if spec.key_pattern:
            out["propertyNames"] = {"pattern": spec.key_pattern}
        if spec.min_items:
            out["minProperties"] = spec.min_items
    elif isinstance(spec, Obj):
        if spec.title not in defs:
            defs[spec.title] = {}  # reserve the name first: definitions may nest
            body: dict[str, Any] = {"type": "object", "description": spec.description}
            body["properties"] = {name: _to_json(sub, defs) for name, sub in spec.fields.items()}
            if spec.required:
                body["required"] = list(spec.required)
            body["additionalProperties"] = False
            defs[spec.title] = body
        return {"$ref": f"#/$defs/{spec.title}"}
    else:
        out = {"anyOf": [_to_json(option, defs) for option in spec.options]}
    if spec.description:
        out["description"] = spec.description
    return out
