"""What the use cases return, and how it is shown: unified diffs, plain tables and JSON.

The use cases build these values; the commands only pick a rendering. The JSON of a write
(`bump`, `promote`, `rollback`) is a stable contract consumed by the GitHub Action and the orb:
{"command", "env", "changed", "commit", "pr_number", "pr_url", "apps": [{"app", "env", "image",
"old", "new", "digest", "images": [{"image", "digest"}], "source_commit", "promoted_from": {"env", "tag"}
or null, "files", "changed"}]} plus "dry_run" and "notes"; a dry run also gives "diffs": {file: unified
diff}.
"""

from __future__ import annotations

import difflib
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from updater.infra.redact import printable


@dataclass(frozen=True)
class AppResult:
    """One app's tag in one environment: before, after, and the files it touched."""

    app: str
    env: str
    image: str
    old: str | None
    new: str
    digest: str | None
    files: tuple[str, ...]
    changed: bool
    # Every image sharing the value with its digest, `image` first (one entry for a single image).
    images: tuple[tuple[str, str | None], ...] = ()
    source: Source | None = None  # where a promoted tag comes from


@dataclass(frozen=True)
class Source:
    """The build a promotion carries: the source environment's tag and the commit it was built from."""

    env: str
    tag: str
    commit: str | None = None  # as many hex digits as the source template spells


@dataclass(frozen=True)
class FileDiff:
    path: str
    old: bytes
    new: bytes


@dataclass(frozen=True)
class WriteReport:
    """The result of bump / promote / rollback."""

    command: str
    env: str
    changed: bool
    apps: tuple[AppResult, ...]
    diffs: tuple[FileDiff, ...] = ()
    commit: str | None = None
    pr_number: int | None = None
    pr_url: str | None = None
    dry_run: bool = False
    notes: tuple[str, ...] = field(default=())
    branch: str | None = None  # where the commit landed (the PR head when plain git opens no PR)
    merged: bool = False  # auto-merge: the PR is merged (now, or within --wait-merged)
    merge: str | None = None  # auto-merge: "direct" (updater merged it) or "armed" (GitHub will)

    def to_json(self) -> dict[str, Any]:
        """Return the JSON contract; a dry run adds "diffs": {file: unified diff} of what it would write."""
        extra = {"diffs": {item.path: diff(item) for item in self.diffs}} if self.dry_run else {}
        return {
            "command": self.command,
            "env": self.env,
            "changed": self.changed,
            "commit": self.commit,
            "pr_number": self.pr_number,
            "pr_url": self.pr_url,
            "merged": self.merged,
            "merge": self.merge,
            "dry_run": self.dry_run,
            "apps": [
                {
                    "app": a.app,
                    "env": a.env,
                    "image": a.image,
                    "old": a.old,
                    "new": a.new,
                    "digest": a.digest,
                    "images": [{"image": image, "digest": digest} for image, digest in a.images]
                    or [{"image": a.image, "digest": a.digest}],
                    "source_commit": a.source.commit if a.source else None,
                    "promoted_from": {"env": a.source.env, "tag": a.source.tag} if a.source else None,
                    "files": list(a.files),
                    "changed": a.changed,
                }
                for a in self.apps
            ],
            "notes": list(self.notes),
            **extra,
        }


def emit(report: WriteReport, as_json: bool) -> None:
    """Print a write's result: one JSON object on stdout with --json, else diffs and a summary."""
    import json

    import click

    if as_json:
        click.echo(json.dumps(report.to_json(), indent=2))
    else:
        click.echo(render_write(report), nl=False)


def diff(item: FileDiff) -> str:
    """Return a unified diff of one file (line endings kept as found, so a CRLF file diffs cleanly)."""
    old = item.old.decode("utf-8", "replace").splitlines(keepends=True)
    new = item.new.decode("utf-8", "replace").splitlines(keepends=True)
    lines = difflib.unified_diff(old, new, f"a/{item.path}", f"b/{item.path}")
    return "".join(line if line.endswith("\n") else line + "\n" for line in lines)


