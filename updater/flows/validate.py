"""`config validate`, deep: every target opened where updater will write it, not just the config parsed.

A config can be well-formed and still useless: a values path that does not exist on the branch, a key
that resolves nowhere, or one that points at the image repository (`images.repositories.api`) instead
of the tag next to it. Each check is a function of a `Context` returning `Finding`s; `CHECKS` lists
them in order, so a deeper check (Argo CD applications, say) is one more function in a list.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from updater.config.model import Config, Target
from updater.flows import plan as planning
from updater.scm.base import Backend
from updater.yamledit import YamlEditError, find, refusal


@dataclass(frozen=True)
class Finding:
    """One target of one app in one environment: what it holds today, or what is wrong with it."""

    app: str
    env: str
    file: str
    locator: str  # as the user wrote it: "key images.tag", "image ghcr.io/o/a", "marker web"
    line: int | None = None  # in the values file
    value: str | None = None
    error: str | None = None  # one line naming FILE:LINE and what to do; None when fine

    @property
    def ok(self) -> bool:
        return self.error is None

    def to_json(self) -> dict[str, Any]:
        return {
            "app": self.app,
            "env": self.env,
            "file": self.file,
            "locator": self.locator,
            "line": self.line,
            "value": self.value,
            "ok": self.ok,
            "error": self.error,
        }


@dataclass
class Context:
    """What the checks share: the config, the backend, and each file read once per branch."""

    config: Config
    backend: Backend
    local: bool = False  # the backend is the work tree, not the environments' branches
    files: dict[tuple[str, str], bytes | None] = field(default_factory=dict)

    def place(self, branch: str) -> str:
        return "in the work tree" if self.local else f"on branch {branch}"

    def prefetch(self, wanted: Sequence[tuple[str, str]]) -> None:
        """Read every (branch, path) at once where the backend can (GitHub: one query per branch)."""
        read_many = getattr(self.backend, "read_many", None)
        by_branch: dict[str, list[str]] = {}
        for branch, path in wanted:
            if (branch, path) not in self.files:
                by_branch.setdefault(branch, []).append(path)
        for branch, paths in by_branch.items():
            if callable(read_many):
                for path, data in dict(read_many(branch, list(dict.fromkeys(paths)))).items():
                    self.files[(branch, path)] = data

    def read(self, branch: str, path: str) -> bytes | None:
        if (branch, path) not in self.files:
            self.files[(branch, path)] = self.backend.read(branch, path)
        return self.files[(branch, path)]


Check = Callable[[Context], list[Finding]]


def targets_hold_tags(ctx: Context) -> list[Finding]:
    """Every target's file exists on its branch and its locator resolves to scalars holding a tag."""
    config = ctx.config
    plans = [
        item
        for app in config.apps
        for env in config.apps[app].targets
        if (item := planning.app_plan(config, app, env)) is not None
    ]
    ctx.prefetch([(item.branch, target.file) for item in plans for target in item.targets])
    findings: list[Finding] = []
    for item in plans:
        for target in item.targets:
            findings += _check_target(ctx, item, target)
    return findings


def _check_target(ctx: Context, item: planning.AppPlan, target: Target) -> list[Finding]:
    locator = planning.locator(target)
    base = Finding(item.app, item.env, target.file, locator.describe())
    who = f"app {item.app!r} ({item.env})"
    data = ctx.read(item.branch, target.file)
    if data is None:
        error = (
            f"{planning.where(ctx.config, target)}: {who}: {target.file} does not exist "
            f"{ctx.place(item.branch)}: fix the path in the config (relative to the repository root)"
        )
        return [_with(base, error=error)]
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        return [_with(base, error=f"{target.file}: not UTF-8 text (byte {exc.start}): re-save it as UTF-8")]
    try:
        found = find(text, locator, source=target.file).found  # YAML, or a template in text mode
    except YamlEditError as exc:
        reason = exc.message.replace(" (or pass --create to add it)", "")
        return [_with(base, error=f"{planning.where(ctx.config, target)}: {who}: {reason}")]
    return [
        _with(base, line=one.line, value=one.value, error=refusal(text, target.file, locator, one, who))
        for one in found
    ]


def _with(base: Finding, **changes: Any) -> Finding:
    return replace(base, **changes)


CHECKS: tuple[Check, ...] = (targets_hold_tags,)


def validate(
    config: Config, backend: Backend, *, local: bool = False, checks: Sequence[Check] = CHECKS
) -> list[Finding]:
    """Return every finding of every check, problems and all (the caller decides the exit code)."""
    ctx = Context(config, backend, local)
    return [finding for check in checks for finding in check(ctx)]
