"""The one retry policy for every network call: bounded, jittered, honouring Retry-After.

Callers raise `Transient` for a failure that is safe to repeat (a GET, or a write whose effect they
have checked); anything else propagates at once. When the budget is spent the last `Transient` is
re-raised and the caller turns it into a `RemoteError` naming the service and the status.
"""

from __future__ import annotations

import email.utils
import os
import random
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import TypeVar

import tenacity

T = TypeVar("T")


class Transient(Exception):
    """A failure worth retrying; `retry_after` is the server's requested delay in seconds, if any."""

    def __init__(self, message: str, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


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
# Tests swap this to avoid real sleeping where the wait itself is not under test.
sleep: Callable[[float], None] = time.sleep


def set_policy(policy: Policy) -> None:
    """Set the process-wide policy (the CLI does this from --retry-budget)."""
    global _policy
    _policy = policy


def policy() -> Policy:
    """Return the process-wide policy."""
    return _policy


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


def call(fn: Callable[[], T], p: Policy | None = None) -> T:
    """Return fn(), retrying on `Transient` within the policy; re-raise the last failure when spent."""
    p = p or _policy
    retrying = tenacity.Retrying(
        retry=tenacity.retry_if_exception_type(Transient),
        stop=tenacity.stop_after_attempt(p.attempts) | tenacity.stop_before_delay(p.budget),
        wait=_wait(p),
        sleep=lambda seconds: sleep(seconds),
        reraise=True,
    )
    return retrying(fn)


def poll(
    fn: Callable[[], T | None], timeout: float, on_wait: Callable[[float], None] | None = None
) -> T | None:
    """Return the first non-None fn() within `timeout` seconds (backoff with jitter, capped), else None."""
    if timeout <= 0:
        return fn()

    def before_sleep(state: tenacity.RetryCallState) -> None:
        if on_wait is not None:
            on_wait(max(0.0, timeout - (state.seconds_since_start or 0.0)))

    retrying = tenacity.Retrying(
        retry=tenacity.retry_if_result(lambda result: result is None),
        stop=tenacity.stop_before_delay(timeout),
        wait=tenacity.wait_exponential_jitter(initial=1.0, max=15.0, jitter=1.0),
        sleep=lambda seconds: sleep(seconds),
        before_sleep=before_sleep,
        retry_error_callback=lambda state: None,
    )
    result: T | None = retrying(fn)
    return result
