"""The CLI shell: help, version, lazy imports, error mapping."""

from __future__ import annotations

import os
import subprocess
import sys

from testing.cli import run

HEAVY = ("github", "google", "grpc", "docker", "requests", "ruamel", "tenacity")


def test_help_imports_no_heavy_library() -> None:
    code = (
        "import sys\n"
        "from updater.cli import main\n"
        "try:\n"
        "    main(['--help'])\n"
        "finally:\n"
        f"    heavy = [m for m in sys.modules if m.split('.')[0] in {HEAVY!r} or m.startswith({HEAVY!r})]\n"
        "    print('HEAVY=' + ','.join(sorted(heavy)))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert "Commands:" in out
    assert out.strip().splitlines()[-1] == "HEAVY="


def _cpu_seconds(argv: list[str]) -> float:
    """Run `argv` to the end and return the CPU time (user + system) the child spent."""
    child = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    _, status, usage = os.wait4(child.pid, 0)
    child.returncode = os.waitstatus_to_exitcode(status)
    assert child.returncode == 0, argv
    return usage.ru_utime + usage.ru_stime


def test_help_starts_within_1_3x_of_importing_click() -> None:
    """`updater --help` costs at most 1.3x `python -c "import click"` (the floor of any click CLI).

    The child's CPU time, not the wall clock: on a busy 2-core machine the wall clock mostly measures
    the run queue. Best of alternating runs, and up to three rounds, so that a burst of load on one
    side cannot decide alone (measured: about 1.15x; 1.7x before the --help path was trimmed).
    """
    ratios = []
    for _ in range(3):
        click_runs, help_runs = [], []
        for _ in range(7):
            click_runs.append(_cpu_seconds([sys.executable, "-c", "import click"]))
            help_runs.append(_cpu_seconds([sys.executable, "-m", "updater", "--help"]))
        ratios.append(min(help_runs) / min(click_runs))
        if ratios[-1] <= 1.3:
            return
    raise AssertionError(f"updater --help / import click, CPU time, best of 7 per round: {ratios}")


def test_version() -> None:
    result = run("--version")
    assert result.returncode == 0
    assert result.stdout.startswith("updater, version ")


def test_unknown_command_is_usage_error() -> None:
    result = run("frobnicate")
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == ["updater: error: No such command 'frobnicate'."]
