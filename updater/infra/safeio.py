"""Hostile-file-proof reads and writes: regular files only, bounded size, no symlink on the way.

Values files and configs come from repositories anyone may push to. A FIFO would block a read
forever, `/dev/zero` would fill memory, a 20 MB file would take minutes to parse, and a directory
another pusher turned into a symlink would lead a write outside the clone. So every file read goes
through `read_regular` (open without blocking, check the kind, read at most the limit), and the scm
backends address files under their root through `read_beneath`/`write_beneath`, which open each
path component with O_NOFOLLOW relative to its parent directory: nothing checked can be swapped
between the check and the use.
"""

from __future__ import annotations

import contextlib
import errno
import os
import secrets
import stat
from collections.abc import Iterator
from pathlib import Path, PurePosixPath

from updater.infra.errors import InputError

# 1 MiB: five times the largest real values file we know (kube-prometheus-stack, 203 KiB). The
# editor parses and verifies a file several times: a 1 MiB file takes about 5 s and 140 MB, a 4 MiB
# one minutes and 900 MB. Configs and values files share the limit.
MAX_FILE_BYTES = 1024 * 1024
LIMIT_TEXT = "1 MiB"
_CHUNK = 1 << 16
_READ = os.O_RDONLY | os.O_NONBLOCK | os.O_NOCTTY | os.O_CLOEXEC
_DIR = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC


def kind_of(mode: int) -> str | None:
    """Return what a non-regular file is ('a FIFO', 'a directory', ...), or None for a regular file."""
    if stat.S_ISREG(mode):
        return None
    for test, name in (
        (stat.S_ISDIR, "a directory"),
        (stat.S_ISFIFO, "a FIFO"),
        (stat.S_ISCHR, "a character device"),
        (stat.S_ISBLK, "a block device"),
        (stat.S_ISSOCK, "a socket"),
        (stat.S_ISLNK, "a symlink"),
    ):
        if test(mode):
            return name
    return "not a regular file"


def _refuse_kind(shown: str, mode: int) -> None:
    kind = kind_of(mode)
    if kind == "a directory":
        raise InputError(f"{shown}: is a directory: give a YAML file")
    if kind is not None:
        raise InputError(f"{shown}: is {kind}, not a regular file: give a YAML file")


def too_big(shown: str, size: int | None = None) -> InputError:
    """The error for a file over MAX_FILE_BYTES (its size when known)."""
    said = f" ({size / 1024 / 1024:.1f} MiB)" if size is not None else ""
    return InputError(f"{shown}: file too large{said}: values and config files are limited to {LIMIT_TEXT}")


def read_fd(fd: int, shown: str, limit: int = MAX_FILE_BYTES) -> bytes:
    """Return the bytes of the regular file open at `fd`, refusing any other kind or more than `limit`."""
    info = os.fstat(fd)
    _refuse_kind(shown, info.st_mode)
    if info.st_size > limit:
        raise too_big(shown, info.st_size)
    os.set_blocking(fd, True)
    chunks: list[bytes] = []
    total = 0
    while chunk := os.read(fd, _CHUNK):
        total += len(chunk)
        if total > limit:  # it grew while we read
            raise too_big(shown)
        chunks.append(chunk)
    return b"".join(chunks)


def read_regular(
    path: str | os.PathLike[str], shown: str | None = None, limit: int = MAX_FILE_BYTES
) -> bytes:
    """Return the bytes of the regular file at `path` (symlinks followed), or a one-line InputError.

    Opened with O_NONBLOCK, so a FIFO is refused instead of waiting for a writer.
    """
    shown = os.fspath(path) if shown is None else shown
    try:
        fd = os.open(path, _READ)
    except OSError as exc:
        raise InputError(f"{shown}: cannot read: {exc.strerror or exc}") from None
    try:
        return read_fd(fd, shown, limit)
    except OSError as exc:
        raise InputError(f"{shown}: cannot read: {exc.strerror or exc}") from None
    finally:
        os.close(fd)


def _parts(relpath: str) -> tuple[str, ...]:
    parts = PurePosixPath(relpath).parts
    if not parts or parts[0] == "/" or any(p in ("..", ".") for p in parts):
        raise InputError(f"{relpath}: must be a relative path inside the repository, without '..'")
    return parts


