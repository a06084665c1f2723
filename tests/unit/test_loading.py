"""Outcomes still arriving, and the `Subject` resolvers that wait for what they read."""

from __future__ import annotations

import asyncio
import inspect
from collections.abc import Awaitable, Mapping
from dataclasses import dataclass
from typing import TypeVar

import pytest

from connectors.errors import SourceState
from resolvers.loading import LoadingOutcomes, all_done, when_loaded
from resolvers.outcome import SourceOutcome

T = TypeVar("T")


@dataclass
class Root:
    outcomes: object


def _ok(department: str) -> SourceOutcome:
    return SourceOutcome(department, SourceState.OK)


def _futures(*departments: str) -> dict[str, asyncio.Future[SourceOutcome]]:
    loop = asyncio.get_running_loop()
    return {d: loop.create_future() for d in departments}


def _departments_read(root: Root) -> list[str]:
    assert isinstance(root.outcomes, Mapping)
    return [outcome.department for outcome in root.outcomes.values()]


def _awaited(value: T | Awaitable[T]) -> asyncio.Future[T]:
    """A field's result that must be an awaitable (its outcomes are loading)."""
    assert inspect.isawaitable(value)
    return asyncio.ensure_future(value)


async def test_outcomes_read_as_a_mapping_once_loaded() -> None:
    futures = _futures("environment", "quality")
    outcomes = LoadingOutcomes(futures)
    assert list(outcomes) == ["environment", "quality"]
    assert len(outcomes) == 2
    assert outcomes.loading() == list(futures.values())
    futures["quality"].set_result(_ok("quality"))
    assert outcomes["quality"].state is SourceState.OK
    assert outcomes.loading() == [futures["environment"]]
    assert outcomes.loading("quality") == []
    assert outcomes.loading("court") == []  # not consulted: nothing to wait for
    with pytest.raises(asyncio.InvalidStateError):
        outcomes["environment"]  # a resolver must wait first


async def test_a_failed_load_reads_as_the_departments_error_outcome() -> None:
    futures = _futures("health")
    futures["health"].set_exception(RuntimeError("bug on the gateway's path"))
    outcome = LoadingOutcomes(futures)["health"]
    assert outcome.state is SourceState.ERROR
    assert isinstance(outcome.error, RuntimeError)


async def test_a_cancelled_load_is_not_taken_for_an_outcome() -> None:
    futures = _futures("health")
    futures["health"].cancel()
    with pytest.raises(asyncio.CancelledError):
        LoadingOutcomes(futures)["health"]


async def test_resolvers_run_at_once_when_nothing_they_read_is_loading() -> None:
    futures = _futures("environment", "quality")
    futures["environment"].set_result(_ok("environment"))
    root = Root(LoadingOutcomes(futures))
    section = when_loaded(lambda root: root.outcomes["environment"].department, "environment")
    assert section(root) == "environment"  # a value, not an awaitable
    plain = when_loaded(_departments_read)
    assert plain(Root({"tax": _ok("tax")})) == ["tax"]  # loaded whole: never waits


async def test_a_section_waits_for_its_department_only() -> None:
    futures = _futures("environment", "quality")
    root = Root(LoadingOutcomes(futures))
    section = when_loaded(lambda root: root.outcomes["quality"].state, "quality")
    everything = when_loaded(_departments_read)
    waiting_section = _awaited(section(root=root))
    waiting_all = _awaited(everything(root))
    await asyncio.sleep(0)
    assert not waiting_section.done()
    assert not waiting_all.done()
    futures["quality"].set_result(_ok("quality"))
    assert await waiting_section is SourceState.OK
    assert not waiting_all.done()  # environment is still loading
    futures["environment"].set_result(_ok("environment"))
    assert await waiting_all == ["environment", "quality"]


async def test_a_cancelled_field_leaves_the_shared_loads_running() -> None:
    futures = _futures("environment")
    root = Root(LoadingOutcomes(futures))
    field = _awaited(when_loaded(_departments_read)(root))
    await asyncio.sleep(0)
    field.cancel()
    with pytest.raises(asyncio.CancelledError):
        await field
    assert not futures["environment"].cancelled()
    futures["environment"].set_result(_ok("environment"))
    assert _departments_read(root) == ["environment"]


async def test_all_done_ends_when_every_future_has_ended_however() -> None:
    futures = _futures("environment", "quality", "health")
    waiter = all_done(list(futures.values()))
    futures["environment"].set_exception(RuntimeError("a bug on the gateway's path"))
    futures["quality"].cancel()
    await asyncio.sleep(0)
    assert not waiter.done()  # health is still loading
    futures["health"].set_result(_ok("health"))
    await waiter  # neither the failure nor the cancellation is raised here
    assert waiter.exception() is None
    assert futures["environment"].exception() is not None


async def test_all_done_of_nothing_or_of_ended_futures_is_done_at_once() -> None:
    assert all_done([]).done()
    ended = _futures("environment")
    ended["environment"].set_result(_ok("environment"))
    waiter = all_done(list(ended.values()))
    await asyncio.sleep(0)  # done callbacks of an ended future run on the next loop turn
    assert waiter.done()


async def test_cancelling_all_done_cancels_none_of_the_futures() -> None:
    futures = _futures("environment", "quality")
    waiter = all_done(list(futures.values()))
    waiter.cancel()
    futures["environment"].set_result(_ok("environment"))
    futures["quality"].set_result(_ok("quality"))
    await asyncio.sleep(0)  # their callbacks find the waiter cancelled and leave it so
    assert waiter.cancelled()
    assert not any(future.cancelled() for future in futures.values())