def render_write(report: WriteReport) -> str:
    """Return the human summary of a write: diffs, one line per app, and where it landed."""
    out = [diff(item) for item in report.diffs]
    for app in report.apps:
        arrow = f"{app.old or '(none)'} -> {app.new}" if app.changed else f"{app.new} (unchanged)"
        # old comes from a file: escaped
        out.append(printable(f"{app.app} ({app.env}): {arrow}{_built_from(app.source, app.new)}") + "\n")
    if not report.changed:
        out.append(f"{report.env}: already up to date\n")
    elif report.dry_run:
        out.append("dry run: nothing written\n")
    elif report.pr_url:
        out.append(f"pull request #{report.pr_number}: {report.pr_url}\n")
    elif report.commit:
        where = f" (branch {report.branch})" if report.branch else ""
        out.append(f"committed {report.commit[:12]} to {report.env}{where}\n")
    out.extend(printable(f"note: {note}") + "\n" for note in report.notes)
    return "".join(out)


def _built_from(source: Source | None, new: str) -> str:
    """Return the summary's note on a promoted tag: the commit both environments' builds come from."""
    if source is None or source.commit is None:
        return ""
    if source.tag == new:
        return f" (as in {source.env}, built from commit {source.commit})"
    return f" (built from the same commit {source.commit} as {source.env}'s {source.tag})"


def commit_message(
    command: str,
    env: str,
    apps: Sequence[AppResult],
    *,
    source: str | None,
    run_url: str | None,
    title: str | None,
) -> str:
    """Return the commit message: a title, then app, env, old -> new, digest, source commit, CI run."""
    changed = [a for a in apps if a.changed]
    if title is None:
        listed = ", ".join(f"{a.app} {a.new}" for a in changed[:3])
        more = f" and {len(changed) - 3} more" if len(changed) > 3 else ""
        title = f"{command} {env}: {listed}{more}"
    body = []
    for a in changed:
        body.append(f"- {a.app} ({a.env}): {a.old or '(none)'} -> {a.new}")
        for image, digest in a.images or ((a.image, a.digest),):
            body.append(f"  image: {image}")
            if digest:
                body.append(f"  digest: {digest}")
        if a.source and a.source.commit:
            body.append(f"  source commit: {a.source.commit} ({a.source.env} {a.source.tag})")
        body.append(f"  files: {', '.join(a.files)}")
    if source:
        body.append(f"Source commit: {source}")
    if run_url:
        body.append(f"CI run: {run_url}")
    return title + "\n\n" + "\n".join(body) + "\n"


def pr_body(
    apps: Sequence[AppResult],
    *,
    source: str | None,
    source_url: str | None,
    run_url: str | None,
    compare_url: str | None,
) -> str:
    """Return a pull request's Markdown body: a row per changed app (app, environment, old -> new tag,
    digest), then the source commit, the CI run and a compare link, so a reviewer needs nothing else."""
    rows = ["| App | Environment | Old tag | New tag | Digest |", "| --- | --- | --- | --- | --- |"]
    for a in apps:
        if a.changed:
            old = f"`{a.old}`" if a.old else "(none)"
            digest = f"`{a.digest}`" if a.digest else "-"
            rows.append(f"| {a.app} | {a.env} | {old} | `{a.new}` | {digest} |")
    lines = ["\n".join(rows), ""]
    for a in apps:
        if a.changed and a.source and a.source.commit:
            lines.append(
                f"- {a.app}: built from commit {a.source.commit}, as {a.source.env}'s `{a.source.tag}`"
            )
    if source:
        lines.append(
            f"- Source commit: [{source[:12]}]({source_url})" if source_url else f"- Source commit: {source}"
        )
    if run_url:
        lines.append(f"- CI run: {run_url}")
    if compare_url:
        lines.append(f"- Compare: {compare_url}")
    return "\n".join(lines).rstrip() + "\n"


def table(headers: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    """Return a plain left-aligned text table; cells (tags from files and registries, errors) escaped."""
    headers = [printable(str(cell)) for cell in headers]
    rows = [[printable(str(cell)) for cell in row] for row in rows]
    widths = [max(len(str(cell)) for cell in column) for column in zip(headers, *rows, strict=True)]
    lines = []
    for row in (headers, *rows):
        lines.append(
            "  ".join(str(cell).ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip()
        )
    return "\n".join(lines) + "\n"


def when(moment: datetime) -> str:
    """Return a timestamp as users read it in a table (UTC offset kept)."""
    return moment.isoformat(timespec="seconds")
