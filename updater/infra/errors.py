"""The one user-facing error type, and the exit codes it maps to."""

from __future__ import annotations

EXIT_OK = 0
EXIT_REMOTE = 1
EXIT_USAGE = 2


class UpdaterError(Exception):
    """A failure the user can act on: one line of text and the exit code it deserves.

    The message should name the file and line where there is one, and say what to do.
    """

    exit_code: int = EXIT_USAGE

    def __init__(self, message: str, exit_code: int | None = None) -> None:
        super().__init__(message)
        if exit_code is not None:
            self.exit_code = exit_code

    @property
    def message(self) -> str:
        return str(self.args[0]) if self.args else ""


class InputError(UpdaterError):
    """Bad usage, config or input file: exit 2, nothing changed."""

    exit_code = EXIT_USAGE


class RemoteError(UpdaterError):
    """A registry, git or GitHub failure that persisted after retries: exit 1."""

    exit_code = EXIT_REMOTE


class OutcomeUnknown(RemoteError):
    """A write was sent, its answer was lost, and the remote could not be read back within the retry
    budget: whether it landed is unknown. Writes name the state they were computed from (compare and
    swap, or a re-read before any create), so a re-run reads what landed and never applies it twice."""

    def __init__(self, message: str) -> None:
        super().__init__(
            f"{message}; the outcome is unknown: a write was sent but its answer was lost and it could "
            "not be read back, so it may or may not have landed; a re-run is safe (it reads what landed "
            "and does not write twice)"
        )
