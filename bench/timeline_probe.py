"""Timestamps inside a served gateway (or the floor): where a cold profile's time goes.

``python -m bench.timeline_probe OUT MODULE [ARGS...]`` runs ``python -m MODULE ARGS...`` with
marks on the few places a cold profile passes through, and writes every request's marks to
``OUT`` (JSON: a list of requests, each a list of ``[mark, ns, cpu_ns]``: the wall clock and the
thread's CPU time), rewritten every 25 requests and at exit. `bench.timeline` starts the gateway
and the floor this way and reads the files. The CPU time tells a segment of work from one of
waiting, which the wall clock alone cannot: here, work that follows an idle stretch runs several
times slower than the same work in a loop, so a long segment is not necessarily a wait.

The marks wrap library internals (uvicorn's httptools protocol, aiohttp's client request and
protocol) and a few of the gateway's own functions: a diagnostic for the versions installed,
checked by a test, never loaded by the product. They cost about a microsecond each, a few
percent of a cold profile.

| mark | when |
| --- | --- |
| `in` | the request's first bytes are read (uvicorn) |
| `start` | a department's load is started (`Source.start`; the gateway only) |
| `sent` | an upstream request has been written (aiohttp) |
| `ans` | an upstream answer's bytes are read (aiohttp) |
| `hdr` | an upstream answer's status and headers are parsed and handed to its caller (aiohttp) |
| `val` | a record has been validated (`HttpConnector`; the gateway only) |
| `done` | execution has ended, before the audit (`RequestContext.settled`; the gateway only) |
| `out` | the response's last bytes have been written (uvicorn) |
"""

from __future__ import annotations

import atexit
import functools
import inspect
import json
import runpy
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

DUMP_EVERY = 25

Marks = list[tuple[str, int, int]]
"""(mark, wall clock ns, the thread's CPU time ns)."""


def _now() -> tuple[int, int]:
    return time.perf_counter_ns(), time.thread_time_ns()


class Timeline:
    """The requests' marks, one request at a time (the benchmark's cold phase is sequential)."""

    def __init__(self, out: Path) -> None:
        self.out = out
        self.requests: list[Marks] = []
        self.current: Marks | None = None

    def begin(self) -> None:
        if self.current is None or self.current[-1][0] == "out":
            self.current = [("in", *_now())]

    def mark(self, name: str) -> None:
        if self.current is not None and self.current[-1][0] != "out":
            self.current.append((name, *_now()))

    def end(self) -> None:
        if self.current is None or self.current[-1][0] == "out":
            return
        self.mark("out")
        self.requests.append(self.current)
        if len(self.requests) % DUMP_EVERY == 0:
            self.dump()

    def dump(self) -> None:
        self.out.write_text(json.dumps(self.requests), encoding="utf-8")


Wrapper = Callable[[Callable[..., Any]], Callable[..., Any]]


def _wrap(owner: Any, name: str, make: Wrapper) -> None:
    """Replace the method `owner.name` by `make(original)`."""
    original = getattr(owner, name)
    setattr(owner, name, functools.wraps(original)(make(original)))


def _after(hook: Callable[[], None]) -> Wrapper:
    """A plain or coroutine method that calls `hook` once it has returned."""

    def make(original: Callable[..., Any]) -> Callable[..., Any]:
        if inspect.iscoroutinefunction(original):

            async def marked_async(*args: Any, **kwargs: Any) -> Any:
                result = await original(*args, **kwargs)
                hook()
                return result

            return marked_async

        def marked(*args: Any, **kwargs: Any) -> Any:
            result = original(*args, **kwargs)
            hook()
            return result

        return marked

    return make


def _before(hook: Callable[[], None]) -> Wrapper:
    """A plain or coroutine method that calls `hook` first."""

    def make(original: Callable[..., Any]) -> Callable[..., Any]:
        def marked(*args: Any, **kwargs: Any) -> Any:
            hook()
            return original(*args, **kwargs)

        return marked

    return make


def install(out: Path) -> Timeline:
    """Put the marks in place (before the server module is run) and return their timeline."""
    from aiohttp import client_proto, client_reqrep
    from uvicorn.protocols.http import httptools_impl

    timeline = Timeline(out)

    def at_response_end(original: Callable[..., Any]) -> Callable[..., Any]:
        async def send(cycle: Any, message: Any) -> None:
            await original(cycle, message)
            if message.get("type") == "http.response.body" and not message.get("more_body"):
                timeline.end()

        return send

    def at_answer_bytes(original: Callable[..., Any]) -> Callable[..., Any]:
        def received(handler: Any, data: bytes) -> None:
            if data:  # aiohttp also feeds it an empty chunk once an answer is read
                timeline.mark("ans")
            original(handler, data)

        return received

    _wrap(httptools_impl.HttpToolsProtocol, "data_received", _before(timeline.begin))
    _wrap(httptools_impl.RequestResponseCycle, "send", at_response_end)
    _wrap(client_reqrep.ClientRequest, "send", _after(lambda: timeline.mark("sent")))
    _wrap(client_reqrep.ClientResponse, "start", _after(lambda: timeline.mark("hdr")))
    _wrap(client_proto.ResponseHandler, "data_received", at_answer_bytes)
    # The gateway's own marks (the floor, from the same tree, never reaches these).
    from connectors.http import HttpConnector
    from gateway.source import Source
    from resolvers.context import RequestContext

    _wrap(Source, "start", _before(lambda: timeline.mark("start")))
    _wrap(HttpConnector, "_validate_record", _after(lambda: timeline.mark("val")))
    _wrap(RequestContext, "settled", _before(lambda: timeline.mark("done")))
    return timeline


def main(argv: list[str]) -> None:
    if len(argv) < 2:
        raise SystemExit("usage: python -m bench.timeline_probe OUT MODULE [ARGS...]")
    out, module, *args = argv
    timeline = install(Path(out))
    atexit.register(timeline.dump)
    sys.argv = [module, *args]
    runpy.run_module(module, run_name="__main__", alter_sys=True)


if __name__ == "__main__":
    main(sys.argv[1:])
