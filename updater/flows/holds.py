"""Holds: an app × environment that a rollback pinned, so that the next automatic bump does not undo it.

A hold lives in a small state file of the GitOps repository, `.updater/holds.yaml`, on the
environment's branch. It is written in the same commit as the rollback (through `flows.write`'s
`Extra`), removed by `updater release` in one commit, and read by bump (held apps are skipped with a
note), promote (a held target is refused) and status (`held (rolled back from X by Y)`).

Why a state file rather than a marker in the values file or commit trailers: the values file belongs
to the chart (a marker there would be rendered, reformatted or dropped by other tools, and it would
put a non-tag change into a file updater promises to change only at the tag's bytes); trailers live in
history, so every bump would have to scan history, and a squash merge may rewrite them. One small file
is read in one request, shows every hold at a glance, and its own git history says who held and
released what.
"""

from __future__ import annotations

import getpass
import os
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timezone

from updater.config.model import Config
from updater.flows import plan as planning
from updater.infra.errors import InputError
from updater.scm.base import Backend, Editor, Reader

HOLDS_FILE = ".updater/holds.yaml"
_MAX_BYTES = 1 << 20
_FIELDS = ("from", "to", "by", "at")
_HEADER = (
    "# Written by updater: apps a rollback holds at their tag; `bump` skips them and `promote` refuses\n"
    "# to write into them until `updater release --env ENV --app APP` lifts the hold.\n"
)
_UNPRINTABLE = re.compile(r"[\x00-\x1f\x7f-\x9f]")


@dataclass(frozen=True)
class Hold:
    """App `app` in `env` was rolled back from tag `from_tag` to `to_tag` by `by` at `at` (ISO time)."""

    env: str
    app: str
    from_tag: str
    to_tag: str
    by: str
    at: str

    def describe(self) -> str:
        return f"held (rolled back from {self.from_tag} by {self.by})"

    def to_json(self) -> dict[str, str]:
        return {"from": self.from_tag, "to": self.to_tag, "by": self.by, "at": self.at}


Holds = dict[tuple[str, str], Hold]


def parse(data: bytes | None, branch: str) -> Holds:
    """Return the holds in the file's bytes; a malformed file is an input error naming it."""
    if data is None:
        return {}
    where = f"{HOLDS_FILE} (branch {branch})"
    if len(data) > _MAX_BYTES:
        raise InputError(f"{where}: larger than {_MAX_BYTES} bytes: fix or remove it")
    # ruamel.yaml loads only when a file is parsed, as everywhere in updater (see config/parse.py).
    from ruamel.yaml import YAML
    from ruamel.yaml.error import YAMLError

    try:
        loaded = YAML(typ="safe", pure=True).load(data.decode("utf-8"))
    except (UnicodeDecodeError, YAMLError) as exc:
        raise InputError(f"{where}: not readable YAML ({_oneline(str(exc))}): fix or remove it") from None
    if loaded is None:
        return {}
    envs = loaded.get("holds") if isinstance(loaded, dict) else None
    if not isinstance(envs, dict):
        raise InputError(f"{where}: expected a mapping `holds: {{ENV: {{APP: {{...}}}}}}`: fix or remove it")
    holds: Holds = {}
    for env, apps in envs.items():
        if not isinstance(apps, dict):
            raise InputError(f"{where}: holds.{env} is not a mapping of apps: fix or remove it")
        for app, spec in apps.items():
            if not isinstance(spec, dict) or not all(isinstance(spec.get(k), str) for k in _FIELDS):
                raise InputError(
                    f"{where}: holds.{env}.{app} needs the strings {', '.join(_FIELDS)}: "
                    f"fix it, or lift it with `updater release --env {env} --app {app}`"
                )
            values = [_clean(spec[k]) for k in _FIELDS]
            holds[(str(env), str(app))] = Hold(str(env), str(app), *values)
    return holds


