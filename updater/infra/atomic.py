"""Safe file writes: all-or-nothing replacement, and a --root fence against paths that escape it."""

from __future__ import annotations

import contextlib
import os
import stat
import tempfile
from pathlib import Path

from updater.infra.errors import InputError


def inside_root(path: str | os.PathLike[str], root: str | os.PathLike[str]) -> Path:
    """Return the real path of `path`, refusing one that (through `..` or a symlink) leaves `root`."""
    real_root = Path(os.path.realpath(root))
    real = Path(os.path.realpath(path))
    if real != real_root and real_root not in real.parents:
        raise InputError(f"{os.fspath(path)}: leads outside --root {os.fspath(root)} (to {real}); refusing")
    return real


def write_atomic(path: str | os.PathLike[str], data: bytes) -> None:
    """Replace the file at `path` (a symlink's target) with `data` in one rename, keeping its mode.

    A reader sees the old bytes or the new bytes, never a mix, and a crash leaves the old file intact.
    """
    real = Path(os.path.realpath(path))
    mode = stat.S_IMODE(real.stat().st_mode)
    fd, temp = tempfile.mkstemp(prefix=f".{real.name}.", suffix=".tmp", dir=real.parent)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(temp, mode)
        os.replace(temp, real)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(temp)
        raise
