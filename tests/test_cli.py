"""The CLI shell: help, version, lazy imports, error mapping."""

from __future__ import annotations

import subprocess
import sys

from testing.cli import run

HEAVY = ("github", "google.cloud", "grpc", "docker", "requests", "ruamel")


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


def test_version() -> None:
    result = run("--version")
    assert result.returncode == 0
    assert result.stdout.startswith("updater, version ")


def test_unknown_command_is_usage_error() -> None:
    result = run("frobnicate")
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == ["updater: error: No such command 'frobnicate'."]