def _link_error(relpath: str, shown_part: str, dir_fd: int, name: str, where: str) -> InputError:
    try:
        target = os.readlink(name, dir_fd=dir_fd)
    except OSError:
        target = "?"
    if shown_part == relpath:
        return InputError(
            f"{relpath} is a symlink{where} (to {target}): name the file it points to in the config"
        )
    return InputError(
        f"{relpath}: {shown_part} is a symlink{where} (to {target}): refusing to follow it; "
        "name the real path in the config"
    )


@contextlib.contextmanager
def _parent(root: Path, relpath: str, *, create: bool, where: str) -> Iterator[tuple[int, str] | None]:
    """Yield (fd of the directory holding relpath under root, final name), following no symlink.

    None when a directory on the way is missing (and not `create`). A symlink or a file where a
    directory should be is an InputError naming it.
    """
    parts = _parts(relpath)
    fd = os.open(root, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
    try:
        for index, part in enumerate(parts[:-1]):
            shown = "/".join(parts[: index + 1])
            try:
                child = os.open(part, _DIR, dir_fd=fd)
            except FileNotFoundError:
                if not create:
                    yield None
                    return
                os.mkdir(part, 0o777, dir_fd=fd)
                child = os.open(part, _DIR, dir_fd=fd)
            except OSError as exc:
                if exc.errno not in (errno.ELOOP, errno.ENOTDIR):
                    raise
                mode = os.stat(part, dir_fd=fd, follow_symlinks=False).st_mode
                if stat.S_ISLNK(mode):
                    raise _link_error(relpath, shown, fd, part, where) from None
                raise InputError(f"{relpath}: {shown} is not a directory{where}") from None
            os.close(fd)
            fd = child
        yield fd, parts[-1]
    finally:
        os.close(fd)


def read_beneath(root: Path, relpath: str, *, where: str = "") -> bytes | None:
    """Return the bytes of `relpath` under `root`, or None when it does not exist.

    No component may be a symlink (checked on this very read, not earlier), and the file must be a
    regular file within MAX_FILE_BYTES. `where` (" on branch main") completes the messages.
    """
    with _parent(root, relpath, create=False, where=where) as found:
        if found is None:
            return None
        dir_fd, name = found
        try:
            fd = os.open(name, _READ | os.O_NOFOLLOW, dir_fd=dir_fd)
        except FileNotFoundError:
            return None
        except OSError as exc:
            if exc.errno == errno.ELOOP:
                raise _link_error(relpath, relpath, dir_fd, name, where) from None
            raise InputError(f"{relpath}: cannot read{where}: {exc.strerror}") from None
        try:
            return read_fd(fd, relpath + where)
        finally:
            os.close(fd)


def check_beneath(root: Path, relpath: str, *, where: str = "") -> None:
    """Create the directories of `relpath` under `root`, refusing a symlink in any component."""
    with _parent(root, relpath, create=True, where=where) as found:
        assert found is not None
        dir_fd, name = found
        with contextlib.suppress(FileNotFoundError):
            if stat.S_ISLNK(os.stat(name, dir_fd=dir_fd, follow_symlinks=False).st_mode):
                raise _link_error(relpath, relpath, dir_fd, name, where)


def write_beneath(root: Path, relpath: str, data: bytes, *, where: str = "") -> None:
    """Replace `relpath` under `root` with `data` (temp file + rename in the same directory fd).

    Missing directories are created; a symlink in any component, the last one included, is refused.
    A file that exists keeps its mode.
    """
    with _parent(root, relpath, create=True, where=where) as found:
        assert found is not None
        dir_fd, name = found
        mode = 0o644
        with contextlib.suppress(FileNotFoundError):
            info = os.stat(name, dir_fd=dir_fd, follow_symlinks=False)
            if stat.S_ISLNK(info.st_mode):
                raise _link_error(relpath, relpath, dir_fd, name, where)
            mode = stat.S_IMODE(info.st_mode)
        temp = f".{name}.updater-{os.getpid()}-{secrets.token_hex(4)}.tmp"
        fd = os.open(
            temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC, mode, dir_fd=dir_fd
        )
        try:
            with os.fdopen(fd, "wb") as handle:
                handle.write(data)
            os.chmod(temp, mode, dir_fd=dir_fd)
            os.replace(temp, name, src_dir_fd=dir_fd, dst_dir_fd=dir_fd)
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(temp, dir_fd=dir_fd)
            raise
