"""The tag grammar: which strings are tags, which tags move, and how a tag template is spelled.

A tag moves when its name is a pointer or an environment (`latest`, `stage`, `prod`, ...): CI re-points
it at every build. A tag looks immutable when its name carries the build's identity (a commit hash, a
version, a timestamp); the digest strategy checks those first among the tags sharing a digest.

Pure values shared by the resolver (which picks tags) and the config checks (which validate
templates before any registry is asked).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from updater.domain.grammar import TAG_GRAMMAR as TAG_GRAMMAR
from updater.infra.errors import InputError

# Tags that conventionally move: pointers (latest, main, ...) and environment names (stage, prod, ...).
# A tag is moving when its whole name, in any case, is one of them; never chosen unless --include says so.
_POINTERS = {"latest", "stable", "edge", "nightly", "canary", "current", "head", "main", "master", "develop"}
_ENVIRONMENTS = {"dev", "development", "test", "testing", "qa", "uat", "stage", "staging", "preprod"}
MOVING_TAGS = frozenset(
    _POINTERS | _ENVIRONMENTS | {"prod", "production", "live", "release", "sandbox", "demo", "trunk"}
)
_HEX_SEGMENT = re.compile(r"(?=[0-9a-f]*[0-9])[0-9a-f]{7,40}")
_VERSION = re.compile(r"(?:^|[-_])v?\d+(?:\.\d+)+(?:$|[-_+.])", re.IGNORECASE)
_TIMESTAMP = re.compile(r"\d{8,}")
# A rendered template: a tag, where `*` may stand for an open part anywhere, the first character too.
_TAG = re.compile(r"^[A-Za-z0-9_*][A-Za-z0-9_.*-]{0,127}$")
PLACEHOLDER = re.compile(r"\{([^{}]*)\}")
_TAG_TEXT = re.compile(r"^[A-Za-z0-9_.*-]{1,128}$")
_FIELD = re.compile(r"\{(\w+)(?::(\d+))?\}")


def is_valid_tag(text: str) -> bool:
    """True when `text` is a tag by the OCI grammar `[a-zA-Z0-9_][a-zA-Z0-9._-]{0,127}`."""
    return TAG_GRAMMAR.fullmatch(text) is not None


def is_moving(tag: str) -> bool:
    """True for a tag that conventionally points at whatever was built last (`latest`, `stage`, ...)."""
    return tag.lower() in MOVING_TAGS


def looks_immutable(tag: str) -> bool:
    """True when the name carries a build's identity: a commit hash, a version or a timestamp.

    A commit hash is a `-_.`-separated part of 7 to 40 lower-case hex digits with at least one digit
    (`rel-1a2b3c4`, `1234567`); a version `1.4`, `v1.4.2-rc.1`; a timestamp 8 or more digits.
    """
    if is_moving(tag):
        return False
    parts = re.split(r"[-_.]", tag)
    return (
        any(_HEX_SEGMENT.fullmatch(part) for part in parts)
        or _VERSION.search(tag) is not None
        or _TIMESTAMP.search(tag) is not None
    )


@dataclass(frozen=True)
class TemplateVars:
    sha: str | None = None
    app: str | None = None
    env: str | None = None
    branch: str | None = None
    run: str | None = None


def render_template(template: str, variables: TemplateVars) -> str:
    """Return the tag a template spells; `{sha:N}` is the first N characters, `*` stays open."""

    def field_value(m: re.Match[str]) -> str:
        name, width = m[1], m[2]
        if name not in TemplateVars.__dataclass_fields__:
            known = ", ".join("{" + n + "}" for n in TemplateVars.__dataclass_fields__)
            raise InputError(f"tag template {template!r}: unknown field {{{name}}}; use {known}")
        value = getattr(variables, name)
        if not value:
            hint = "pass --sha or run inside a git checkout" if name == "sha" else f"give the {name}"
            raise InputError(f"tag template {template!r} needs {{{name}}}: {hint}")
        if name == "branch":  # "feature/x" is not a valid tag; docker/metadata-action does the same
            value = re.sub(r"[^A-Za-z0-9_.-]+", "-", value).strip("-.")
        if width is not None:
            if name != "sha":
                raise InputError(f"tag template {template!r}: only {{sha:N}} takes a length")
            value = value[: int(width)]
        return str(value)

    tag = _FIELD.sub(field_value, template)
    if not _TAG.match(tag):
        raise InputError(
            f"tag template {template!r} gives {tag!r}, which is not a valid tag: "
            "use letters, digits, '_', '.', '-' (max 128)"
        )
    return tag


def template_problem(text: str) -> str | None:
    """Return why a tag template cannot render to a valid tag ({sha}, {sha:N}, {app}, ..., `*`), or None."""
    names = list(TemplateVars.__dataclass_fields__)
    allowed = ", ".join("{" + name + "}" for name in names)
    for field_text in PLACEHOLDER.findall(text):
        name, _, width = field_text.partition(":")
        if name not in names or (width and (name != "sha" or not width.isdigit())):
            return f"unknown placeholder {{{field_text}}} in {text!r}; use {allowed} or {{sha:N}}"
    if not _TAG_TEXT.match(PLACEHOLDER.sub("x", text)):
        return f"{text!r} cannot make a valid tag; use letters, digits, '_', '.', '-', '*' and placeholders"
    return None