def render(holds: Holds) -> bytes:
    """Return the file for `holds`, sorted, one flow mapping per hold (diffs stay one line per hold)."""
    if not holds:
        return _HEADER.encode() + b"holds: {}\n"
    lines = [_HEADER.rstrip("\n"), "holds:"]
    for env in sorted({env for env, _ in holds}):
        lines.append(f"  {_quote(env)}:")
        for (_, app), hold in sorted((k, v) for k, v in holds.items() if k[0] == env):
            fields = ", ".join(f"{k}: {_quote(v)}" for k, v in hold.to_json().items())
            lines.append(f"    {_quote(app)}: {{{fields}}}")
    return ("\n".join(lines) + "\n").encode()


def of_env(config: Config, backend: Backend, env: str, reader: Reader | None = None) -> Holds:
    """Return the holds of `env`, read from its branch (through `reader` when the caller has one)."""
    branch = config.environments[env].branch or ""
    data = reader(HOLDS_FILE) if reader is not None else backend.read(branch, HOLDS_FILE)
    return {key: hold for key, hold in parse(data, branch).items() if key[0] == env}


def placing(hold: Hold | Sequence[Hold], branch: str) -> Editor:
    """Return an editor (for `flows.write.Extra`) that records the hold(s) in the state file of `branch`."""
    new = [hold] if isinstance(hold, Hold) else list(hold)

    def edit(reader: Reader) -> dict[str, bytes]:
        holds = parse(reader(HOLDS_FILE), branch)
        for one in new:
            holds[(one.env, one.app)] = one
        return {HOLDS_FILE: render(holds)}

    return edit


def lifting(env: str, app: str, branch: str) -> Editor:
    """Return an editor that removes the hold of `app` in `env`; it refuses when there is none."""

    def edit(reader: Reader) -> dict[str, bytes]:
        holds = parse(reader(HOLDS_FILE), branch)
        if holds.pop((env, app), None) is None:
            raise InputError(f"app {app!r} ({env}) is not held: nothing to release")
        return {HOLDS_FILE: render(holds)}

    return edit


def new_hold(env: str, app: str, from_tag: str, to_tag: str, author: str | None = None) -> Hold:
    """Return the hold a rollback from `from_tag` to `to_tag` records, by whoever runs it, now."""
    at = datetime.now(timezone.utc).replace(microsecond=0).isoformat()
    return Hold(env, app, from_tag, to_tag, _clean(who(author)), at)


def who(author: str | None = None) -> str:
    """Return who is acting: the CI actor, else the configured commit author, else the login name."""
    for value in (os.environ.get("GITHUB_ACTOR"), os.environ.get("CIRCLE_USERNAME"), author):
        if value:
            return value
    try:
        return os.environ.get("GIT_AUTHOR_NAME") or getpass.getuser()
    except (KeyError, OSError):
        return "unknown"


def skip_held(
    plans: Sequence[planning.AppPlan], holds: Holds, ignore: bool
) -> tuple[list[planning.AppPlan], list[str]]:
    """Return the plans to bump and a note per held app left out (none left out with `ignore`)."""
    kept, notes = [], []
    for item in plans:
        hold = holds.get((item.env, item.app))
        if hold is None or ignore:
            kept.append(item)
        else:
            notes.append(
                f"{item.app} ({item.env}) skipped: {hold.describe()}; "
                f"`updater release --env {item.env} --app {item.app}` lifts it"
            )
    return kept, notes


def refuse_if_held(holds: Holds, env: str, apps: Iterable[str], ignore: bool) -> None:
    """Raise an input error (exit 2) naming every hold among `apps` in `env`, unless `ignore`."""
    if ignore:
        return
    held = [holds[(env, app)] for app in apps if (env, app) in holds]
    if held:
        listed = "; ".join(f"{h.app} ({env}) is {h.describe()}" for h in held)
        raise InputError(
            f"{listed}: release it first (`updater release --env {env} --app {held[0].app}`) "
            "or pass --ignore-hold"
        )


def _clean(text: str) -> str:
    """Return one line of at most 200 characters, without control characters (never echoed)."""
    return _UNPRINTABLE.sub("?", text)[:200]


def _oneline(text: str) -> str:
    return " ".join(_clean(line).strip() for line in text.splitlines())[:200]


def _quote(text: str) -> str:
    """Return a YAML double-quoted scalar (JSON's escaping is valid YAML)."""
    escaped = text.replace("\\", "\\\\").replace('"', '\\"')
    return f'"{escaped}"'
