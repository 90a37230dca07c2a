"""Suite-wide fixtures, and the isolation that lets pytest-xdist workers run side by side."""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from updater.infra import retry

# Per process (each xdist worker is one): a private TMPDIR, so a test that checks what the CLI left in
# the temp directory (git clones, lock files) sees only its own process's files, never another
# worker's or another run's on a shared machine; and an empty DOCKER_CONFIG, so no test reads or
# writes the machine user's registry credentials. Tests that need others set them with monkeypatch.
_PRIVATE: list[Path] = []


def pytest_configure(config: pytest.Config) -> None:
    worker = os.environ.get("PYTEST_XDIST_WORKER", "main")
    base = Path(tempfile.mkdtemp(prefix=f"updater-tests-{worker}-"))
    (base / "tmp").mkdir()
    (base / "docker").mkdir()
    os.environ["TMPDIR"] = str(base / "tmp")
    os.environ["DOCKER_CONFIG"] = str(base / "docker")
    tempfile.tempdir = None  # tempfile caches the directory it chose first
    _PRIVATE.append(base)


def pytest_unconfigure(config: pytest.Config) -> None:
    for base in _PRIVATE:
        shutil.rmtree(base, ignore_errors=True)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Mark every hypothesis test `property`, so make test-long reruns them with more examples."""
    for item in items:
        if getattr(getattr(item, "obj", None), "is_hypothesis_test", False):
            item.add_marker(pytest.mark.property)


@pytest.fixture(autouse=True)
def fresh_retry_budget() -> Iterator[None]:
    """Give every test its own run-wide retry budget, as every CLI run has its own process.

    The budget is process-wide by design (a run gives up within one budget however many requests it
    makes); without this, failures injected by one in-process test would eat the next test's budget.
    """
    saved = retry.policy()
    retry.set_policy(saved)
    yield
    retry.set_policy(saved)
