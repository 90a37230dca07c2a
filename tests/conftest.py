"""Suite-wide fixtures."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from updater.infra import retry


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
