"""`resolve --wait` shows its progress on stderr when stderr is a terminal (a pty), never on stdout."""

from __future__ import annotations

import errno
import os
import pty
import select
import subprocess
import sys
from pathlib import Path

from testing.cli import ROOT
from testing.oci_layout import LayoutImage, build_layout, utc

# While waiting, the message no longer suggests --wait.
MISSING = "updater: error: oci:{root}:stage-abcdef0 does not exist: push the image first"


def _resolve(root: Path, *, tty: bool) -> tuple[int, str, str]:
    """Run `updater resolve --wait 2s` for a missing tag; stderr goes to a pty when `tty`."""
    args = [sys.executable, "-m", "updater", "resolve", f"oci:{root}", "--template", "stage-{sha:7}"]
    args += ["--sha", "abcdef0123", "--wait", "2s"]
    env = {k: v for k, v in os.environ.items() if k != "UPDATER_DEBUG"}
    if not tty:
        done = subprocess.run(args, cwd=ROOT, env=env, capture_output=True, text=True, timeout=60)
        return done.returncode, done.stdout, done.stderr
    master, slave = pty.openpty()
    proc = subprocess.Popen(args, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=slave)
    os.close(slave)
    seen = b""
    while True:
        ready, _, _ = select.select([master], [], [], 30)
        if not ready:
            break
        try:
            chunk = os.read(master, 4096)
        except OSError as exc:  # EIO: the child closed the terminal
            if exc.errno != errno.EIO:
                raise
            break
        if not chunk:
            break
        seen += chunk
    os.close(master)
    assert proc.stdout is not None
    stdout = proc.stdout.read().decode()
    return proc.wait(timeout=30), stdout, seen.decode().replace("\r\n", "\n")


def test_wait_progress_goes_to_the_terminal_only(tmp_path: Path) -> None:
    root = tmp_path / "layout"
    build_layout(root, [LayoutImage(tags=["stage-1111111"], created=utc(2026, 1, 1))])
    missing = MISSING.format(root=root)

    code, stdout, terminal = _resolve(root, tty=True)
    assert (code, stdout) == (2, "")
    lines = terminal.splitlines()
    assert lines[-1] == f"{missing} (waited 2s)"
    progress = lines[:-1]
    assert progress and progress[0].startswith("waiting (2s left): ")
    assert all(line.startswith("waiting (") and line.endswith(missing.removeprefix("updater: error: "))
               for line in progress)  # fmt: skip

    code, stdout, stderr = _resolve(root, tty=False)
    assert (code, stdout, stderr) == (2, "", f"{missing} (waited 2s)\n")  # a pipe gets no progress
