"""Applying a `Fault` to a request: what the client sees in each failure mode.

Faults that replace the answer (500, 429, hang, drop) are decided before the handler runs; faults
that damage the answer (malformed, wrong schema, huge, hung mid-body) run the handler and then
damage what it produced, so a wrong-schema batch still carries the ids the client asked for.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
import struct
from collections.abc import Awaitable, Callable

import orjson
from aiohttp import web

from registries.faults import Fault, FaultSwitch
from registries.latency import sleep_precisely

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]

JSON = "application/json"
_DISCONNECT_POLL_S = 0.05


def json_response(
    status: int, payload: object, headers: dict[str, str] | None = None
) -> web.Response:
    return web.Response(
        status=status, body=orjson.dumps(payload), content_type=JSON, headers=headers
    )


def json_error(status: int, error: str, message: str, **extra: object) -> web.Response:
    """The error body every route uses: a stable `error` code and a human `message`."""
    return json_response(status, {"error": error, "message": message, **extra})


async def with_faults(
    switch: FaultSwitch, request: web.Request, handler: Handler
) -> web.StreamResponse:
    """Run `handler` under the registry's current faults."""
    delay = switch.delay_s()
    if delay > 0:
        await (sleep_precisely(delay) if switch.faults.precise_latency else asyncio.sleep(delay))
    fault = switch.draw()
    if fault is None:
        return await handler(request)
    if fault is Fault.ERROR:
        return json_error(500, "internal", "injected fault: internal error")
    if fault is Fault.RATE_LIMIT:
        limited = json_error(429, "rate_limited", "injected fault: too many requests")
        limited.headers["Retry-After"] = f"{switch.faults.retry_after_s:g}"
        return limited
    if fault is Fault.HANG:
        await until_client_gone(request)
        return web.Response(status=503)  # never reaches anyone
    if fault is Fault.DROP:
        drop_connection(request)
        return web.Response(status=503)  # never reaches anyone
    response = await handler(request)
    body = response.body if isinstance(response, web.Response) else None
    payload = body if isinstance(body, bytes) else b""
    if fault is Fault.MALFORMED:
        return web.Response(status=200, body=truncate(payload), content_type=JSON)
    if fault is Fault.WRONG_SCHEMA:
        return web.Response(status=200, body=wrong_schema(payload), content_type=JSON)
    if fault is Fault.HUGE_PAYLOAD:
        padded = pad(payload, switch.faults.huge_payload_bytes)
        return web.Response(status=response.status, body=padded, content_type=JSON)
    return await hang_mid_body(request, response.status, payload)


async def until_client_gone(request: web.Request) -> None:
    """Wait until the client closes the connection (or the server cancels the handler)."""
    while True:
        transport = request.transport
        if transport is None or transport.is_closing():
            return
        await asyncio.sleep(_DISCONNECT_POLL_S)


def drop_connection(request: web.Request) -> None:
    """Reset the connection (RST, not FIN) so the client sees a connection error, not an answer."""
    transport = request.transport
    if transport is None:
        return
    sock = transport.get_extra_info("socket")
    if sock is not None:
        with contextlib.suppress(OSError):
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    transport.abort()


async def hang_mid_body(request: web.Request, status: int, payload: bytes) -> web.StreamResponse:
    """Promise the whole body in Content-Length, send half of it, then stall."""
    body = payload or b'{"error": "not_found"}'
    response = web.StreamResponse(status=status)
    response.content_type = JSON
    response.content_length = len(body)
    await response.prepare(request)
    await response.write(body[: max(1, len(body) // 2)])
    await until_client_gone(request)
    return response


def truncate(payload: bytes) -> bytes:
    """A proper prefix of a JSON object, which is never valid JSON."""
    body = payload if payload.startswith(b"{") else b'{"subjectId": "'
    return body[: max(1, len(body) // 2)]


def wrong_schema(payload: bytes) -> bytes:
    """Valid JSON that does not match what the route promises."""
    try:
        data = orjson.loads(payload) if payload else None
    except orjson.JSONDecodeError:
        data = None
    if isinstance(data, dict) and "records" in data:
        records = data["records"]
        if isinstance(records, dict) and records:
            data["records"] = {key: _wrong_record(value) for key, value in records.items()}
        else:
            data["records"] = []  # an array where an object belongs
    elif isinstance(data, dict) and "subjectId" in data:
        data = _wrong_record(data)
    elif isinstance(data, dict) and "ids" in data:
        data = {"ids": "all of them", "next": 1}
    elif isinstance(data, dict) and "status" in data:
        data = {"healthy": True}
    else:
        data = {"subjectId": None, "penalties": "none"}
    return orjson.dumps(data)


def _wrong_record(record: object) -> dict[str, object]:
    broken = dict(record) if isinstance(record, dict) else {}
    broken["penalties"] = "none"
    broken.pop("updatedAt", None)
    return broken


def pad(payload: bytes, size: int) -> bytes:
    """`payload` (a JSON object, else an empty one) with a ``padding`` member, grown to `size`."""
    body = payload.strip() if payload.strip().startswith(b"{") else b"{}"
    head = body[:-1].rstrip()
    separator = b"," if head != b"{" else b""
    prefix = head + separator + b'"padding":"'
    filler = max(0, size - len(prefix) - 2)
    return prefix + b"x" * filler + b'"}'
