"""The circuit breaker's states, on a clock the test moves by hand."""

from __future__ import annotations

import pytest

from connectors.breaker import BreakerSettings, BreakerState, CircuitBreaker


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def _breaker(clock: Clock, **settings: float) -> CircuitBreaker:
    values = {"failure_rate": 0.5, "min_calls": 4, "window_s": 10.0, "open_s": 5.0, **settings}
    return CircuitBreaker(BreakerSettings(**values), clock)  # type: ignore[arg-type]


def _state(breaker: CircuitBreaker) -> BreakerState:
    """The state now (a function, so the type checker does not pin it between two reads)."""
    return breaker.state


def _calls(breaker: CircuitBreaker, outcomes: str) -> None:
    for outcome in outcomes:
        assert breaker.allow()
        breaker.record(outcome == "+")


def test_opens_on_the_failure_rate_once_the_window_holds_enough_calls() -> None:
    clock = Clock()
    breaker = _breaker(clock)
    _calls(breaker, "--")
    assert _state(breaker) is BreakerState.CLOSED  # two calls: too few to judge
    _calls(breaker, "+")
    assert _state(breaker) is BreakerState.CLOSED  # 2 of 3 failed, but min_calls is 4
    _calls(breaker, "-")
    assert _state(breaker) is BreakerState.OPEN
    assert not breaker.allow()
    assert breaker.retry_after() == pytest.approx(5.0)
    assert breaker.opened == 1


def test_successes_keep_it_closed() -> None:
    breaker = _breaker(Clock())
    _calls(breaker, "++-+-+++")
    assert _state(breaker) is BreakerState.CLOSED


def test_old_failures_leave_the_window() -> None:
    clock = Clock()
    breaker = _breaker(clock)
    _calls(breaker, "---")
    clock.now += 11
    _calls(breaker, "+-++")  # the first three are forgotten: 1 of 4 failed
    assert _state(breaker) is BreakerState.CLOSED


def test_half_open_lets_one_probe_through_and_closes_on_success() -> None:
    clock = Clock()
    breaker = _breaker(clock)
    _calls(breaker, "----")
    clock.now += 5
    assert _state(breaker) is BreakerState.HALF_OPEN
    assert breaker.allow()
    assert not breaker.allow()  # one probe at a time
    breaker.record(True)
    assert _state(breaker) is BreakerState.CLOSED
    _calls(breaker, "---")  # the old failures were forgotten when it closed
    assert _state(breaker) is BreakerState.CLOSED


def test_a_failed_probe_reopens_it_for_another_period() -> None:
    clock = Clock()
    breaker = _breaker(clock)
    _calls(breaker, "----")
    clock.now += 5
    assert breaker.allow()
    breaker.record(False)
    assert _state(breaker) is BreakerState.OPEN
    assert breaker.opened == 2
    clock.now += 4.9
    assert not breaker.allow()
    clock.now += 0.1
    assert breaker.allow()


def test_a_probe_released_without_a_verdict_lets_the_next_caller_probe() -> None:
    clock = Clock()
    breaker = _breaker(clock)
    _calls(breaker, "----")
    clock.now += 5
    assert breaker.allow()
    assert not breaker.allow()
    breaker.release()  # cancelled, or cut short by its request's deadline
    assert _state(breaker) is BreakerState.HALF_OPEN
    assert breaker.allow()
    breaker.record(True)
    assert _state(breaker) is BreakerState.CLOSED


def test_outcomes_of_calls_let_out_before_it_opened_do_not_extend_it() -> None:
    clock = Clock()
    breaker = _breaker(clock)
    assert breaker.allow()  # in flight while the others fail
    _calls(breaker, "----")
    breaker.record(False)
    clock.now += 5
    assert _state(breaker) is BreakerState.HALF_OPEN


@pytest.mark.parametrize(
    "bad",
    [{"failure_rate": 0}, {"failure_rate": 1.5}, {"min_calls": 0}, {"open_s": 0}],
)
def test_settings_are_checked(bad: dict[str, float]) -> None:
    with pytest.raises(ValueError, match="must be"):
        BreakerSettings(**bad)  # type: ignore[arg-type]
