"""Retries, the circuit breaker and the request's deadline, around one source's calls.

Why here and not inside `HttpConnector`: every source goes through it, the built-in registries,
connector plug-ins and lower-level gateways alike, so a plug-in gets retries and a breaker by
raising the right `SourceError` (a `SourceUnavailable` for a 5xx is retried) without writing
either. The gateway's `Source` (behind its cache and single-flight, so one shared fetch is
retried once for every request waiting on it) and `UpstreamSource` call `Resilience.call`.

One call, for a batch of ids:

1. Nothing goes out once the deadline has passed: every id is a `SourceTimeout`.
2. The breaker is asked first. Open (or half-open with its probe already out): every id is a
   `SourceCircuitOpen`, at once, and the registry sees nothing.
3. The attempt's timeout is the connector's own `timeout_s`, or what is left of the deadline if
   that is less (enforced here, so a plug-in that ignores the deadline is still bounded).
4. Ids whose answer is a retryable `SourceError` (refused or reset connection, 5xx, 429 with
   `Retry-After`) are asked again, alone, with stamina's jittered exponential backoff or after
   the `Retry-After` the source sent, up to `retry.attempts` calls in all, and only while the
   wait plus a minimal attempt fits in what is left of the deadline. Timeouts are never retried
   (a slow source made slower helps nobody), nor bad responses, 4xx answers or refusals.
5. Each attempt that went out tells the breaker how it went. It failed if every id failed with
   a timeout, unavailability or a bad response; one good answer in a batch means the source is up;
   not found is an answer; a lower gateway refusing the principal is an answer too. A timeout that
   only the request's deadline caused (the attempt had less than `timeout_s`) is no verdict on the
   source: the deadline of an overloaded request must not open the breaker of a healthy registry.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import Generic, TypeVar

import stamina

from connectors.breaker import BreakerSettings, BreakerState, CircuitBreaker
from connectors.deadline import Deadline
from connectors.errors import (
    SourceCircuitOpen,
    SourceError,
    SourceForbidden,
    SourceTimeout,
)
from connectors.retry import RetrySettings

R = TypeVar("R")
Answers = dict[str, R | SourceError | None]
Fetch = Callable[[list[str]], Awaitable[Mapping[str, R | SourceError | None]]]

MIN_ATTEMPT_S = 0.05
"""A retry is only made if at least this much of the deadline is left for it after its wait."""


class _RetryWanted(Exception):
    """Raised inside a stamina attempt when some ids failed retryably: stamina decides (through
    `Resilience._backoff`) whether and when to try again. Its message is a registry's message,
    never an id, because stamina logs it when it schedules a retry."""

    def __init__(self, errors: Sequence[SourceError], next_wait: float) -> None:
        super().__init__(str(errors[0]))
        waits = [e.retry_after for e in errors if e.retry_after is not None]
        self.retry_after = max(waits) if waits else None
        self.next_wait = next_wait
        """stamina's backoff before the next attempt, without its jitter."""


