"""`updater set FILE KEY VALUE`: set one value in a YAML file or a template, changing only its bytes."""

from __future__ import annotations

import difflib
import json
import os
from pathlib import Path
from typing import Any

import click

from updater import yamledit
from updater.infra import atomic, redact
from updater.infra.errors import InputError


@click.command("set")
@click.argument("file", type=click.Path(dir_okay=True, path_type=str))
@click.argument("args", nargs=-1, required=True, metavar="[KEY] VALUE")
@click.option("--image", metavar="REPO", help="Set the tag of every reference to this image repository.")
@click.option("--marker", metavar="NAME", help="Set the value marked '# updater: NAME' (or a Flux setter).")
@click.option(
    "--document", type=click.IntRange(min=0), metavar="N", help="Index of the YAML document (0-based)."
)
@click.option("--create", is_flag=True, help="Add the final key when it is missing (its parent must exist).")
@click.option("--allow-aliases", is_flag=True, help="Edit a value that anchors share, changing every alias.")
@click.option(
    "--all",
    "all_matches",
    is_flag=True,
    help="In a text file, set every reference to REPO, even with different tags.",
)
@click.option("--explain", is_flag=True, help="Say on stderr which editor (YAML or text) was used and why.")
@click.option("--dry-run", is_flag=True, help="Print the unified diff; write nothing.")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object describing the change.")
@click.option(
    "--root", type=click.Path(file_okay=False, path_type=str), metavar="DIR", help="Refuse files outside DIR."
)
def command(
    file: str,
    args: tuple[str, ...],
    image: str | None,
    marker: str | None,
    document: int | None,
    create: bool,
    allow_aliases: bool,
    all_matches: bool,
    explain: bool,
    dry_run: bool,
    as_json: bool,
    root: str | None,
) -> None:
    """Set KEY (or the tag of --image REPO, or the --marker NAME value) in FILE to VALUE.

    Only the bytes of the value change; the result is verified by re-reading it as YAML 1.1 and 1.2
    before the file is replaced atomically. KEY is a dotted path: image.tag, jobs."my.job".tag, a[0].b.
    A file that is not YAML (a Helm template) is edited in text mode: --image or --marker, verified
    by scanning it again.
    """
    by_key = image is None and marker is None
    if image is not None and marker is not None:
        raise InputError("give either --image or --marker, not both")
    if len(args) != (2 if by_key else 1):
        usage = "FILE KEY VALUE" if by_key else "FILE VALUE (the key comes from --image/--marker)"
        raise InputError(f"expected {usage}; got {len(args) + 1} arguments")
    key, value = (args[0], args[1]) if by_key else (None, args[0])
    locator = yamledit.Locator(key=key, image=image, marker=marker, document=document)
    try:
        yamledit.validate_value(value, allow_digest=True)
    except yamledit.YamlEditError as exc:
        raise InputError(f"{file}: {exc.message}") from None
    path = atomic.inside_root(file, root) if root is not None else Path(file)
    # One lock on the file for the whole read-edit-write: concurrent runs never lose an edit.
    with atomic.locked_update(path, shown=file) as data:
        text = _decode(file, data)
        edited = yamledit.edit(
            text,
            locator,
            value,
            source=file,
            create=create,
            allow_aliases=allow_aliases,
            digest_anywhere=False,
            all_matches=all_matches,
        )
        new_text, changes = edited.text, edited.changes
        if new_text != text and not dry_run:
            atomic.write_atomic(path, new_text.encode("utf-8"), shown=file)
    if explain:
        click.echo(f"updater: {file}: {edited.mode} mode: {edited.why}", err=True)
    diff = "".join(
        difflib.unified_diff(
            text.splitlines(keepends=True), new_text.splitlines(keepends=True), f"a/{file}", f"b/{file}"
        )
    )
    if as_json:
        click.echo(json.dumps(_report(file, changes, diff if dry_run else None, edited.mode)))
    elif dry_run:
        click.echo(diff, nl=False)
    else:
        for change in changes:
            verb = "set" if change.changed else "already"
            shared = f", shared with {change.shared_with}" if change.shared_with else ""
            line = f"{file}:{change.line}: {change.path}: {verb} {change.new} (was {change.old}){shared}"
            click.echo(redact.printable(line))  # keys and old values come from the file


def _decode(file: str, data: bytes) -> str:
    """Return the file's text decoded as UTF-8 with its newlines untouched, or a one-line error."""
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise InputError(
            f"{file}:{line}: not UTF-8 text (byte {exc.start}): save the file as UTF-8"
        ) from None


def _report(file: str, changes: list[Any], diff: str | None, mode: str) -> dict[str, Any]:
    """Return the --json object: the first change at the top level, every change under "changes"."""
    items = [
        {
            "key": c.path,
            "document": c.document,
            "line": c.line,
            "old": c.old,
            "new": c.new,
            "changed": c.changed,
            "shared_with": c.shared_with,
        }
        for c in changes
    ]
    first = items[0]
    report: dict[str, Any] = {
        "file": os.fspath(file),
        "mode": mode,
        "key": first["key"],
        "old": first["old"],
        "new": first["new"],
        "changed": any(c.changed for c in changes),
        "line": first["line"],
        "changes": items,
    }
    if diff is not None:
        report["diff"] = diff
    return report
