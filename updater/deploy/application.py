"""The parts of an Argo CD Application that updater reads, taken from an untrusted JSON answer.

`parse` checks the type of every field it uses (v1alpha1Application in Argo CD's swagger) and
raises `ShapeError` for anything else, so a proxy's HTML page or a changed API fails with one line
instead of a traceback. Strings are bounded and made printable before they can reach a message.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

MAX_TEXT = 300  # characters of an Argo CD message kept for ours
MAX_ITEMS = 1000  # images, sources, revisions: more is not an Application we can reason about


class ShapeError(ValueError):
    """An answer that is not the document Argo CD's API describes."""


@dataclass(frozen=True)
class Source:
    """One of `spec.source(s)`: where Argo CD reads the manifests."""

    repo_url: str
    path: str
    target_revision: str
    value_files: tuple[str, ...]
    chart: str
    ref: str = ""  # a multi-source app's name for this source, used as `$ref/path` in valueFiles


@dataclass(frozen=True)
class Operation:
    """`status.operationState`: the last (or running) sync and how it ended."""

    phase: str
    message: str
    revisions: tuple[str, ...]
    finished_at: str


@dataclass(frozen=True)
class Application:
    """What one Application says about itself: spec and observed status."""

    name: str
    namespace: str
    project: str
    sources: tuple[Source, ...]
    automated: bool
    sync_status: str
    revisions: tuple[str, ...]  # status.sync.revision, or .revisions for a multi-source app
    health: str
    health_message: str
    images: tuple[str, ...]
    operation: Operation | None
    operation_requested: bool  # `operation` set: a sync was asked for or is running
    reconciled_at: str


def printable(value: object, limit: int = MAX_TEXT) -> str:
    """Return `value` as one printable line: control characters escaped, at most `limit` characters."""
    text = str(value)
    out = "".join(ch if ch.isprintable() else ascii(ch)[1:-1] for ch in text)
    return out if len(out) <= limit else out[: limit - 1] + "…"


def parse(doc: object) -> Application:
    """Return the Application in `doc` (a decoded JSON answer); raise ShapeError when it is not one."""
    root = _obj(doc, "the answer")
    meta = _obj(root.get("metadata"), "metadata")
    spec = _obj(root.get("spec"), "spec", optional=True)
    status = _obj(root.get("status"), "status", optional=True)
    sync = _obj(status.get("sync"), "status.sync", optional=True)
    health = _obj(status.get("health"), "status.health", optional=True)
    summary = _obj(status.get("summary"), "status.summary", optional=True)
    policy = _obj(spec.get("syncPolicy"), "spec.syncPolicy", optional=True)
    automated = _obj(policy.get("automated"), "spec.syncPolicy.automated", optional=True)
    raw_sources = _list(spec.get("sources"), "spec.sources") or (
        [spec["source"]] if spec.get("source") is not None else []
    )
    revision = _str(sync.get("revision"), "status.sync.revision")
    revisions = tuple(
        _str(r, "status.sync.revisions[]") for r in _list(sync.get("revisions"), "status.sync.revisions")
    )
    name = _str(meta.get("name"), "metadata.name")
    if not name:
        raise ShapeError("metadata.name is missing")
    return Application(
        name=name,
        namespace=_str(meta.get("namespace"), "metadata.namespace"),
        project=_str(spec.get("project"), "spec.project") or "default",
        sources=tuple(_source(s, i) for i, s in enumerate(raw_sources)),
        # `enabled: false` turns a present automated block off (Argo CD v3).
        automated=policy.get("automated") is not None and automated.get("enabled", True) is not False,
        sync_status=_str(sync.get("status"), "status.sync.status") or "Unknown",
        revisions=revisions or ((revision,) if revision else ()),
        health=_str(health.get("status"), "status.health.status") or "Unknown",
        health_message=_str(health.get("message"), "status.health.message"),
        images=tuple(_str(i, "status.summary.images[]") for i in _list(summary.get("images"), "images")),
        operation=_operation(status.get("operationState")),
        operation_requested=root.get("operation") is not None,
        reconciled_at=_str(status.get("reconciledAt"), "status.reconciledAt"),
    )


def parse_list(doc: object) -> list[Application]:
    """Return the Applications of a v1alpha1ApplicationList answer (`items` may be absent: none)."""
    root = _obj(doc, "the answer")
    return [parse(item) for item in _list(root.get("items"), "items")]


def _operation(doc: object) -> Operation | None:
    if doc is None:
        return None
    state = _obj(doc, "status.operationState")
    result = _obj(state.get("syncResult"), "operationState.syncResult", optional=True)
    op = _obj(state.get("operation"), "operationState.operation", optional=True)
    op_sync = _obj(op.get("sync"), "operationState.operation.sync", optional=True)
    # The result names the revision synced; while running, the requested one is in operation.sync.
    revisions = (
        _list(result.get("revisions"), "syncResult.revisions")
        or [r for r in (result.get("revision"), op_sync.get("revision")) if r][:1]
    )
    return Operation(
        phase=_str(state.get("phase"), "operationState.phase"),
        message=printable(_str(state.get("message"), "operationState.message")),
        revisions=tuple(_str(r, "syncResult.revisions[]") for r in revisions),
        finished_at=_str(state.get("finishedAt"), "operationState.finishedAt"),
    )


def _source(doc: object, index: int) -> Source:
    where = f"spec.sources[{index}]"
    src = _obj(doc, where)
    helm = _obj(src.get("helm"), f"{where}.helm", optional=True)
    return Source(
        repo_url=_str(src.get("repoURL"), f"{where}.repoURL"),
        path=_str(src.get("path"), f"{where}.path"),
        target_revision=_str(src.get("targetRevision"), f"{where}.targetRevision"),
        value_files=tuple(
            _str(v, f"{where}.helm.valueFiles[]") for v in _list(helm.get("valueFiles"), "valueFiles")
        ),
        chart=_str(src.get("chart"), f"{where}.chart"),
        ref=_str(src.get("ref"), f"{where}.ref"),
    )


def _obj(value: object, where: str, optional: bool = False) -> dict[str, Any]:
    if value is None and optional:
        return {}
    if not isinstance(value, dict):
        raise ShapeError(f"{where} is not an object")
    return value


def _list(value: object, where: str) -> list[Any]:
    if value is None:
        return []
    if not isinstance(value, list):
        raise ShapeError(f"{where} is not a list")
    if len(value) > MAX_ITEMS:
        raise ShapeError(f"{where} has more than {MAX_ITEMS} entries")
    return value


def _str(value: object, where: str) -> str:
    if value is None:
        return ""
    if not isinstance(value, str):
        raise ShapeError(f"{where} is not a string")
    if len(value) > 4096:
        raise ShapeError(f"{where} is longer than 4096 characters")
    return value
