"""Retries, breaker and deadline around a source's calls, on fetch functions written for the test.

The integration suite (tests/integration/test_fault_injection.py) shows the same on real HTTP
against the reference registries; these pin the rules themselves, quickly.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from datetime import UTC, datetime

import pytest

from connectors.breaker import BreakerSettings, BreakerState
from connectors.deadline import Deadline
from connectors.errors import (
    SourceBadResponse,
    SourceCircuitOpen,
    SourceError,
    SourceForbidden,
    SourceTimeout,
    SourceUnavailable,
)
from connectors.resilience import Resilience
from connectors.retry import RetrySettings, retry_after_s

NO_WAIT = RetrySettings(attempts=3, wait_initial_s=0, wait_max_s=0, wait_jitter_s=0)
Answer = str | SourceError | None


class Recorder:
    """A fetch function answering from a script, one entry per call, recording what it was asked."""

    def __init__(self, *script: Mapping[str, Answer] | SourceError) -> None:
        self.script = list(script)
        self.asked: list[list[str]] = []

    async def __call__(self, ids: list[str]) -> Mapping[str, Answer]:
        self.asked.append(list(ids))
        step = self.script[min(len(self.asked), len(self.script)) - 1]
        if isinstance(step, SourceError):
            raise step
        return {i: step[i] for i in ids if i in step}


def _resilience(
    retry: RetrySettings = NO_WAIT, timeout_s: float = 1.0, **breaker: float
) -> Resilience[str]:
    settings = BreakerSettings(**{"min_calls": 100, **breaker})  # type: ignore[arg-type]
    return Resilience("environment", timeout_s, retry, settings)


def _state(resilience: Resilience[str]) -> BreakerState:
    """The state now (a function, so the type checker does not pin it between two reads)."""
    return resilience.breaker_state


def _unavailable(**kwargs: object) -> SourceUnavailable:
    return SourceUnavailable("environment", "answered HTTP 500", **kwargs)  # type: ignore[arg-type]


async def test_only_the_ids_that_failed_retryably_are_asked_again() -> None:
    fetch = Recorder({"a": "A", "b": _unavailable(), "c": None}, {"b": "B"})
    answers = await _resilience().call(["a", "b", "c"], fetch, Deadline.after(5))
    assert answers == {"a": "A", "b": "B", "c": None}
    assert fetch.asked == [["a", "b", "c"], ["b"]]


async def test_retries_stop_after_the_attempts_and_the_last_failure_stands() -> None:
    error = _unavailable()
    fetch = Recorder(error)
    answers = await _resilience().call(["a"], fetch, Deadline.after(5))
    assert answers == {"a": error}
    assert len(fetch.asked) == 3


@pytest.mark.parametrize(
    "error",
    [
        SourceTimeout("environment", "did not answer within 1 s"),
        SourceBadResponse("environment", "sent a body that is not JSON"),
        SourceUnavailable("environment", "answered HTTP 429", retryable=False),
        SourceForbidden("environment", "refused the lookup", kind="gateway"),
    ],
    ids=["timeout", "bad response", "429 without Retry-After", "refusal"],
)
async def test_failures_that_asking_again_will_not_cure_are_not_retried(
    error: SourceError,
) -> None:
    fetch = Recorder(error)
    assert await _resilience().call(["a"], fetch, Deadline.after(5)) == {"a": error}
    assert len(fetch.asked) == 1


async def test_retry_after_is_honoured_when_it_fits_in_the_deadline() -> None:
    fetch = Recorder(_unavailable(retry_after=0.2), {"a": "A"})
    loop = asyncio.get_running_loop()
    started = loop.time()
    assert await _resilience().call(["a"], fetch, Deadline.after(5)) == {"a": "A"}
    assert loop.time() - started >= 0.2
    assert len(fetch.asked) == 2


async def test_a_retry_that_would_outlast_the_deadline_is_not_made() -> None:
    error = _unavailable(retry_after=30)
    fetch = Recorder(error, {"a": "A"})
    assert await _resilience().call(["a"], fetch, Deadline.after(2)) == {"a": error}
    assert len(fetch.asked) == 1


async def test_backoff_that_would_outlast_the_deadline_is_not_waited_for() -> None:
    slow = RetrySettings(attempts=5, wait_initial_s=1, wait_max_s=1, wait_jitter_s=0)
    fetch = Recorder(_unavailable(), {"a": "A"})
    answers = await _resilience(slow).call(["a"], fetch, Deadline.after(0.5))
    assert isinstance(answers["a"], SourceUnavailable)
    assert len(fetch.asked) == 1


async def test_the_call_is_cut_to_the_deadline_and_that_is_no_verdict_on_the_source() -> None:
    async def hangs(ids: list[str]) -> Mapping[str, Answer]:
        await asyncio.sleep(10)
        return {}

    resilience = _resilience(timeout_s=10, min_calls=1, failure_rate=1)
    answers = await resilience.call(["a"], hangs, Deadline.after(0.05))
    assert isinstance(answers["a"], SourceTimeout)
    assert "deadline" in str(answers["a"])
    assert _state(resilience) is BreakerState.CLOSED  # one failure would have opened it


async def test_nothing_goes_out_once_the_deadline_has_passed() -> None:
    fetch = Recorder({"a": "A"})
    deadline = Deadline.after(0)
    await asyncio.sleep(0.01)
    answers = await _resilience().call(["a"], fetch, deadline)
    assert isinstance(answers["a"], SourceTimeout)
    assert fetch.asked == []


async def test_an_open_breaker_refuses_without_calling_then_a_probe_closes_it() -> None:
    resilience = _resilience(min_calls=2, failure_rate=0.5, open_s=0.1)
    failing = Recorder(SourceBadResponse("environment", "sent a body that is not JSON"))
    for _ in range(2):
        await resilience.call(["a"], failing, Deadline.after(5))
    assert _state(resilience) is BreakerState.OPEN
    refused = await resilience.call(["a"], failing, Deadline.after(5))
    assert isinstance(refused["a"], SourceCircuitOpen)
    assert "circuit is open" in str(refused["a"])
    assert len(failing.asked) == 2
    await asyncio.sleep(0.15)
    healthy = Recorder({"a": "A"})
    assert await resilience.call(["a"], healthy, Deadline.after(5)) == {"a": "A"}
    assert _state(resilience) is BreakerState.CLOSED


async def test_one_good_answer_in_a_batch_means_the_source_is_up() -> None:
    resilience = _resilience(min_calls=1, failure_rate=1)
    bad = SourceBadResponse("environment", "sent a record that does not match")
    await resilience.call(["a", "b"], Recorder({"a": None, "b": bad}), Deadline.after(5))
    assert _state(resilience) is BreakerState.CLOSED


async def test_a_cancelled_probe_gives_its_place_back() -> None:
    resilience = _resilience(min_calls=1, failure_rate=1, open_s=0.05)
    await resilience.call(["a"], Recorder(_unavailable(retryable=False)), Deadline.after(5))
    await asyncio.sleep(0.06)
    assert _state(resilience) is BreakerState.HALF_OPEN

    async def hangs(ids: list[str]) -> Mapping[str, Answer]:
        await asyncio.sleep(10)
        return {}

    probe = asyncio.create_task(resilience.call(["a"], hangs, Deadline.after(5)))
    await asyncio.sleep(0.02)
    probe.cancel()
    with pytest.raises(asyncio.CancelledError):
        await probe
    assert await resilience.call(["a"], Recorder({"a": "A"}), Deadline.after(5)) == {"a": "A"}


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        (None, None),
        ("3", 3.0),
        ("0.25", 0.25),
        ("-4", 0.0),
        ("soon", None),
        ("nan", None),
        ("Wed, 21 Oct 2015 07:28:10 GMT", 10.0),
        ("Wed, 21 Oct 2015 07:27:00 GMT", 0.0),
    ],
)
def test_retry_after_header(header: str | None, expected: float | None) -> None:
    now = datetime(2015, 10, 21, 7, 28, 0, tzinfo=UTC)
    assert retry_after_s(header, now) == expected


def test_retry_settings_are_checked() -> None:
    with pytest.raises(ValueError, match="wait_max_s"):
        RetrySettings(wait_initial_s=2, wait_max_s=1)
    assert RetrySettings().attempts == 3
