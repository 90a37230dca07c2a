"""The one retry policy for every network call: bounded, jittered, honouring Retry-After.

Callers raise `Transient` for a failure that is safe to repeat (a GET, or a write whose effect they
have checked); anything else propagates at once. When the budget is spent the last `Transient` is
re-raised and the caller turns it into a `RemoteError` naming the service and the status.

The budget is run-wide: every second spent in a failed attempt or in a back-off sleep, by any call,
is taken from one account per process (a CLI run), reopened by `set_policy`. A run whose remote keeps
failing therefore gives up within one budget however many requests it makes, while time spent in
successful requests, and `poll`'s deliberate waits, cost nothing. Per-attempt timeouts are capped by
what is left (`timeout`), so a peer that accepts the connection and never answers cannot outlast it.
"""

from __future__ import annotations

import email.utils
import random
import time
from collections.abc import Callable
from typing import TypeVar

import tenacity

from updater.infra import budget
from updater.infra.budget import Policy as Policy
from updater.infra.budget import policy as policy
from updater.infra.budget import remaining as remaining
from updater.infra.budget import set_policy as set_policy
from updater.infra.budget import timeout as timeout

T = TypeVar("T")


class Transient(Exception):
    """A failure worth retrying; `retry_after` is the server's requested delay in seconds, if any."""

    def __init__(self, message: str, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


# Tests swap this to avoid real sleeping where the wait itself is not under test.
sleep: Callable[[float], None] = time.sleep


def parse_retry_after(value: str | None, now: float | None = None) -> float | None:
    """Return the delay in seconds that a Retry-After header asks for (seconds or HTTP date)."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    current = time.time() if now is None else now
    return max(0.0, when.timestamp() - current)


def _wait(p: Policy) -> Callable[[tenacity.RetryCallState], float]:
    def compute(state: tenacity.RetryCallState) -> float:
        # Full jitter on an exponential ramp, never below what the server asked for.
        ceiling = min(p.maximum, p.initial * (2 ** (state.attempt_number - 1)))
        delay = random.uniform(ceiling / 2, ceiling)
        outcome = state.outcome
        exc = outcome.exception() if outcome is not None else None
        if isinstance(exc, Transient) and exc.retry_after is not None:
            delay = max(delay, exc.retry_after)
        return delay

    return compute


class BudgetSpent(Transient):
    """The run's retry budget was used up by earlier failures; nothing was sent."""


def _charge(started: float) -> None:
    budget.charge(time.monotonic() - started)


class _OutOfBudget(tenacity.stop.stop_base):
    """Stop when the next sleep would not fit in the budget the run has left."""

    def __init__(self, p: Policy) -> None:
        self.p = p

    def __call__(self, retry_state: tenacity.RetryCallState) -> bool:
        return (retry_state.upcoming_sleep or 0.0) >= remaining(self.p)


def call(fn: Callable[[], T], p: Policy | None = None) -> T:
    """Return fn(), retrying on `Transient` within the policy; re-raise the last failure when spent.

    Raises `BudgetSpent` at once, without calling fn, when earlier failures used up the budget.
    """
    p = p or policy()
    if budget.spent() > 0 and remaining(p) <= 0:  # a budget of 0 still allows one attempt
        raise BudgetSpent(f"retry budget of {p.budget:g}s already spent on earlier failures")

    def attempt() -> T:
        started = time.monotonic()
        try:
            return fn()
        except Transient:
            _charge(started)
            raise

    def pause(seconds: float) -> None:
        started = time.monotonic()
        try:
            sleep(seconds)
        finally:
            _charge(started)

    retrying = tenacity.Retrying(
        retry=tenacity.retry_if_exception_type(Transient),
        stop=tenacity.stop_after_attempt(p.attempts) | _OutOfBudget(p),
        wait=_wait(p),
        sleep=pause,
        reraise=True,
    )
    return retrying(attempt)


POLL_INTERVAL = 5.0  # the longest pause between two polls


def poll(
    fn: Callable[[], T | None], timeout: float, on_wait: Callable[[float], None] | None = None
) -> T | None:
    """Return the first non-None fn() within `timeout` seconds, else None.

    Polls at once, then after about 1, 2 and 4 s and every POLL_INTERVAL s at most (jittered below
    the cap), the last poll at the deadline itself: what appears while waiting is seen within
    seconds, and what appears just before the deadline is still seen. Time counts the pauses asked
    for (or their measured length when longer) and the time fn takes, so a test that replaces
    `sleep` does not spin.
    """
    if timeout <= 0:
        return fn()
    elapsed = 0.0
    pause = 1.0
    while True:
        started = time.monotonic()
        result = fn()
        elapsed += time.monotonic() - started
        if result is not None:
            return result
        left = timeout - elapsed
        if left <= 0:
            return None
        if on_wait is not None:
            on_wait(left)
        step = min(random.uniform(0.8, 1.0) * pause, left)
        started = time.monotonic()
        sleep(step)
        elapsed += max(step, time.monotonic() - started)
        pause = min(POLL_INTERVAL, pause * 2)
