"""What is deployed: the value an app has in git today (`current`) and over time (`history`).

Shared by status, history, promote and rollback, so that no use case imports another.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from updater.config.model import Config
from updater.flows import plan as planning
from updater.infra.errors import InputError
from updater.scm.base import Backend
from updater.yamledit import Locator, YamlEditError, find, get_values


@dataclass(frozen=True)
class Current:
    """The value of an app's first target: tag, digest (inline or from its digest key), where it is."""

    tag: str | None
    digest: str | None
    file: str
    line: int | None


def parse_value(text: str, item: planning.AppPlan, source: str) -> tuple[str | None, str | None, int | None]:
    """Return (tag, digest, line) of the plan's first target; digest from tag@sha256:... or its key."""
    target = item.targets[0]
    found = find(text, planning.locator(target), source=source).found  # a YAML file, or a template
    if not found or found[0].value is None:
        return None, None, found[0].line if found else None
    value = found[0].value
    tag, _, digest = value.partition("@")
    if "/" in tag or ":" in tag:  # an image locator may give the whole reference: keep its tag
        _, colon, tag = tag.rpartition(":")
        tag = tag if colon and "/" not in tag else ""
    if target.digest_key and not digest:
        at = Locator(key=target.digest_key, document=found[0].document)
        digests = get_values(text, at, source=source)
        digest = (digests[0].value or "") if digests else ""
    return tag or None, digest or None, found[0].line


def current(config: Config, backend: Backend, item: planning.AppPlan) -> Current:
    """Return the tag `item` has at the head of its environment's branch."""
    target = item.targets[0]
    data = backend.read(item.branch, target.file)
    where = planning.where(config, target)
    if data is None:
        raise InputError(
            f"{where}: app {item.app!r} ({item.env}): {target.file} does not exist on branch {item.branch}: "
            "fix the path in the config (relative to the repository root)"
        )
    try:
        tag, digest, line = parse_value(data.decode("utf-8", "replace"), item, target.file)
    except YamlEditError as exc:
        raise InputError(f"{where}: app {item.app!r} ({item.env}): {exc.message}") from exc
    return Current(tag, digest, target.file, line)


# The line bump writes in its commit message when it knows the commit it deployed (see report).
_SOURCE_LINE = re.compile(r"^Source commit: ([0-9a-f]{7,64})$", re.MULTILINE)


def recorded_source(config: Config, backend: Backend, item: planning.AppPlan, tag: str) -> str | None:
    """Return the source commit named in the message of the commit that wrote `tag` into the app's
    file ("Source commit: SHA"), or None (not recorded, or a backend without history or messages)."""
    target = item.targets[0]
    try:
        revisions = backend.history(item.branch, target.file, 50)
    except InputError:  # the files backend keeps no history
        return None
    writer = None
    for revision in revisions:  # newest first: walk back while the file holds `tag`
        if revision.content is None:
            break
        try:
            value, _, _ = parse_value(revision.content.decode("utf-8", "replace"), item, target.file)
        except YamlEditError:
            break
        if value != tag:
            break
        writer = revision
    match = _SOURCE_LINE.search(writer.message) if writer is not None else None
    return match[1] if match else None


@dataclass(frozen=True)
class Entry:
    """A tag the app had, and the commit that wrote it."""

    tag: str
    digest: str | None
    commit: str
    author: str
    date: datetime

    def to_json(self) -> dict[str, Any]:
        return {
            "tag": self.tag,
            "digest": self.digest,
            "commit": self.commit,
            "author": self.author,
            "date": self.date.isoformat(),
        }


def history(config: Config, backend: Backend, env: str, app: str, *, limit: int = 200) -> list[Entry]:
    """Return the app's tags in `env`, newest first, one entry per change of value."""
    item = planning.plan(config, env, [app], writing=False)[0]
    target = item.targets[0]
    entries: list[Entry] = []
    previous: str | None = None
    # Oldest first, so that each entry is the commit that introduced its value.
    for revision in reversed(backend.history(item.branch, target.file, limit)):
        if revision.content is None:
            continue
        try:
            tag, digest, _ = parse_value(revision.content.decode("utf-8", "replace"), item, target.file)
        except YamlEditError:
            continue  # the file had another shape then: that version cannot tell us the tag
        if tag is None or tag == previous:
            continue
        previous = tag
        entries.append(Entry(tag, digest, revision.commit, revision.author, revision.date))
    entries.reverse()
    return entries
