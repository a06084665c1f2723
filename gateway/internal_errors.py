"""Errors raised outside the endpoints, as JSON with a code like every other refusal.

The outermost guard of the app: every request gets a request id, and an exception that nothing
else handled becomes a JSON `INTERNAL` error quoting that id, never starlette's plain-text 500.
The web framework's own refusals (404 for an unknown path, 405 for a method a route does not
serve) are answered as JSON `BAD_REQUEST` too, keeping their status and headers (`Allow`).

This is an ASGI middleware rather than a starlette `exception_handlers` entry on purpose: starlette
runs such a handler in its `ServerErrorMiddleware`, which re-raises the exception afterwards, and
uvicorn then logs its traceback and message. The contract (DESIGN.md, errors) is that no stack trace
and no personal data or upstream host reaches a log line, and an exception's message may hold any
of them; so here the exception stops, and the log line says only its type and where it was raised.
"""

from __future__ import annotations

import logging
import re
import uuid

import orjson
from starlette.datastructures import Headers
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from gateway.errors import request_error, where_raised
from resolvers.errors import ErrorCode

log = logging.getLogger(__name__)

_REQUEST_ID = re.compile(r"^[A-Za-z0-9._-]{1,64}$")
REQUEST_ID_KEY = "request_id"
"""Where the request id is kept in the request's `state`."""


def new_request_id(given: str | None) -> str:
    """The client's `x-request-id` if it is a plain token of at most 64 characters, else a new
    one (32 hex digits): a client-sent id ends up in logs and the audit, so it is not free text."""
    return given if given is not None and _REQUEST_ID.match(given) else uuid.uuid4().hex


class TrackedSend:
    """`send`, remembering whether the response has started: once it has, no other answer can
    be sent in its place (the wrappers that answer a failed request need to know)."""

    __slots__ = ("_send", "started")

    def __init__(self, send: Send) -> None:
        self._send = send
        self.started = False

    async def __call__(self, message: Message) -> None:
        if message["type"] == "http.response.start":
            self.started = True
        await self._send(message)


class InternalErrors:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request_id = new_request_id(Headers(scope=scope).get("x-request-id"))
        scope.setdefault("state", {})[REQUEST_ID_KEY] = request_id
        tracked = TrackedSend(send)
        try:
            await self.app(scope, receive, tracked)
        except Exception as exc:
            log.error(
                "internal error in request %s (%s %s): %s raised at %s",
                request_id,
                scope.get("method"),
                scope.get("path"),
                type(exc).__name__,
                where_raised(exc),
            )
            if tracked.started:  # too late for another answer; the server closes the connection
                return
            body = request_error(
                ErrorCode.INTERNAL,
                f"Internal error; quote request id {request_id} to the operators.",
                request_id,
            )
            response = Response(
                orjson.dumps(body),
                status_code=500,
                media_type="application/json",
                headers={"x-request-id": request_id},
            )
            await response(scope, receive, send)


def request_id_of(request: Request) -> str:
    """The request id `InternalErrors` gave the request (a new one if it did not run)."""
    given = request.scope.get("state", {}).get(REQUEST_ID_KEY)
    return given if isinstance(given, str) else new_request_id(request.headers.get("x-request-id"))


async def framework_error(request: Request, exc: Exception) -> Response:
    """starlette's `HTTPException`s (unknown path, method not allowed) as JSON."""
    assert isinstance(exc, HTTPException)
    request_id = request_id_of(request)
    body = request_error(ErrorCode.BAD_REQUEST, exc.detail, request_id)
    return Response(
        orjson.dumps(body),
        status_code=exc.status_code,
        media_type="application/json",
        headers={**(exc.headers or {}), "x-request-id": request_id},
    )
