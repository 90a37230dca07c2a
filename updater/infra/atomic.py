"""Safe file writes: all-or-nothing replacement, a lock for read-edit-write, and a --root fence.

Temporary files never sit where a commit can pick them up: in a git work tree they are written in
the repository's git directory (same filesystem, so the final rename stays atomic, and git never
commits what is under it); elsewhere beside the file, where no `git add -A` can see them. A run
killed with -9 can leave one behind either way, so each write first removes the temp files of
processes that are gone.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import os
import random
import re
import stat
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

from updater.infra import safeio
from updater.infra.errors import InputError, UpdaterError

LOCK_TIMEOUT = 60.0
_DENIED = (errno.EACCES, errno.EPERM, errno.EROFS)
_TEMP = re.compile(r"updater-tmp\.(?P<pid>[0-9]+)\.")


def inside_root(path: str | os.PathLike[str], root: str | os.PathLike[str]) -> Path:
    """Return the real path of `path`, refusing one that (through `..` or a symlink) leaves `root`."""
    real_root = Path(os.path.realpath(root))
    real = Path(os.path.realpath(path))
    if real != real_root and real_root not in real.parents:
        raise InputError(f"{os.fspath(path)}: leads outside --root {os.fspath(root)} (to {real}); refusing")
    return real


def git_dir(directory: Path) -> Path | None:
    """Return the git directory of the work tree holding `directory` (`.git`, or where a `.git` file
    of a linked worktree or submodule points), or None outside git."""
    for parent in (directory, *directory.parents):
        dotgit = parent / ".git"
        if dotgit.is_dir():
            return dotgit
        if dotgit.is_file():
            with contextlib.suppress(OSError, UnicodeDecodeError):
                line = safeio.read_regular(dotgit).decode().strip()
                if line.startswith("gitdir:"):
                    found = (parent / line[len("gitdir:") :].strip()).resolve()
                    return found if found.is_dir() else None
            return None
    return None


def temp_dir(real: Path) -> Path:
    """Return where the temp file for `real` goes: its repository's git dir when on the same
    filesystem and writable, else the file's own directory."""
    found = git_dir(real.parent)
    if found is not None:
        with contextlib.suppress(OSError):
            if os.stat(found).st_dev == os.stat(real.parent).st_dev and os.access(found, os.W_OK):
                return found
    return real.parent


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def remove_stale_temps(directory: Path, name: str) -> None:
    """Remove the temp files for `name` left in `directory` by processes that no longer run."""
    with contextlib.suppress(OSError):
        for entry in os.scandir(directory):
            found = _TEMP.match(entry.name.removeprefix("."))
            if found and entry.name.endswith(f".{name}.tmp") and not _alive(int(found["pid"])):
                with contextlib.suppress(OSError):
                    os.unlink(entry.path)


def stage(real: Path, data: bytes, mode: int | None = None) -> str:
    """Write `data` to a new temp file for the file `real` (see temp_dir) and return its path.

    The temp file gets `mode`, else the mode of `real`, else 0o644 less the umask; it is synced, so a
    rename makes the new bytes durable. OSError propagates (the caller names the file).
    """
    directory = temp_dir(real)
    remove_stale_temps(directory, real.name)
    if mode is None:
        try:
            mode = stat.S_IMODE(real.stat().st_mode)
        except FileNotFoundError:
            umask = os.umask(0)
            os.umask(umask)
            mode = 0o644 & ~umask
    hidden = "" if directory != real.parent else "."
    fd, temp = tempfile.mkstemp(
        prefix=f"{hidden}updater-tmp.{os.getpid()}.", suffix=f".{real.name}.tmp", dir=directory
    )
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(temp, mode)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temp)
        raise
    return temp


def cannot_write(shown: str, real: Path, exc: OSError) -> InputError:
    """The one-line error for a failed write (a read-only directory says which one)."""
    fix = f"; check that you may write to {real.parent}" if exc.errno in _DENIED else ""
    return InputError(f"{shown}: cannot write: {exc.strerror or exc}{fix}")


def write_atomic(path: str | os.PathLike[str], data: bytes, shown: str | None = None) -> None:
    """Replace the file at `path` (a symlink's target) with `data` in one rename, keeping its mode.

    A reader sees the old bytes or the new bytes, never a mix, and a crash leaves the old file intact.
    """
    shown = os.fspath(path) if shown is None else shown
    real = Path(os.path.realpath(path))
    temp = None
    try:
        temp = stage(real, data)
        os.replace(temp, real)
        temp = None
    except OSError as exc:
        raise cannot_write(shown, real, exc) from None
    finally:
        if temp is not None:
            with contextlib.suppress(OSError):
                os.unlink(temp)


@contextlib.contextmanager
def locked_update(
    path: str | os.PathLike[str], shown: str | None = None, timeout: float = LOCK_TIMEOUT
) -> Iterator[bytes]:
    """Hold an exclusive lock on the file at `path` and yield its bytes (read with safeio's checks).

    Every `updater set` on the file takes the same lock (flock, on the file itself) for its whole
    read-edit-write, so concurrent runs apply their edits one after the other and none is lost. The
    write replaces the file with a new inode: a waiter that then gets the lock on the old inode sees
    it is no longer the file at `path` and starts again on the new one.
    """
    shown = os.fspath(path) if shown is None else shown
    deadline = time.monotonic() + timeout
    while True:
        try:
            fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_NOCTTY | os.O_CLOEXEC)
        except OSError as exc:
            raise InputError(f"{shown}: cannot read: {exc.strerror or exc}") from None
        try:
            info = os.fstat(fd)
            if stat.S_ISREG(info.st_mode):
                _lock(fd, shown, deadline)
                try:
                    current = os.stat(path)
                except FileNotFoundError:
                    current = None
                if current is None or (current.st_ino, current.st_dev) != (info.st_ino, info.st_dev):
                    continue  # replaced while we waited: lock the new file
            yield safeio.read_fd(fd, shown)
            return
        finally:
            os.close(fd)


def _lock(fd: int, shown: str, deadline: float) -> None:
    while True:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return
        except BlockingIOError:
            if time.monotonic() > deadline:
                raise UpdaterError(
                    f"{shown}: another process has held a lock on it for {LOCK_TIMEOUT:.0f} s; try again"
                ) from None
            time.sleep(random.uniform(0.01, 0.05))
