"""The git backend: a private clone of the GitOps remote, ONE commit per run, pushed without force.

Every run works in a fresh temporary clone (shallow: only the branch heads it touches), so the
user's own checkout is never modified and a failed run leaves nothing behind. A push that loses a
race (non-fast-forward) is not an error: we fetch the new head, re-run the editor on it and push
again, within a bounded, jittered retry policy. Any other push failure (a hook that refuses, no
permission) is permanent: the clone is reset to the remote head and the run ends with exit 1.
"""

from __future__ import annotations

import base64
import logging
import os
import re
import shutil
import subprocess
import tempfile
import urllib.parse
from collections.abc import Callable, Mapping
from dataclasses import replace
from datetime import datetime
from pathlib import Path
from typing import TypeVar

from updater.infra import redact, retry, safeio
from updater.infra.errors import InputError, RemoteError
from updater.scm.base import Author, CommitRequest, Editor, Outcome, Revision

log = logging.getLogger(__name__)
T = TypeVar("T")

DEFAULT_AUTHOR = Author("updater", "updater@users.noreply.localhost")
# Lost races are expected when many pipelines bump one branch: allow many quick, jittered rounds.
RACE_ATTEMPTS = 40
_SHA = re.compile(r"[0-9a-f]{40}|[0-9a-f]{64}")
_REJECTED = re.compile(
    r"\[rejected\]|non-fast-forward|fetch first|stale info|cannot lock ref|failed to update ref"
)
_PERMANENT = re.compile(
    r"(?i)not found|does not appear to be a git repository|authentication failed|permission denied"
    r"|could not read username|access denied|pre-receive hook declined|hook declined|protected branch"
)


class _LostRace(retry.Transient):
    """The branch moved between our fetch and our push."""


def _register_url_secret(url: str) -> None:
    parsed = urllib.parse.urlsplit(url)
    if parsed.password:
        redact.register(parsed.password)
        redact.register(urllib.parse.unquote(parsed.password))


def _header_env(url_prefix: str, header: str, environ: Mapping[str, str]) -> dict[str, str]:
    """Return GIT_CONFIG_* variables adding `http.URL_PREFIX.extraheader`, after the caller's own."""
    count = environ.get("GIT_CONFIG_COUNT", "")
    index = int(count) if count.isdigit() else 0  # keep the caller's own GIT_CONFIG_* entries
    return {
        "GIT_CONFIG_COUNT": str(index + 1),
        f"GIT_CONFIG_KEY_{index}": f"http.{url_prefix}.extraheader",
        f"GIT_CONFIG_VALUE_{index}": header,
    }


def split_credentials(remote: str, environ: Mapping[str, str]) -> tuple[str, dict[str, str]]:
    """Return the remote without `user:password@`, and the git environment that sends them instead.

    A password in the URL would show in `ps` (git passes the URL to git-remote-http in argv) and be
    stored in the clone's .git/config. Like the GitHub token, it travels as an Authorization header
    scoped to the server, in GIT_CONFIG_* variables: the environment of our own git processes only.
    """
    url = urllib.parse.urlsplit(remote)
    if url.scheme not in ("http", "https") or url.password is None:
        return remote, {}
    user = urllib.parse.unquote(url.username or "")
    password = urllib.parse.unquote(url.password)
    basic = base64.b64encode(f"{user}:{password}".encode()).decode()
    for secret in (url.password, password, basic):
        redact.register(secret)
    server = url.netloc.rpartition("@")[2]
    bare = urllib.parse.urlunsplit(url._replace(netloc=server))
    return bare, _header_env(f"{url.scheme}://{server}/", f"AUTHORIZATION: basic {basic}", environ)


