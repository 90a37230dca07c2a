"""The files backend: edit the values files in place, for users who commit themselves.

There is no branch and no history here: `read` ignores the branch, and `history` refuses with a
clear error. All files are written or none: each new content goes to a temporary file next to its
target first, and the renames happen only once every temporary file exists.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

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
        full = self.root / path
        if not full.is_file():
            return None
        return full.read_bytes()

    def apply(self, request: CommitRequest, editor: Editor) -> Outcome:
        """Run `editor` on the files on disk and write what changed; no commit is made."""
        files = editor(lambda path: self.read(request.branch, path))
        changed = sorted(path for path, data in files.items() if self.read(request.branch, path) != data)
        if not changed:
            return Outcome(changed=False)
        staged: list[tuple[str, Path]] = []
        try:
            for path in changed:
                target = self.root / path
                target.parent.mkdir(parents=True, exist_ok=True)
                fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
                with os.fdopen(fd, "wb") as handle:
                    handle.write(files[path])
                if target.exists():
                    os.chmod(tmp, target.stat().st_mode & 0o7777)
                staged.append((tmp, target))
        except OSError as exc:
            for tmp, _ in staged:
                os.unlink(tmp)
            raise InputError(f"{exc.filename}: cannot write: {exc.strerror}") from exc
        for tmp, target in staged:
            os.replace(tmp, target)
        return Outcome(
            changed=True, files=tuple(changed), notes=("files written in place; commit them yourself",)
        )

    def history(self, branch: str, path: str, limit: int = 50) -> list[Revision]:
        """Refuse: without version control there is no earlier value to show or roll back to."""
        raise InputError(
            f"{path}: the files backend keeps no history; set scm.provider to git (or github) "
            "in .updater.yaml to use history and rollback"
        )
