"""Watch the git processes a CLI run starts: what `ps` would show, and the clone's .git/config.

`spy(tmp)` returns an environment for the CLI whose PATH starts with a `git` wrapper and whose
GIT_EXEC_PATH is a copy of git's exec dir (symlinks) where `git-remote-http(s)`, the helper git starts
with the remote URL as an argument, are wrappers too. Each wrapper appends its own
/proc/<pid>/cmdline to the log, and the `git` wrapper appends the clone's .git/config before a push.
`before_push` is shell run once before the first push: a second pusher winning a race.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

_LOG_CMDLINE = "tr '\\000' ' ' < /proc/$$/cmdline >> \"$SPY_LOG\"; echo >> \"$SPY_LOG\""


def spy(tmp: Path, before_push: str = "") -> tuple[dict[str, str], Path]:
    """Return (environment for the CLI, log file) with git and its http helper wrapped."""
    real = shutil.which("git")
    assert real is not None
    exec_path = Path(subprocess.run([real, "--exec-path"], capture_output=True, text=True).stdout.strip())
    log = tmp / "spy.log"
    bin_dir, exec_dir = tmp / "spy-bin", tmp / "spy-exec"
    bin_dir.mkdir()
    exec_dir.mkdir()
    race = ""
    if before_push:
        race = f'if [ "$1" = push ] && mkdir "{tmp}/spy-raced" 2>/dev/null; then\n  {before_push}\nfi\n'
    _script(
        bin_dir / "git",
        f"{_LOG_CMDLINE}\n"
        'if [ "$1" = push ] && [ -f .git/config ]; then cat .git/config >> "$SPY_LOG"; fi\n'
        f'{race}exec "{real}" "$@"\n',
    )
    for entry in exec_path.iterdir():
        if entry.name in ("git-remote-http", "git-remote-https"):
            _script(exec_dir / entry.name, f'{_LOG_CMDLINE}\nexec "{entry}" "$@"\n')
        else:
            os.symlink(entry, exec_dir / entry.name)
    env = {
        "PATH": f"{bin_dir}{os.pathsep}{os.environ.get('PATH', '')}",
        "GIT_EXEC_PATH": str(exec_dir),
        "SPY_LOG": str(log),
        "REAL_GIT": real,
    }
    return env, log


def _script(path: Path, body: str) -> None:
    path.write_text("#!/bin/sh\n" + body)
    path.chmod(0o755)
