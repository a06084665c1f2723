import asyncio
from collections.abc import Mapping

import pytest

from gateway.singleflight import SingleFlight


class Upstream:
    def __init__(self) -> None:
        self.calls: list[list[str]] = []
        self.release = asyncio.Event()

    async def fetch(self, keys: list[str]) -> Mapping[str, str]:
        self.calls.append(list(keys))
        await self.release.wait()
        return {key: key.upper() for key in keys}


async def test_concurrent_callers_share_one_call() -> None:
    flight: SingleFlight[str, str] = SingleFlight()
    upstream = Upstream()
    callers = [asyncio.create_task(flight.run(["a"], upstream.fetch)) for _ in range(50)]
    await asyncio.sleep(0.01)
    upstream.release.set()
    results = await asyncio.gather(*callers)
    assert upstream.calls == [["a"]]
    assert all(result == {"a": "A"} for result in results)
    assert flight.inflight == 0


async def test_batch_joins_keys_in_flight_and_fetches_only_the_rest() -> None:
    flight: SingleFlight[str, str] = SingleFlight()
    upstream = Upstream()
    first = asyncio.create_task(flight.run(["a", "b"], upstream.fetch))
    await asyncio.sleep(0.01)
    second = asyncio.create_task(flight.run(["b", "c"], upstream.fetch))
    await asyncio.sleep(0.01)
    upstream.release.set()
    assert await first == {"a": "A", "b": "B"}
    assert await second == {"b": "B", "c": "C"}
    assert upstream.calls == [["a", "b"], ["c"]]


async def test_a_cancelled_caller_does_not_cancel_the_others() -> None:
    flight: SingleFlight[str, str] = SingleFlight()
    upstream = Upstream()
    leader = asyncio.create_task(flight.run(["a"], upstream.fetch))
    follower = asyncio.create_task(flight.run(["a"], upstream.fetch))
    await asyncio.sleep(0.01)
    leader.cancel()
    await asyncio.sleep(0.01)
    upstream.release.set()
    assert await follower == {"a": "A"}
    with pytest.raises(asyncio.CancelledError):
        await leader
    assert upstream.calls == [["a"]]


async def test_every_waiter_gets_the_failure_and_the_key_can_be_retried() -> None:
    flight: SingleFlight[str, str] = SingleFlight()

    async def failing(keys: list[str]) -> Mapping[str, str]:
        await asyncio.sleep(0.01)
        raise ConnectionError("down")

    callers = [asyncio.create_task(flight.run(["a"], failing)) for _ in range(3)]
    results = await asyncio.gather(*callers, return_exceptions=True)
    assert all(isinstance(r, ConnectionError) for r in results)
    assert flight.inflight == 0
    upstream = Upstream()
    upstream.release.set()
    assert await flight.run(["a"], upstream.fetch) == {"a": "A"}


async def test_aclose_cancels_calls_in_flight() -> None:
    flight: SingleFlight[str, str] = SingleFlight()
    upstream = Upstream()
    caller = asyncio.create_task(flight.run(["a"], upstream.fetch))
    await asyncio.sleep(0.01)
    await flight.aclose()
    with pytest.raises(asyncio.CancelledError):
        await caller
    assert flight.inflight == 0


async def test_start_hands_out_the_shared_futures_without_waiting() -> None:
    flight: SingleFlight[str, str] = SingleFlight()
    upstream = Upstream()
    first = flight.start(["a", "b"], upstream.fetch)
    second = flight.start(["b", "c"], upstream.fetch)
    assert second["b"] is first["b"]
    assert flight.inflight == 3
    upstream.release.set()
    assert list(await asyncio.gather(first["a"], first["b"], second["c"])) == ["A", "B", "C"]
    assert upstream.calls == [["a", "b"], ["c"]]
    assert flight.inflight == 0
