"""CI context and reporting for the GitHub Action and the CircleCI orb.

Pure functions turn environment variables into a `CiContext` and an updater `--json` result into
outputs, a Markdown summary and workflow commands; the only I/O is appending to the files the runner
hands us (GITHUB_OUTPUT, GITHUB_STEP_SUMMARY, BASH_ENV). Run as `python -m updater.ci circleci RESULT`
it exports a result to later CircleCI steps.
"""

from __future__ import annotations

import json
import re
import secrets as _random
import shlex
import sys
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from updater.infra import redact, safeio
from updater.infra.cienv import github_run_url as github_run_url  # the Action and tests read it here
from updater.infra.errors import InputError

_OUTPUT_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_-]*$")


@dataclass(frozen=True)
class CiContext:
    """Where we run: the provider, the commit that triggered the run, and a link back to the run."""

    provider: str | None  # "github" | "circleci" | None outside CI
    sha: str | None
    run_url: str | None
    repository: str | None


def context(environ: Mapping[str, str]) -> CiContext:
    """Return the CI context described by the environment (GitHub Actions first, then CircleCI)."""
    if environ.get("GITHUB_ACTIONS") == "true" or environ.get("GITHUB_RUN_ID"):
        return CiContext(
            "github",
            environ.get("GITHUB_SHA") or None,
            github_run_url(environ),
            environ.get("GITHUB_REPOSITORY") or None,
        )
    if environ.get("CIRCLECI") == "true" or environ.get("CIRCLE_BUILD_URL") or environ.get("CIRCLE_SHA1"):
        repo = None
        if environ.get("CIRCLE_PROJECT_USERNAME") and environ.get("CIRCLE_PROJECT_REPONAME"):
            repo = f"{environ['CIRCLE_PROJECT_USERNAME']}/{environ['CIRCLE_PROJECT_REPONAME']}"
        return CiContext(
            "circleci", environ.get("CIRCLE_SHA1") or None, environ.get("CIRCLE_BUILD_URL") or None, repo
        )
    return CiContext(None, None, None, None)


# --- what a result says -------------------------------------------------------------------------


