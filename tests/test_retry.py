"""The shared retry policy: bounded by attempts and time, jittered, honouring Retry-After."""

from __future__ import annotations

import time

import pytest

from updater.infra import retry


@pytest.fixture
def sleeps(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    recorded: list[float] = []
    monkeypatch.setattr(retry, "sleep", recorded.append)
    return recorded


def test_transient_failures_are_retried_until_success(sleeps: list[float]) -> None:
    outcomes = iter([retry.Transient("502"), retry.Transient("503"), "ok"])

    def flaky() -> str:
        result = next(outcomes)
        if isinstance(result, Exception):
            raise result
        return result

    assert retry.call(flaky, retry.Policy(attempts=5, budget=60)) == "ok"
    assert len(sleeps) == 2
    assert all(0 < s <= 10 for s in sleeps)


def test_retry_after_is_honoured(sleeps: list[float]) -> None:
    calls = iter([retry.Transient("429", retry_after=7), "ok"])

    def limited() -> str:
        result = next(calls)
        if isinstance(result, Exception):
            raise result
        return result

    assert retry.call(limited, retry.Policy(attempts=3, budget=60)) == "ok"
    assert sleeps[0] >= 7


def test_attempts_are_bounded_and_the_last_error_is_raised(sleeps: list[float]) -> None:
    count = 0

    def always() -> None:
        nonlocal count
        count += 1
        raise retry.Transient(f"failure {count}")

    with pytest.raises(retry.Transient, match="failure 4"):
        retry.call(always, retry.Policy(attempts=4, budget=600))
    assert count == 4


def test_budget_bounds_wall_time() -> None:
    start = time.monotonic()

    def always() -> None:
        raise retry.Transient("down", retry_after=0.2)

    with pytest.raises(retry.Transient):
        retry.call(always, retry.Policy(attempts=100, budget=1.0, initial=0.1, maximum=0.2))
    assert time.monotonic() - start < 1.5


def test_a_retry_after_beyond_the_budget_stops_at_once(sleeps: list[float]) -> None:
    def limited() -> None:
        raise retry.Transient("429", retry_after=3600)

    with pytest.raises(retry.Transient):
        retry.call(limited, retry.Policy(attempts=5, budget=60))
    assert sleeps == []


def test_other_errors_are_not_retried(sleeps: list[float]) -> None:
    count = 0

    def broken() -> None:
        nonlocal count
        count += 1
        raise ValueError("not transient")

    with pytest.raises(ValueError):
        retry.call(broken)
    assert count == 1 and sleeps == []


def test_parse_retry_after() -> None:
    assert retry.parse_retry_after("120") == 120.0
    assert retry.parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT", now=1445412470.0) == 10.0
    assert retry.parse_retry_after("soon") is None
    assert retry.parse_retry_after(None) is None


def test_poll_returns_the_first_result(sleeps: list[float]) -> None:
    values = iter([None, None, "tag"])
    waited: list[float] = []
    assert retry.poll(lambda: next(values), timeout=30, on_wait=waited.append) == "tag"
    assert len(sleeps) == 2 and len(waited) == 2


def test_poll_gives_up_after_timeout() -> None:
    start = time.monotonic()
    assert retry.poll(lambda: None, timeout=0.5) is None
    assert time.monotonic() - start < 2.5


def test_the_default_budget_is_60_seconds() -> None:
    assert retry.Policy().budget == 60


def test_the_budget_is_run_wide_and_caps_attempt_timeouts() -> None:
    saved = retry.policy()
    retry.set_policy(retry.Policy(budget=0.5, initial=0.02, maximum=0.04))
    try:
        assert retry.timeout(10, 30) == (0.5, 0.5)
        calls = 0

        def down() -> None:
            nonlocal calls
            calls += 1
            time.sleep(0.3)  # a slow failure, like a read timeout
            raise retry.Transient("HTTP 503")

        with pytest.raises(retry.Transient, match="503"):
            retry.call(down)
        assert calls == 2 and retry.remaining() == 0
        assert retry.timeout(10, 30) == (0.5, 0.5)  # the floor: never a zero timeout
        # A later request of the same run does not get a fresh budget: it fails without being sent.
        with pytest.raises(retry.BudgetSpent, match="already spent"):
            retry.call(down)
        assert calls == 2
    finally:
        retry.set_policy(saved)
    assert retry.remaining() == saved.budget  # set_policy opens a new account


def test_successful_calls_cost_no_budget() -> None:
    saved = retry.policy()
    retry.set_policy(retry.Policy(budget=0.2))
    try:
        for _ in range(3):
            assert retry.call(lambda: time.sleep(0.1) or "ok") == "ok"
        assert retry.remaining() == 0.2
    finally:
        retry.set_policy(saved)
