"""The one write path of bump, promote and rollback: every app's new value in ONE commit (or PR).

Given the new value of each app, `write` builds an editor (a pure function of the files it reads, so a
backend can re-run it on a fresh head after losing a race), previews it on the branch head, and lands
it through the scm backend only when something changes. Nothing is resolved or written before every
app's value is known.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from updater.config.model import Config
from updater.flows import plan as planning
from updater.flows.report import AppResult, FileDiff, Source, WriteReport, commit_message, pr_body
from updater.infra.cienv import ci_branch, ci_run, github_run_url
from updater.infra.errors import InputError
from updater.scm.base import Backend, CommitRequest, PullRequestSpec, Reader
from updater.yamledit import Found, Locator, YamlEditError, edit, refusal, set_value


@dataclass(frozen=True)
class NewValue:
    """The tag (and digest, when known) to write for one app's plan."""

    plan: planning.AppPlan
    tag: str
    digest: str | None = None
    # Every image sharing the value and its digest, the plan's image first (empty: that one only).
    images: tuple[tuple[str, str | None], ...] = ()
    source: Source | None = None  # promote: the build it carries


# Called with (value, current tag) before a changed app is written; raises to refuse it.
Check = Callable[[NewValue, str], None]


def ci_variables(
    sha: str | None, app: str, env: str, *, branch: str | None = None, run: str | None = None
) -> dict[str, str | None]:
    """Return the template fields: the commit, app and env, and the branch and run (given, or CI's)."""
    return {
        "sha": sha,
        "app": app,
        "env": env,
        "branch": ci_branch(os.environ, branch),
        "run": ci_run(os.environ, run),
    }


def run_url() -> str | None:
    """Return the URL of the CI run we are part of (GitHub Actions or CircleCI), if any.

    The GitHub link is ci's (with /attempts/N on a re-run), so the commit message and the Action's
    step summary point at the same run.
    """
    return github_run_url(os.environ) or os.environ.get("CIRCLE_BUILD_URL") or None


def write(
    config: Config,
    backend: Backend,
    command: str,
    env: str,
    values: Sequence[NewValue],
    *,
    check: Check | None = None,
    dry_run: bool = False,
    source: str | None = None,
    wait_merged: float | None = None,
) -> WriteReport:
    """Write every value into its targets on the environment's branch as ONE commit (or PR).

    `wait_merged` (auto-merge mode only): seconds to block until the pull request is merged.
    """
    branch = config.environments[env].branch or ""
    mode = config.environments[env].mode
    planning.check_wait_merged(config, env, wait_merged)
    editor = _Editor(config, env, branch, values, check)
    preview = editor(_prefetched(backend, branch, editor.paths))
    if not preview or dry_run:
        return WriteReport(
            command, env, bool(preview), tuple(editor.results), tuple(editor.diffs), dry_run=dry_run
        )
    title = None
    if config.commit.message:
        title = _title(config.commit.message, command, env, editor.results)
    message = commit_message(command, env, editor.results, source=source, run_url=run_url(), title=title)
    request = CommitRequest(
        branch=branch,
        message=message,
        mode=mode,
        author=config.commit.author,
        pull_request=None
        if mode == "commit"
        else _pull_request(config, backend, command, env, editor.results, message, source),
        wait_merged=wait_merged,
    )
    outcome = backend.apply(request, editor)
    return WriteReport(
        command,
        env,
        outcome.changed,
        tuple(editor.results),
        tuple(editor.diffs),
        commit=outcome.commit,
        pr_number=outcome.pr_number,
        pr_url=outcome.pr_url,
        notes=outcome.notes,
        branch=request.pull_request.head if request.pull_request else branch,
        merged=outcome.merged,
        merge=outcome.merge,
    )


def _prefetched(backend: Backend, branch: str, paths: Sequence[str]) -> Reader:
    """Return a reader of the branch head; a backend that can read many files at once (GitHub: one
    GraphQL query) is asked once, so the preview costs one call whatever the number of apps."""
    read_many = getattr(backend, "read_many", None)
    if not callable(read_many):
        return lambda path: backend.read(branch, path)
    files: dict[str, bytes | None] = dict(read_many(branch, list(paths)))

    def read(path: str) -> bytes | None:
        if path not in files:
            files[path] = backend.read(branch, path)
        return files[path]

    return read


