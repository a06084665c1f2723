"""The garbage collector runs between requests (gateway/collector_pacing.py), observed through
`gc.callbacks`: no collection starts while a request is in flight, the due one runs when the last
request ends, an overdue one runs even with requests in flight, and the process's GC is as it was
once the app's lifespan ends."""

from __future__ import annotations

import asyncio
import gc
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import asynccontextmanager, contextmanager
from typing import Any

import pytest
from starlette.types import Message, Receive, Scope, Send

from gateway.collector_pacing import OVERDUE_FACTOR, CollectBetweenRequests, due_generation
from gateway.server import uvicorn_config
from gateway.settings import settings_from_dict

THRESHOLD = 200
CONNECTORS = {"environment": {"base_url": "http://127.0.0.1:1"}}


@contextmanager
def small_thresholds() -> Iterator[list[tuple[str, int]]]:
    """Thresholds small enough to cross in a test; every collection start seen, by generation."""
    saved = gc.get_threshold()
    seen: list[tuple[str, int]] = []

    def watch(phase: str, info: dict[str, Any]) -> None:
        if phase == "start":
            seen.append(("collect", info["generation"]))

    gc.collect()
    gc.set_threshold(THRESHOLD, 10, 10)
    gc.callbacks.append(watch)
    try:
        yield seen
    finally:
        gc.callbacks.remove(watch)
        gc.set_threshold(*saved)


def allocate(count: int) -> list[list[int]]:
    """`count` container objects that the collector tracks, kept alive."""
    return [[i] for i in range(count)]


class Handler:
    """An ASGI app whose requests run `work` and answer 204; it serves a lifespan too."""

    def __init__(self) -> None:
        self.work: Callable[[], Any] = lambda: None
        self.gate: asyncio.Event | None = None
        self.kept: list[Any] = []

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            while True:
                message = await receive()
                if message["type"] == "lifespan.startup":
                    await send({"type": "lifespan.startup.complete"})
                elif message["type"] == "lifespan.shutdown":
                    await send({"type": "lifespan.shutdown.complete"})
                    return
        self.kept.append(self.work())
        if self.gate is not None:
            await self.gate.wait()
        await send({"type": "http.response.start", "status": 204, "headers": []})
        await send({"type": "http.response.body", "body": b""})


@asynccontextmanager
async def serving(wrapper: CollectBetweenRequests) -> AsyncIterator[None]:
    """The wrapper's lifespan running, as uvicorn runs it, for the body of the block."""
    inbox: asyncio.Queue[Message] = asyncio.Queue()
    outbox: asyncio.Queue[Message] = asyncio.Queue()
    lifespan = asyncio.create_task(wrapper({"type": "lifespan"}, inbox.get, outbox.put))
    await inbox.put({"type": "lifespan.startup"})
    assert (await outbox.get())["type"] == "lifespan.startup.complete"
    try:
        yield
    finally:
        await inbox.put({"type": "lifespan.shutdown"})
        assert (await outbox.get())["type"] == "lifespan.shutdown.complete"
        await lifespan


async def request(wrapper: CollectBetweenRequests) -> None:
    sent: list[Message] = []

    async def receive() -> Message:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: Message) -> None:
        sent.append(message)

    await wrapper({"type": "http", "method": "GET", "path": "/"}, receive, send)
    assert sent[0]["status"] == 204


async def test_the_due_collection_runs_after_the_request_not_during_it() -> None:
    handler = Handler()
    wrapper = CollectBetweenRequests(handler)
    with small_thresholds() as seen:
        async with serving(wrapper):
            assert not gc.isenabled()

            def work() -> object:
                kept = allocate(3 * THRESHOLD)  # crosses the threshold three times over
                assert seen == [], "a collection started in the middle of the request"
                return kept

            handler.work = work
            await request(wrapper)
            assert seen == [("collect", 0)]
            assert wrapper.collections == 1
            assert due_generation() is None  # what was due has been collected


async def test_with_a_request_in_flight_only_an_overdue_collection_runs() -> None:
    handler = Handler()
    wrapper = CollectBetweenRequests(handler)
    with small_thresholds() as seen:
        async with serving(wrapper):
            gate = handler.gate = asyncio.Event()
            slow = asyncio.create_task(request(wrapper))  # stays in flight until the gate opens
            await asyncio.sleep(0)
            assert wrapper.in_flight == 1

            handler.gate = None
            handler.work = lambda: allocate(THRESHOLD + 50)  # due, not overdue
            await request(wrapper)
            assert seen == []

            handler.work = lambda: allocate(OVERDUE_FACTOR * THRESHOLD + 50)
            await request(wrapper)
            assert seen == [("collect", 0)], "an overdue collection waits for no one"

            seen.clear()
            handler.work = lambda: allocate(THRESHOLD + 50)
            await request(wrapper)
            assert seen == []
            assert not slow.done()
            gate.set()
            await slow
            assert seen == [("collect", 0)], "the last request to end collects what is due"


async def test_an_idle_server_collects_from_its_periodic_check() -> None:
    wrapper = CollectBetweenRequests(Handler(), check_interval_s=0.01)
    with small_thresholds() as seen:
        async with serving(wrapper):
            kept = allocate(2 * THRESHOLD)  # allocated outside any request
            for _ in range(500):
                if seen:
                    break
                await asyncio.sleep(0.01)
            assert seen[:1] == [("collect", 0)]
            assert kept


@pytest.mark.parametrize("enabled_before", [True, False])
async def test_the_process_gc_is_restored_when_the_app_stops(enabled_before: bool) -> None:
    if not enabled_before:
        gc.disable()
    try:
        async with serving(CollectBetweenRequests(Handler())):
            assert not gc.isenabled()
        assert gc.isenabled() is enabled_before
    finally:
        gc.enable()


def test_due_generation_follows_pythons_thresholds() -> None:
    with small_thresholds():
        gc.collect()
        assert due_generation() is None
        gc.disable()
        try:
            kept = allocate(THRESHOLD + 50)
            assert due_generation() == 0
            assert due_generation(OVERDUE_FACTOR) is None
            for _ in range(11):  # eleven young collections: the middle generation is due too
                gc.collect(0)
            kept += allocate(THRESHOLD + 50)
            assert due_generation() == 1
        finally:
            gc.enable()


def test_the_server_wraps_the_app_unless_configured_off() -> None:
    on = uvicorn_config(Handler(), settings_from_dict({"connectors": CONNECTORS}))
    assert isinstance(on.app, CollectBetweenRequests)
    off = uvicorn_config(
        Handler(),
        settings_from_dict(
            {"connectors": CONNECTORS, "server": {"collect_between_requests": False}}
        ),
    )
    assert not isinstance(off.app, CollectBetweenRequests)
