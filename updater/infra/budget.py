"""The run's retry budget: the policy every network call shares, and the seconds spent on failures.

Kept apart from `retry` (which loads tenacity) so that the CLI can set the budget from --retry-budget
without loading the retry machinery on every start, `--help` included.
"""

from __future__ import annotations

import os
import threading
from dataclasses import dataclass, replace


@dataclass(frozen=True)
class Policy:
    """How hard to try: at most `attempts` tries and `budget` seconds in all, sleeps included."""

    attempts: int = 8
    budget: float = 60.0
    initial: float = 0.5
    maximum: float = 10.0

    def with_budget(self, seconds: float) -> Policy:
        return replace(self, budget=seconds)


def _default_policy() -> Policy:
    budget = os.environ.get("UPDATER_RETRY_BUDGET")
    return Policy(budget=float(budget)) if budget else Policy()


_policy = _default_policy()
# Seconds of the budget spent on failures so far in this run (failed attempts and back-off sleeps).
_spent = 0.0
# `status` reads registries from several threads; each charge is a read-modify-write of `_spent`.
_lock = threading.Lock()


def set_policy(policy: Policy) -> None:
    """Set the process-wide policy (the CLI does this from --retry-budget)."""
    global _policy, _spent
    _policy = policy
    _spent = 0.0


def remaining(p: Policy | None = None) -> float:
    """Return the seconds of the run's retry budget not yet spent on failures (never below 0)."""
    return max(0.0, (p or _policy).budget - _spent)


def timeout(connect: float = 10.0, read: float = 30.0) -> tuple[float, float]:
    """Return (connect, read) timeouts for one attempt, capped by the budget left (at least 0.5 s)."""
    left = max(0.5, remaining())
    return (min(connect, left), min(read, left))


def policy() -> Policy:
    """Return the process-wide policy."""
    return _policy


def charge(seconds: float) -> None:
    """Count `seconds` (a failed attempt or a back-off sleep) against the run's budget."""
    global _spent
    with _lock:
        _spent += max(0.0, seconds)


def spent() -> float:
    """Return the seconds of the budget spent on failures so far in this run."""
    return _spent
