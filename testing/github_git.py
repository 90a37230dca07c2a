"""A real bare git repository driven by git plumbing: the storage behind the loopback GitHub server.

Every write goes through `git update-ref NEW OLD`, so compare-and-swap is git's own, not ours.
"""

from __future__ import annotations

import os
import subprocess
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

ZERO = "0" * 40
_ENV = {
    "GIT_AUTHOR_NAME": "GitHub",
    "GIT_AUTHOR_EMAIL": "noreply@github.com",
    "GIT_COMMITTER_NAME": "GitHub",
    "GIT_COMMITTER_EMAIL": "noreply@github.com",
}


@dataclass(frozen=True)
class CommitInfo:
    oid: str
    tree: str
    parents: tuple[str, ...]
    author_name: str
    author_email: str
    date: str  # ISO 8601
    message: str


@dataclass(frozen=True)
class Entry:
    mode: str
    type: str
    oid: str
    path: str


class BareRepo:
    """A bare repository in `path`; every method is one or a few git plumbing commands."""

    def __init__(self, path: Path) -> None:
        self.path = path
        # Called after every successful ref update (GitHub reacts to pushes: see GitHubState).
        self.on_update: Callable[[str], None] | None = None

    @classmethod
    def create(cls, path: Path, files: dict[str, bytes], branch: str = "main") -> BareRepo:
        """Return a new bare repository whose `branch` holds `files` in one initial commit."""
        subprocess.run(["git", "init", "-q", "--bare", "-b", branch, str(path)], check=True)
        repo = cls(path)
        tree = repo.write_tree(None, {p: ("100644", c) for p, c in files.items()})
        commit = repo.commit_tree(tree, [], "Initial commit")
        assert repo.update_ref(f"refs/heads/{branch}", commit, ZERO)
        return repo

    def git(self, *args: str, input: bytes | None = None, env: dict[str, str] | None = None) -> bytes:
        full = {**os.environ, **_ENV, **(env or {})}
        done = subprocess.run(
            ["git", "--git-dir", str(self.path), *args], input=input, capture_output=True, env=full
        )
        if done.returncode != 0:
            raise GitError(done.returncode, done.stderr.decode(errors="replace").strip())
        return done.stdout

    def resolve(self, ref: str) -> str | None:
        """Return the commit a ref points to, or None."""
        try:
            return self.git("rev-parse", "--verify", "-q", f"{ref}^{{commit}}").decode().strip()
        except GitError:
            return None

    def refs(self, prefix: str = "refs/heads/") -> dict[str, str]:
        out = self.git("for-each-ref", "--format=%(refname) %(objectname)", prefix).decode()
        return dict(line.split(" ", 1) for line in out.splitlines())  # type: ignore[misc]

    def update_ref(self, ref: str, new: str, old: str) -> bool:
        """Compare-and-swap a ref (old ZERO = must not exist, new ZERO = delete); False if it lost."""
        try:
            if new == ZERO:
                self.git("update-ref", "-d", ref, old)
            else:
                self.git("update-ref", ref, new, old)
        except GitError:
            return False
        if self.on_update is not None:
            self.on_update(ref)
        return True

    def object_type(self, oid: str) -> str | None:
        try:
            return self.git("cat-file", "-t", oid).decode().strip()
        except GitError:
            return None

    def blob(self, oid: str) -> bytes:
        return self.git("cat-file", "blob", oid)

    def hash_blob(self, content: bytes) -> str:
        return self.git("hash-object", "-w", "--stdin", input=content).decode().strip()

    def commit(self, oid: str) -> CommitInfo:
        fmt = "%H%n%T%n%P%n%an%n%ae%n%aI%n%B"
        out = self.git("log", "-1", f"--format={fmt}", oid).decode()
        oid_, tree, parents, name, email, date, message = out.split("\n", 6)
        return CommitInfo(oid_, tree, tuple(parents.split()), name, email, date, message.rstrip("\n"))

    def entry(self, treeish: str, path: str) -> Entry | None:
        """Return the tree entry at `path` under a commit or tree, or None."""
        path = path.strip("/")
        if not path:
            oid = self.git("rev-parse", f"{treeish}^{{tree}}").decode().strip()
            return Entry("040000", "tree", oid, "")
        out = self.git("ls-tree", "--full-tree", treeish, "--", path).decode()
        for line in out.splitlines():
            meta, name = line.split("\t", 1)
            mode, type_, oid = meta.split()
            if name == path:
                return Entry(mode, type_, oid, name)
        return None

    def entries(self, tree: str) -> list[Entry]:
        out = self.git("ls-tree", tree).decode()
        result = []
        for line in out.splitlines():
            meta, name = line.split("\t", 1)
            mode, type_, oid = meta.split()
            result.append(Entry(mode, type_, oid, name))
        return result

    def write_tree(self, base_tree: str | None, changes: dict[str, tuple[str, bytes | str]]) -> str:
        """Return a new tree: `base_tree` with each path set to (mode, content bytes or blob oid)."""
        with tempfile.TemporaryDirectory() as tmp:
            env = {"GIT_INDEX_FILE": str(Path(tmp) / "index")}
            if base_tree:
                self.git("read-tree", base_tree, env=env)
            lines = []
            for path, (mode, content) in changes.items():
                oid = self.hash_blob(content) if isinstance(content, bytes) else content
                lines.append(f"{mode} {oid}\t{path}")
            if lines:
                self.git("update-index", "--add", "--index-info", input="\n".join(lines).encode(), env=env)
            return self.git("write-tree", env=env).decode().strip()

    def commit_tree(
        self, tree: str, parents: list[str], message: str, author: tuple[str, str] | None = None
    ) -> str:
        args = ["commit-tree", tree]
        for parent in parents:
            args += ["-p", parent]
        env = {"GIT_AUTHOR_NAME": author[0], "GIT_AUTHOR_EMAIL": author[1]} if author else None
        return self.git(*args, input=message.encode(), env=env).decode().strip()

    def is_ancestor(self, ancestor: str, descendant: str) -> bool:
        try:
            self.git("merge-base", "--is-ancestor", ancestor, descendant)
        except GitError:
            return False
        return True

    def merge_tree(self, base: str, head: str) -> str | None:
        """Return the tree of merging head into base, or None on a conflict."""
        try:
            return self.git("merge-tree", "--write-tree", "--no-messages", base, head).decode().split()[0]
        except GitError:
            return None

    def changed_paths(self, oid: str) -> list[str]:
        """Return the paths a commit changed relative to its first parent."""
        return self.git("diff-tree", "--no-commit-id", "--name-only", "-r", "--root", oid).decode().split()

    def history(self, oid: str, path: str | None, limit: int) -> list[str]:
        args = ["log", f"-n{limit}", "--format=%H", oid]
        if path:
            args += ["--", path]
        return self.git(*args).decode().split()


class GitError(Exception):
    def __init__(self, code: int, stderr: str) -> None:
        super().__init__(f"git exited {code}: {stderr}")
        self.stderr = stderr