def github_auth_env(remote: str, environ: Mapping[str, str]) -> dict[str, str]:
    """Return the git environment that sends GITHUB_TOKEN to the GitHub server, or {} for other remotes.

    Our clone is fresh, so the credentials actions/checkout keeps in the workspace are not there. As
    checkout does, the token goes in an http.extraheader scoped to the server URL, passed through
    GIT_CONFIG_COUNT/KEY/VALUE: never in argv (visible in ps) nor in the remote URL (echoed in errors).
    """
    token = environ.get("GITHUB_TOKEN")
    server = urllib.parse.urlsplit(environ.get("GITHUB_SERVER_URL") or "https://github.com")
    url = urllib.parse.urlsplit(remote)
    if not token or url.scheme not in ("http", "https") or url.username or url.password:
        return {}
    if (url.scheme, url.netloc.lower()) != (server.scheme, server.netloc.lower()):
        return {}
    basic = base64.b64encode(f"x-access-token:{token}".encode()).decode()
    redact.register(token)
    redact.register(basic)
    return _header_env(f"{server.scheme}://{server.netloc}/", f"AUTHORIZATION: basic {basic}", environ)


class GitBackend:
    """Backend over a git remote (URL or path); use as a context manager to remove the clone."""

    def __init__(self, remote: str, *, workdir: Path | None = None, token: str | None = None) -> None:
        _register_url_secret(remote)
        environ = {**os.environ, **({"GITHUB_TOKEN": token} if token else {})}
        # Credentials in the URL win over GITHUB_TOKEN (one Authorization header per request).
        self.remote, self._auth = split_credentials(remote, environ)
        if not self._auth:
            self._auth = github_auth_env(remote, environ)
        self._tmp: str | None = None
        if workdir is None:
            self._tmp = tempfile.mkdtemp(prefix="updater-git-")
            workdir = Path(self._tmp)
        self.dir = workdir
        self._fetched: set[str] = set()
        self._full: set[str] = set()
        if not (workdir / ".git").exists():
            workdir.mkdir(parents=True, exist_ok=True)
            self._git("init", "-q")
            self._git("remote", "add", "origin", self.remote)

    # -- plumbing ---------------------------------------------------------------------------------
    def _run(
        self, *args: str, check: bool = True, env: dict[str, str] | None = None, stdin: bytes | None = None
    ) -> subprocess.CompletedProcess[bytes]:
        full_env = {**os.environ, "GIT_TERMINAL_PROMPT": "0", "LC_ALL": "C", **self._auth, **(env or {})}
        log.debug("git %s", " ".join(args))
        result = subprocess.run(["git", *args], cwd=self.dir, env=full_env, capture_output=True, input=stdin)
        if check and result.returncode != 0:
            raise RemoteError(f"git {args[0]} failed: {_first_error(result.stderr)}")
        return result

    def _git(self, *args: str) -> str:
        return self._run(*args).stdout.decode("utf-8", "replace")

    def _fetch(self, branch: str, *, full: bool = False) -> None:
        """Fetch the head of `branch` into refs/remotes/origin/BRANCH (whole history if `full`)."""
        if full and branch in self._full:
            return
        args = ["fetch", "-q", "--no-tags", "origin", f"+refs/heads/{branch}:refs/remotes/origin/{branch}"]
        if full:
            if self._git("rev-parse", "--is-shallow-repository").strip() == "true":
                args.insert(2, "--unshallow")
        else:
            args.insert(2, "--depth=1")

        def attempt() -> None:
            result = self._run(*args, check=False)
            if result.returncode == 0:
                return
            error = _first_error(result.stderr)
            if "couldn't find remote ref" in error:
                raise InputError(
                    f"branch {branch!r} does not exist in {self._name()}: create it or fix the config"
                )
            if _PERMANENT.search(error):
                raise RemoteError(f"git fetch from {self._name()} failed: {error}")
            raise retry.Transient(f"git fetch from {self._name()} failed: {error}")

        _call(attempt)
        self._fetched.add(branch)
        if full:
            self._full.add(branch)
        else:
            self._full.clear()  # a shallow fetch cuts history at the tip it lands, even an unchanged one

    def _name(self) -> str:
        return redact.mask(self.remote)

    # -- Backend ----------------------------------------------------------------------------------
    def read(self, branch: str, path: str) -> bytes | None:
        """Return the file's bytes at the remote head of `branch`, or None if it does not exist."""
        if branch not in self._fetched:
            self._fetch(branch)
        entry = self._tree_entry(branch, path)
        if entry is None:
            self._refuse_linked_parent(branch, path)
            return None
        mode, kind, blob, size = entry
        if kind != "blob":
            return None
        if mode != "120000" and size > safeio.MAX_FILE_BYTES:
            raise safeio.too_big(f"{path} on branch {branch}", size)
        content = self._run("cat-file", "blob", blob).stdout
        if mode == "120000":
            raise _symlink_error(path, branch, content)
        return content

    def _tree_entry(self, branch: str, path: str) -> tuple[str, str, str, int] | None:
        """Return (mode, type, object, size) of `path` at the fetched head of `branch`, or None."""
        listed = self._run("ls-tree", "-l", "-z", f"refs/remotes/origin/{branch}", "--", path, check=False)
        entry = listed.stdout.split(b"\0")[0] if listed.returncode == 0 else b""
        if not entry:
            return None
        mode, kind, obj, size = entry.partition(b"\t")[0].decode().split()
        return mode, kind, obj, int(size) if size.isdigit() else 0

    def _refuse_linked_parent(self, branch: str, path: str) -> None:
        """A path under a directory that the branch holds as a symlink is refused, naming the link."""
        parts = path.split("/")
        for depth in range(1, len(parts)):
            prefix = "/".join(parts[:depth])
            entry = self._tree_entry(branch, prefix)
            if entry is None or entry[1] != "blob":
                continue
            if entry[0] == "120000":
                target = self._run("cat-file", "blob", entry[2]).stdout.decode("utf-8", "replace")
                raise InputError(
                    f"{path}: {prefix} is a symlink on branch {branch} (to {target}): "
                    "refusing to follow it; name the real path in the config"
                )
            return

    def apply(self, request: CommitRequest, editor: Editor) -> Outcome:
        """Run `editor` on the remote head, commit once, push; on a lost race redo it on the new head."""
        target = request.branch
        notes: tuple[str, ...] = ()
        if request.mode != "commit" and request.pull_request is not None:
            # Plain git cannot open a pull request: land the commit on the PR head, reset from base.
            target = request.pull_request.head
            notes = (f"pushed to branch {target}; open a pull request into {request.branch}",)

        def attempt() -> Outcome:
            self._fetch(request.branch)
            self._git(
                "checkout", "-q", "--force", "-B", request.branch, f"refs/remotes/origin/{request.branch}"
            )
            self._git("clean", "-q", "-fdx")
            read = self._worktree_reader(request.branch)
            files = editor(read)
            changed = sorted(path for path, data in files.items() if read(path) != data)
            if not changed:
                return Outcome(changed=False)
            for path in changed:
                # Checked again component by component: nothing outside the clone is ever written.
                safeio.write_beneath(self.dir, path, files[path], where=f" on branch {request.branch}")
            self._git("add", "--", *changed)
            self._commit(request)
            commit = self._git("rev-parse", "HEAD").strip()
            if target != request.branch:
                pushed = self._pushed_already(target)
                if pushed is not None:  # a re-run with nothing new: no force-push of the same change
                    self._clean(request.branch)
                    return Outcome(
                        False, tuple(changed), pushed, notes=(f"branch {target} already has these changes",)
                    )
            self._push(target, force=target != request.branch)
            return Outcome(changed=True, files=tuple(changed), commit=commit, notes=notes)

        try:
            return _call(attempt, attempts=RACE_ATTEMPTS)
        except _LostRace as exc:
            self._clean(request.branch)
            raise RemoteError(f"git push to {self._name()} kept losing races: {exc}; try again") from exc
        except RemoteError:
            self._clean(request.branch)
            raise

    def history(self, branch: str, path: str, limit: int = 50) -> list[Revision]:
        """Return the versions of `path` on `branch`, newest first (needs the full history)."""
        self._fetch(branch, full=True)
        out = self._git(
            "log",
            f"-n{limit}",
            "--format=%x1e%H%x00%an <%ae>%x00%aI%x00%B",
            f"refs/remotes/origin/{branch}",
            "--",
            path,
        )
        # One record per commit (a message may span lines): hash, author, date, message.
        entries = [record.split("\0", 3) for record in out.split("\x1e")[1:]]
        # One call gives every version's size: none over the limit is read into memory.
        names = "".join(f"{entry[0]}:{path}\n" for entry in entries).encode()
        checked = self._run("cat-file", "--batch-check=%(objecttype) %(objectsize)", stdin=names).stdout
        revisions = []
        for (commit, author, date, message), kind_size in zip(
            entries, checked.decode().splitlines(), strict=True
        ):
            kind, _, size = kind_size.partition(" ")
            if kind == "blob" and size.isdigit() and int(size) > safeio.MAX_FILE_BYTES:
                raise safeio.too_big(f"{path} at commit {commit[:12]}", int(size))
            shown = self._run("cat-file", "blob", f"{commit}:{path}", check=False) if kind == "blob" else None
            content = shown.stdout if shown is not None and shown.returncode == 0 else None
            revisions.append(
                Revision(commit, author, datetime.fromisoformat(date), content, message.strip("\n"))
            )
        return revisions

    def descends(self, branch: str, commit: str, revision: str) -> bool:
        """True when `revision` (a full SHA) is `commit` or a descendant of it; fetches `branch` in full.

        For the deploy wait: Argo CD may report a commit that landed after ours. The revision comes
        from a remote answer, so anything but a hex SHA is refused before it can reach git's argv.
        Two commits already here (history's) have a fixed answer: no fetch then.
        """
        if revision == commit:
            return True
        if not (_SHA.fullmatch(revision) and _SHA.fullmatch(commit)):
            return False
        if branch not in self._full or not self._has_commits(commit, revision):
            self._full.discard(branch)  # the branch may have moved since: fetch what Argo CD saw
            self._fetch(branch, full=True)
        return self._run("merge-base", "--is-ancestor", commit, revision, check=False).returncode == 0

    def _has_commits(self, *shas: str) -> bool:
        """True when every one of `shas` is a commit in the clone (one git call, no fetch)."""
        names = "".join(f"{sha}\n" for sha in shas).encode()
        found = self._run("cat-file", "--batch-check=%(objecttype)", stdin=names).stdout.decode().split()
        return found == ["commit"] * len(shas)

    def default_branch(self) -> str:
        """Return the branch the remote's HEAD points to (what environments without a branch use)."""

        def attempt() -> str:
            result = self._run("ls-remote", "--symref", "origin", "HEAD", check=False)
            if result.returncode != 0:
                error = _first_error(result.stderr)
                if _PERMANENT.search(error):
                    raise RemoteError(f"git ls-remote {self._name()} failed: {error}")
                raise retry.Transient(f"git ls-remote {self._name()} failed: {error}")
            for line in result.stdout.decode().splitlines():
                if line.startswith("ref: refs/heads/") and line.endswith("\tHEAD"):
                    return line[len("ref: refs/heads/") : -len("\tHEAD")]
            raise InputError(
                f"{self._name()} has no default branch: set environments.NAME.branch in the config"
            )

        return _call(attempt)

    def close(self) -> None:
        """Remove the temporary clone (a no-op for a caller-provided workdir)."""
        if self._tmp is not None:
            shutil.rmtree(self._tmp, ignore_errors=True)
            self._tmp = None

    def __enter__(self) -> GitBackend:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- helpers ----------------------------------------------------------------------------------
    def _worktree_reader(self, branch: str) -> Callable[[str], bytes | None]:
        """Return a reader of the checked-out branch that follows no symlink in any path component.

        Each read is checked afresh: after a lost race the new head may hold a symlink where the
        previous one had a directory.
        """

        def read(path: str) -> bytes | None:
            return safeio.read_beneath(self.dir, path, where=f" on branch {branch}")

        return read

    def _commit(self, request: CommitRequest) -> None:
        author = request.author or _env_author()
        env = {
            "GIT_AUTHOR_NAME": author.name,
            "GIT_AUTHOR_EMAIL": author.email,
            "GIT_COMMITTER_NAME": os.environ.get("GIT_COMMITTER_NAME", author.name),
            "GIT_COMMITTER_EMAIL": os.environ.get("GIT_COMMITTER_EMAIL", author.email),
        }
        result = subprocess.run(
            ["git", "commit", "-q", "--no-verify", "--no-gpg-sign", "-F", "-"],
            cwd=self.dir,
            env={**os.environ, "LC_ALL": "C", **env},
            input=request.message.encode(),
            capture_output=True,
        )
        if result.returncode != 0:
            raise RemoteError(f"git commit failed: {_first_error(result.stderr)}")

    def _push(self, branch: str, *, force: bool) -> None:
        refspec = f"{'+' if force else ''}HEAD:refs/heads/{branch}"
        result = self._run("push", "--porcelain", "origin", refspec, check=False)
        if result.returncode == 0:
            return
        output = (result.stdout + result.stderr).decode("utf-8", "replace")
        if _REJECTED.search(output):
            raise _LostRace(f"{branch} moved on {self._name()}")
        error = _first_error(result.stderr) or _first_error(result.stdout)
        if _PERMANENT.search(output):
            raise RemoteError(f"git push to {self._name()} ({branch}) was refused: {error}")
        raise retry.Transient(f"git push to {self._name()} ({branch}) failed: {error}")

    def _pushed_already(self, head: str) -> str | None:
        """Return the remote `head`'s commit when it is our base plus the same tree as HEAD, else None."""
        ref = f"refs/remotes/origin/{head}"
        fetched = self._run("fetch", "-q", "--no-tags", "origin", f"+refs/heads/{head}:{ref}", check=False)
        if fetched.returncode != 0:
            return None  # no such branch yet (or unreadable: the push below tells)
        same_base = self._run("rev-parse", f"{ref}^", "HEAD^", check=False).stdout.split()
        same_tree = self._run("rev-parse", f"{ref}^{{tree}}", "HEAD^{tree}", check=False).stdout.split()
        if (
            len(same_base) == 2 == len(same_tree)
            and same_base[0] == same_base[1]
            and same_tree[0] == same_tree[1]
        ):
            return self._git("rev-parse", ref).strip()
        return None

    def _clean(self, branch: str) -> None:
        """Leave the clone exactly at the remote head: no local commit survives a failed push."""
        ref = f"refs/remotes/origin/{branch}"
        if self._run("rev-parse", "--verify", "-q", ref, check=False).returncode == 0:
            self._run("checkout", "-q", "--force", "-B", branch, ref, check=False)
            self._run("clean", "-q", "-fdx", check=False)