class _Editor:
    """The editor handed to the backend; it keeps the results of its latest run for the report."""

    def __init__(
        self, config: Config, env: str, branch: str, values: Sequence[NewValue], check: Check | None
    ) -> None:
        self.config, self.env, self.branch, self.values, self.check = config, env, branch, values, check
        self.results: list[AppResult] = []
        self.diffs: list[FileDiff] = []
        # The files it reads, so a backend can fetch them with the branch head in one request.
        self.paths = tuple(dict.fromkeys(t.file for v in values for t in v.plan.targets))

    def __call__(self, read: Reader) -> dict[str, bytes]:
        originals: dict[str, bytes] = {}
        texts: dict[str, str] = {}
        results = []
        for value in self.values:
            item = value.plan
            files: list[str] = []
            old: str | None = None
            for target in item.targets:
                where = planning.where(self.config, target)
                if target.file not in texts:
                    data = read(target.file)
                    if data is None:
                        raise InputError(
                            f"{where}: app {item.app!r} ({self.env}): {target.file} does not exist on branch "
                            f"{self.branch}: fix the path in the config (relative to the repository root)"
                        )
                    originals[target.file] = data
                    texts[target.file] = _decode(data, target.file)
                inline = item.record_digest and value.digest and not target.digest_key
                new = f"{value.tag}@{value.digest}" if inline else value.tag
                locator = planning.locator(target)
                try:
                    # A YAML file gets the structural editor; a Helm template or other text file text mode.
                    edited = edit(texts[target.file], locator, new, source=target.file)
                    text, changes = edited.text, edited.changes
                    who = f"app {item.app!r} ({self.env})"
                    for change in changes:
                        found = Found(change.path, change.document, change.line, change.old)
                        refused = refusal(texts[target.file], target.file, locator, found, who)
                        if refused:
                            raise InputError(refused)
                    if target.digest_key and value.digest:
                        document = target.document if target.document is not None else changes[0].document
                        digest_at = Locator(key=target.digest_key, document=document)
                        text, more = set_value(text, digest_at, value.digest, source=target.file, create=True)
                        changes = changes + more
                except YamlEditError as exc:
                    # The editor's hint about `updater set --create` does not apply to a config target.
                    reason = exc.message.replace(" (or pass --create to add it)", "")
                    raise InputError(f"{where}: app {item.app!r} ({self.env}): {reason}") from exc
                if old is None and changes:
                    old = changes[0].old
                if any(change.changed for change in changes):
                    files.append(target.file)
                texts[target.file] = text
            current = old.split("@", 1)[0] if old else None
            if files and current and self.check is not None:
                self.check(value, current)
            results.append(
                AppResult(
                    item.app,
                    self.env,
                    item.image,
                    current,
                    value.tag,
                    value.digest,
                    tuple(files),
                    bool(files),
                    value.images or ((item.image, value.digest),),
                    value.source,
                )
            )
        out = {
            path: text.encode("utf-8")
            for path, text in texts.items()
            if text.encode("utf-8") != originals[path]
        }
        self.results = results
        self.diffs = [FileDiff(path, originals[path], data) for path, data in sorted(out.items())]
        return out


def _decode(data: bytes, path: str) -> str:
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise InputError(f"{path}: not UTF-8 text (byte {exc.start}): re-save it as UTF-8") from exc


def _title(template: str, command: str, env: str, results: Sequence[AppResult]) -> str:
    changed = [r for r in results if r.changed]
    fields = {
        "command": command,
        "env": env,
        "apps": ", ".join(r.app for r in changed),
        "tags": ", ".join(f"{r.app} {r.new}" for r in changed),
        "app": changed[0].app if len(changed) == 1 else ", ".join(r.app for r in changed),
        "tag": changed[0].new if len(changed) == 1 else "",
    }
    try:
        return template.format(**fields)
    except (KeyError, IndexError, ValueError) as exc:
        raise InputError(
            f"commit.message {template!r}: unknown field {exc}; "
            "use {command} {env} {apps} {tags} {app} {tag}"
        ) from exc


def _pull_request(
    config: Config,
    backend: Backend,
    command: str,
    env: str,
    results: Sequence[AppResult],
    message: str,
    source: str | None,
) -> PullRequestSpec:
    """Return the pull request for modes pull-request / auto-merge: one head branch per env and app set.

    The head is stable for the same apps (`updater/ENV/APP`, or `updater/ENV/a+b` for a few apps),
    so a re-run or a newer bump updates the open PR; a PR under `updater/ENV/` whose apps are all in
    this one is superseded (closed with a link to it).
    """
    settings = config.pull_request
    changed = [r.app for r in results if r.changed]
    branch = settings.branch.replace("{env}", env).replace("{command}", command)
    head = branch.replace("{app}", head_name(changed))
    prefix = branch.split("{app}", 1)[0] if "{app}" in branch else None
    title, _, _ = message.partition("\n\n")
    if settings.title:
        title = _title(settings.title, command, env, results)
    web = getattr(backend, "web_url", None)
    base = config.environments[env].branch or ""
    body = pr_body(
        results,
        source=source,
        source_url=source_url(source),
        run_url=run_url(),
        compare_url=f"{web}/compare/{base}...{head}" if web else None,
    )
    if settings.body:
        body = _title(settings.body, command, env, results) + "\n\n" + body
    return PullRequestSpec(
        head=head,
        title=title,
        body=body,
        labels=settings.labels,
        reviewers=settings.reviewers,
        team_reviewers=settings.team_reviewers,
        assignees=settings.assignees,
        draft=settings.draft,
        merge_method=settings.merge_method,
        supersedes_prefix=prefix if prefix and prefix != head else None,
        covers=tuple(sorted(changed)),
    )


def head_name(apps: Sequence[str]) -> str:
    """Return the `{app}` part of a head branch: the app, `a+b+c` for a few, a digest of the set for many.

    The same set always gives the same name (a re-run updates its PR); a long list is hashed
    because a ref name is a file name on the server, limited to 255 bytes.
    """
    names = sorted(set(apps))
    joined = "+".join(names)
    if len(joined) <= 60:
        return joined
    return f"{len(names)}-apps-{hashlib.sha1(joined.encode()).hexdigest()[:10]}"


def source_url(sha: str | None) -> str | None:
    """Return the web link of the source commit when CI tells which GitHub repository it built."""
    repository = os.environ.get("GITHUB_REPOSITORY")
    if not sha or not repository:
        return None
    server = os.environ.get("GITHUB_SERVER_URL", "https://github.com").rstrip("/")
    return f"{server}/{repository}/commit/{sha}"
