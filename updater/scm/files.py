"""The files backend: edit the values files in place, for users who commit themselves.

There is no branch and no history here: `read` ignores the branch, and `history` refuses with a
clear error. All files are written or none: each new content goes to a temporary file first (in the
repository's git directory, where no commit picks it up), and the renames happen only once every
temporary file exists. Every path component is checked on each read and write: no symlink is followed.
"""

from __future__ import annotations

import contextlib
import os
from pathlib import Path

from updater.infra import atomic, safeio
from updater.infra.errors import InputError
from updater.scm.base import CommitRequest, Editor, Outcome, Revision


class FilesBackend:
    """Backend over a directory on disk (the repo root)."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def default_branch(self) -> str:
        """There is no branch: the working tree stands for every environment."""
        return "(working tree)"

    def read(self, branch: str, path: str) -> bytes | None:
        """Return the file's bytes on disk (the branch is meaningless here), or None if missing."""
        return safeio.read_beneath(self.root, path)

    def apply(self, request: CommitRequest, editor: Editor) -> Outcome:
        """Run `editor` on the files on disk and write what changed; no commit is made."""
        files = editor(lambda path: self.read(request.branch, path))
        changed = sorted(path for path, data in files.items() if self.read(request.branch, path) != data)
        if not changed:
            return Outcome(changed=False)
        staged: list[tuple[str, Path]] = []
        current = changed[0]
        try:
            for current in changed:
                safeio.check_beneath(self.root, current)
                staged.append((atomic.stage(self.root / current, files[current]), self.root / current))
            for temp, target in staged:
                current = target.relative_to(self.root).as_posix()
                os.replace(temp, target)
        except OSError as exc:
            for temp, _ in staged:
                with contextlib.suppress(OSError):
                    os.unlink(temp)
            raise atomic.cannot_write(current, self.root / current, exc) from exc
        return Outcome(
            changed=True, files=tuple(changed), notes=("files written in place; commit them yourself",)
        )

    def descends(self, branch: str, commit: str, revision: str) -> bool:
        """True only for the same commit: without version control no commit descends from another."""
        return revision == commit

    def history(self, branch: str, path: str, limit: int = 50) -> list[Revision]:
        """Refuse: without version control there is no earlier value to show or roll back to."""
        raise InputError(
            f"{path}: the files backend keeps no history; set scm.provider to git (or github) "
            "in .updater.yaml to use history and rollback"
        )