def _call(fn: Callable[[], T], attempts: int | None = None) -> T:
    """retry.call with the process policy, optionally allowing more (quick, jittered) attempts."""
    policy = retry.policy()
    if attempts is not None:
        policy = replace(policy, attempts=max(policy.attempts, attempts), initial=0.2, maximum=4.0)
    try:
        return retry.call(fn, policy)
    except _LostRace:
        raise
    except retry.Transient as exc:
        raise RemoteError(f"{exc}; gave up after retrying") from exc


def _symlink_error(path: str, branch: str, target: bytes) -> InputError:
    """A values file that is a link: its blob is the target's name, so name the target instead."""
    shown = target.decode("utf-8", "replace")
    return InputError(
        f"{path} is a symlink on branch {branch} (to {shown}): name the file it points to in the config"
    )


def _env_author() -> Author:
    name = os.environ.get("GIT_AUTHOR_NAME")
    email = os.environ.get("GIT_AUTHOR_EMAIL")
    if name and email:
        return Author(name, email)
    return DEFAULT_AUTHOR


def _first_error(stderr: bytes) -> str:
    """Return the most telling line of git's stderr, masked (it may echo a URL with a token)."""
    lines = [line.strip() for line in stderr.decode("utf-8", "replace").splitlines() if line.strip()]
    for line in lines:
        lower = line.lower()
        if lower.startswith(("fatal:", "error:", "remote:", "!")) or "rejected" in lower:
            return redact.mask(line)
    return redact.mask(lines[-1]) if lines else "no output"