def _apps(result: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    apps = result.get("apps")
    return [a for a in apps if isinstance(a, Mapping)] if isinstance(apps, list) else []


def _text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def outputs(result: Mapping[str, Any]) -> dict[str, str]:
    """Return the step outputs for an updater `--json` result (single values and JSON maps by app)."""
    apps = _apps(result)
    tags = {str(a.get("app")): a.get("new") for a in apps}
    digests = {str(a.get("app")): a.get("digest") for a in apps}
    single = apps[0] if len(apps) == 1 else None
    changed = result.get("changed")
    if changed is None:
        changed = any(bool(a.get("changed")) for a in apps)
    # A re-run whose pull request already holds the change reports the apps as changed (against the
    # base branch) but changes nothing itself: changed-apps follows `changed`, what this run did.
    changed_apps = sorted(str(a.get("app")) for a in apps if a.get("changed")) if changed else []
    return {
        "changed": _text(bool(changed)),
        "tag": _text(single.get("new")) if single else "",
        "tags": json.dumps(tags, sort_keys=True),
        "digest": _text(single.get("digest")) if single else "",
        "digests": json.dumps(digests, sort_keys=True),
        "changed-apps": json.dumps(changed_apps),
        "commit-sha": _text(result.get("commit")),
        "pr-number": _text(result.get("pr_number")),
        "pr-url": _text(result.get("pr_url")),
        "json": json.dumps(result, sort_keys=True),
        "deployed": _deployed(result),
    }


def _deployed(result: Mapping[str, Any]) -> str:
    """Return "true"/"false" when the run waited for Argo CD (--wait-deployed, `deployed`), else ""."""
    deploy = result.get("deploy")
    return _text(bool(deploy.get("ok"))) if isinstance(deploy, Mapping) else ""


def _live_summary(rows: list[Mapping[str, Any]]) -> list[str]:
    """Return the Markdown table of `status --live`: what Argo CD runs, sync, health and drift."""
    if not rows:
        return []
    lines = ["", "| App | Env | Live | Sync | Health | Drift |", "| --- | --- | --- | --- | --- | --- |"]
    for row in rows:
        drift = ", ".join(_text(d) for d in row.get("drift") or [] if isinstance(d, str))
        cells = [_cell(row.get(k)) for k in ("app", "env", "live", "sync", "health")] + [_cell(drift)]
        lines.append(f"| {' | '.join(cells)} |")
    return lines


def _deploy_summary(result: Mapping[str, Any]) -> list[str]:
    """Return the Markdown rows of the Argo CD wait: app, Application, state, revision, sync, health,
    images, time to Synced and to Healthy; then the rollback when one was written."""
    deploy = result.get("deploy")
    if not isinstance(deploy, Mapping):
        return []
    lines = [
        "",
        "| App | Application | State | Revision | Sync | Health | Images | Synced after | Healthy after |",
        "| --- | --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    reasons: list[str] = []
    for app in (a for a in deploy.get("apps") or [] if isinstance(a, Mapping)):
        revision = _text(app.get("revision"))[:12]
        images = ", ".join(_text(i) for i in app.get("images") or [] if isinstance(i, str))
        timings = [
            f"{app[k]}s" if isinstance(app.get(k), (int, float)) else ""
            for k in ("synced_after", "healthy_after")
        ]
        cells = [
            _cell(app.get("app")),
            _cell(app.get("application")),
            _cell(app.get("state")),
            _cell(revision),
            _cell(app.get("sync")),
            _cell(app.get("health")),
            _cell(images),
            *(_cell(t) for t in timings),
        ]
        lines.append(f"| {' | '.join(cells)} |")
        if app.get("state") != "healthy":
            reasons.append(f"- {_cell(app.get('app'))}: {_text(app.get('reason')).replace(chr(10), ' ')}")
    lines += ["", *reasons] if reasons else []
    rollback = deploy.get("rollback")
    if isinstance(rollback, Mapping):
        back = ", ".join(
            f"{_text(a.get('app'))} {_text(a.get('old'))} → {_text(a.get('new'))}"
            for a in rollback.get("apps") or []
            if isinstance(a, Mapping) and a.get("changed")
        )
        lines.append(
            f"\nRolled back: {back or 'nothing to change'} (commit `{_text(rollback.get('commit'))}`)"
        )
    return lines


def _cell(value: object) -> str:
    """Return a table cell: the value as inline code, escaped so that nothing in it (a CR, a newline,
    a `|`, a backtick) can end the cell, the row or the code span."""
    text = redact.printable(_text(value)).replace("|", "\\|")
    if not text:
        return "—"
    fence = "`" * (max((len(run) for run in re.findall(r"`+", text)), default=0) + 1)
    pad = " " if text.startswith("`") or text.endswith("`") else ""
    return f"{fence}{pad}{text}{pad}{fence}"


def _status_state(row: Mapping[str, Any]) -> str:
    """Return a status row's state as `updater status` prints it: error, hold, or up to date/behind/..."""
    if row.get("error"):
        return "error: " + redact.printable(_text(row["error"]))
    held = row.get("held")
    if isinstance(held, Mapping):
        return redact.printable(
            f"held (rolled back from {_text(held.get('from'))} by {_text(held.get('by'))})"
        )
    if isinstance(row.get("state"), str):
        return redact.printable(row["state"])
    return "behind" if row.get("behind") else "up to date"


def summary(result: Mapping[str, Any], run_url: str | None = None) -> str:
    """Return a Markdown step summary: one table row per app (app, env, old, new, PR)."""
    command = _text(result.get("command")) or "updater"
    apps = _apps(result)
    lines = [f"### updater {command}", ""]
    rows = result.get("rows")
    if isinstance(rows, list):  # status: one row per app and environment
        lines += ["| App | Env | Tag | Newest | State |", "| --- | --- | --- | --- | --- |"]
        for row in (r for r in rows if isinstance(r, Mapping)):
            state = _status_state(row)
            cells = [_cell(row.get(k)) for k in ("app", "env", "tag", "newest")]
            lines.append(f"| {' | '.join(cells)} | {state.replace('|', chr(92) + '|')} |")
        lines += _live_summary([r for r in rows if isinstance(r, Mapping) and "live" in r])
    elif not apps and "deploy" in result:
        lines.append(f"Argo CD, environment `{_text(result.get('env'))}`:")  # `updater deployed`
    elif not apps:
        lines.append("No app matched." if result.get("changed") is not None else "Nothing to report.")
    else:
        pr_url, pr_number = result.get("pr_url"), result.get("pr_number")
        pr = (
            f"[#{redact.printable(_text(pr_number))}]({redact.printable(_text(pr_url))})"
            if pr_url and pr_number
            else (redact.printable(_text(pr_url)) or "—")
        )
        lines += ["| App | Env | Old | New | PR |", "| --- | --- | --- | --- | --- |"]
        for app in apps:
            new = _cell(app.get("new")) if app.get("changed") else f"{_cell(app.get('new'))} (unchanged)"
            env = app.get("env") or result.get("env") or result.get("to")
            lines.append(
                f"| {_cell(app.get('app'))} | {_cell(env)} | {_cell(app.get('old'))} | {new} | {pr} |"
            )
    lines += _deploy_summary(result)
    lines.append("")
    if result.get("dry_run"):
        lines.append("Dry run: nothing was written.")
    if result.get("commit"):
        lines.append(f"Commit: {_cell(result['commit'])}")
    notes = result.get("notes")
    for note in notes if isinstance(notes, list) else ():
        lines.append(f"Note: {redact.printable(_text(note))}")
    if run_url:
        lines.append(f"Run: {run_url}")
    return "\n".join(lines).rstrip("\n") + "\n"


# --- GitHub Actions: file commands and workflow commands ------------------------------------------


def output_entry(name: str, value: str, delimiter: str | None = None) -> str:
    """Return one GITHUB_OUTPUT entry in the multiline-safe `name<<DELIMITER` syntax."""
    if not _OUTPUT_NAME.match(name):
        raise ValueError(f"invalid output name {name!r}")
    while delimiter is None or delimiter in value or delimiter in name:
        delimiter = f"ghadelimiter_{_random.token_hex(16)}"
    return f"{name}<<{delimiter}\n{value}\n{delimiter}\n"


def write_outputs(path: str | Path, values: Mapping[str, str]) -> None:
    """Append every output to the GITHUB_OUTPUT file."""
    with open(path, "a", encoding="utf-8", newline="\n") as handle:
        handle.write("".join(output_entry(name, value) for name, value in values.items()))


def append_summary(path: str | Path, markdown: str) -> None:
    """Append Markdown to the GITHUB_STEP_SUMMARY file."""
    with open(path, "a", encoding="utf-8", newline="\n") as handle:
        handle.write(markdown)


def escape_data(value: str) -> str:
    """Escape a workflow command's data the way the runner unescapes it."""
    return value.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


_PEM_ARMOR = re.compile(r"-----(BEGIN|END) [A-Z0-9 ]+-----")


def mask_commands(values: Iterable[str]) -> list[str]:
    """Return `::add-mask::` lines for the secrets; a multiline secret is masked line by line too.

    A PEM's BEGIN/END lines are public and would blank out every mention of a key type in the log, so
    only the whole value and its base64 lines are masked.
    """
    seen: set[str] = set()
    commands = []
    for value in values:
        parts = [value, *value.splitlines()] if "\n" in value or "\r" in value else [value]
        for part in parts:
            part = part.strip("\r")
            if part.strip() and part not in seen and not _PEM_ARMOR.fullmatch(part.strip()):
                seen.add(part)
                commands.append(f"::add-mask::{escape_data(part)}")
    return commands


# --- CircleCI: values for later steps -------------------------------------------------------------


def env_name(output: str) -> str:
    """Return the variable a CircleCI step exports for an output: `pr-url` -> `UPDATER_PR_URL`."""
    return "UPDATER_" + re.sub(r"[^A-Za-z0-9]", "_", output).upper()


def bash_env_lines(values: Mapping[str, str]) -> list[str]:
    """Return `export NAME=VALUE` lines (shell-quoted) for CircleCI's BASH_ENV."""
    return [f"export {env_name(name)}={shlex.quote(value)}" for name, value in values.items()]


def plain_table(result: Mapping[str, Any]) -> str:
    """Return the summary rows as aligned plain text, for logs that do not render Markdown."""
    rows: list[tuple[str, ...]] = [("APP", "ENV", "OLD", "NEW", "CHANGED")]
    for app in _apps(result):
        env = app.get("env") or result.get("env") or result.get("to")
        rows.append(
            tuple(
                _text(v) or "-"
                for v in (app.get("app"), env, app.get("old"), app.get("new"), bool(app.get("changed")))
            )
        )
    widths = [max(len(row[i]) for row in rows) for i in range(5)]
    return "\n".join("  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip() for row in rows)


def circleci_export(result_file: str, environ: Mapping[str, str]) -> int:
    """Export a result's outputs to BASH_ENV (when set) and print its table; return an exit code."""
    try:
        result = json.loads(safeio.read_regular(result_file).decode("utf-8"))
    except (InputError, ValueError) as exc:
        print(f"updater: error: {result_file}: cannot read the updater --json result: {exc}", file=sys.stderr)
        return 2
    if not isinstance(result, dict):
        print(f"updater: error: {result_file}: expected one JSON object", file=sys.stderr)
        return 2
    values = outputs(result)
    bash_env = environ.get("BASH_ENV")
    if bash_env:
        with open(bash_env, "a", encoding="utf-8") as handle:
            handle.write("\n".join(bash_env_lines(values)) + "\n")
    print(plain_table(result))
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """`python -m updater.ci circleci RESULT_JSON`: the orb's reporting step."""
    import os

    args = list(sys.argv[1:] if argv is None else argv)
    if len(args) != 2 or args[0] != "circleci":
        print("usage: python -m updater.ci circleci RESULT_JSON", file=sys.stderr)
        return 2
    return circleci_export(args[1], os.environ)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