class Resilience(Generic[R]):
    """The retry policy, breaker and timeout of one source (a department or a lower gateway).

    Lives as long as its source: the breaker's memory of recent calls is shared by every request.
    """

    def __init__(
        self,
        key: str,
        timeout_s: float,
        retry: RetrySettings,
        breaker: BreakerSettings,
        *,
        kind: str = "registry",
    ) -> None:
        self.key = key
        self._kind = kind
        self._timeout_s = timeout_s
        self._retry = retry
        self.breaker = CircuitBreaker(breaker)

    @property
    def breaker_state(self) -> BreakerState:
        return self.breaker.state

    async def call(
        self, ids: Sequence[str], fetch: Fetch[R], deadline: Deadline | None
    ) -> Answers[R]:
        """An answer for every id of `ids`: `fetch`'s, after retries, or why there is none.

        `fetch` may raise `SourceError` (the whole call failed); any other exception is a bug of
        the connector and propagates (the caller logs it), after the breaker got its answer.

        The first call is made directly: stamina's machinery costs tens of microseconds per use,
        which the common case (it worked) should not pay; stamina paces the retries. (Nor a
        coroutine more than it needs: on a cold profile each layer is paid once per department
        before its request leaves, measured by bench/fanout.py.)"""
        answers: Answers[R] = {}
        wanted = list(ids)
        if self._may_go_out(wanted, deadline, answers):
            answers = await self._attempt(wanted, fetch, deadline)
        if self._retry.attempts > 1 and _retryable_ids(answers):
            await self._retry_failed(fetch, deadline, answers)
        return answers

    async def _try(
        self, ids: list[str], fetch: Fetch[R], deadline: Deadline | None, answers: Answers[R]
    ) -> bool:
        """One attempt for `ids`, its answers merged into `answers`; False when it could not go
        out (`_may_go_out`)."""
        if not self._may_go_out(ids, deadline, answers):
            return False
        answers.update(await self._attempt(ids, fetch, deadline))
        return True

    def _may_go_out(self, ids: list[str], deadline: Deadline | None, answers: Answers[R]) -> bool:
        """Whether an attempt may go out (the deadline has not passed, the circuit lets it).
        When not, ids without an answer yet get that reason; on a retry, the failure that led
        to it says more, so it stays."""
        if deadline is not None and deadline.expired:
            for subject_id in ids:
                answers.setdefault(subject_id, self._deadline_error(deadline))
            return False
        if not self.breaker.allow():
            for subject_id in ids:
                answers.setdefault(subject_id, self._open_error())
            return False
        return True

    async def _retry_failed(
        self, fetch: Fetch[R], deadline: Deadline | None, answers: Answers[R]
    ) -> None:
        """Ask again for the ids that failed retryably, as stamina's backoff and `_backoff`
        allow. stamina's first attempt stands for the call `call` already made (so that
        `attempts` and the backoff count it): it only reports that call's failures."""
        retry = self._retry
        replay = True
        try:
            async for attempt in stamina.retry_context(
                on=lambda exc: self._backoff(exc, deadline),
                attempts=retry.attempts,
                timeout=None,  # the deadline is checked by `_backoff`, the wait included
                wait_initial=retry.wait_initial_s,
                wait_max=retry.wait_max_s,
                wait_jitter=retry.wait_jitter_s,
            ):
                with attempt:
                    if not replay and not await self._try(
                        _retryable_ids(answers), fetch, deadline, answers
                    ):
                        return
                    replay = False
                    errors = [answers[i] for i in _retryable_ids(answers)]
                    if errors:
                        raise _RetryWanted(
                            [e for e in errors if isinstance(e, SourceError)], attempt.next_wait
                        )
        except _RetryWanted:
            pass  # out of attempts or of time: the last answers stand

    async def _attempt(
        self, ids: list[str], fetch: Fetch[R], deadline: Deadline | None
    ) -> Answers[R]:
        """One call out, bounded by the timeout or the deadline; its verdict goes to the breaker
        (exactly once: `allow()` was called for it)."""
        budget = deadline.remaining() if deadline is not None else self._timeout_s
        cut = deadline is not None and budget < self._timeout_s
        verdict: bool | None = None
        try:
            try:
                if cut:
                    async with asyncio.timeout(budget):
                        answers = dict(await fetch(ids))
                else:
                    answers = dict(await fetch(ids))
            except TimeoutError:
                if deadline is None or not cut:
                    raise  # connectors report their own timeouts as `SourceTimeout`: a bug
                answers = dict.fromkeys(ids, self._deadline_error(deadline))
            except SourceError as exc:
                answers = dict.fromkeys(ids, exc)
            for subject_id in ids:
                if subject_id not in answers:
                    answers[subject_id] = SourceError(
                        self.key, "did not answer for every subject", kind=self._kind
                    )
            verdict = _verdict(answers, cut)
            return answers
        except Exception:
            verdict = False  # a connector bug is a failed call as far as the breaker knows
            raise
        finally:
            if verdict is None:
                self.breaker.release()
            else:
                self.breaker.record(verdict)

    def _backoff(self, exc: Exception, deadline: Deadline | None) -> bool | float:
        """stamina's hook: retry `_RetryWanted` only, after the source's `Retry-After` if it
        sent one (else stamina's jittered backoff), and only if the longest the wait can be plus
        a minimal attempt fits in what is left of the deadline. Without a deadline, a
        `Retry-After` longer than `wait_max_s` is not waited for."""
        if not isinstance(exc, _RetryWanted):
            return False
        if exc.retry_after is not None:
            wait = exc.retry_after
        else:
            wait = min(self._retry.wait_max_s, exc.next_wait + self._retry.wait_jitter_s)
        if deadline is None:
            if wait > self._retry.wait_max_s:
                return False
        elif wait + MIN_ATTEMPT_S > deadline.remaining():
            return False
        return exc.retry_after if exc.retry_after is not None else True

    def _open_error(self) -> SourceCircuitOpen:
        wait = self.breaker.retry_after()
        when = f"the next try is in {wait:.1f} s" if wait > 0 else "a trial call is under way"
        return SourceCircuitOpen(
            self.key,
            f"is not called while its circuit is open after repeated failures ({when})",
            kind=self._kind,
        )

    def _deadline_error(self, deadline: Deadline) -> SourceTimeout:
        return SourceTimeout(
            self.key,
            f"did not answer within the request's deadline ({deadline.budget_s:g} s)",
            kind=self._kind,
        )


def _retryable_ids(answers: Mapping[str, object]) -> list[str]:
    return [
        subject_id
        for subject_id, answer in answers.items()
        if isinstance(answer, SourceError) and answer.retryable
    ]


def _verdict(answers: Mapping[str, object], cut: bool) -> bool | None:
    """Whether an attempt shows the source healthy (True), failing (False), or says nothing
    about it (None: only timeouts, and the request's deadline was shorter than `timeout_s`)."""
    errors = [a for a in answers.values() if isinstance(a, SourceError)]
    if len(errors) < len(answers):
        return True
    if all(isinstance(e, SourceForbidden) for e in errors):
        return True
    if cut and all(isinstance(e, SourceTimeout) for e in errors):
        return None
    return False
