"""The tag grammar: which strings are tags, which tags move, and how a tag template is spelled.

Pure values shared by the resolver (which picks tags) and the config checks (which validate
templates before any registry is asked).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from updater.infra.errors import InputError

# Tags that conventionally move from build to build. Never chosen when no --include says otherwise.
MOVING_TAGS = frozenset(
    {"latest", "stable", "edge", "nightly", "main", "master", "develop", "dev", "head", "canary"}
)
_TAG = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.*-]{0,127}$")
PLACEHOLDER = re.compile(r"\{([^{}]*)\}")
_TAG_TEXT = re.compile(r"^[A-Za-z0-9_.*-]{1,128}$")
_FIELD = re.compile(r"\{(\w+)(?::(\d+))?\}")


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
