"""How the gateway is put on uvicorn: the `[server]` limits, and the graceful shutdown's budget.

Kept apart from the CLI so that `serve` and `demo` build the very same server, and so that what
reaches uvicorn can be checked without starting one.
"""

from __future__ import annotations

import asyncio

import orjson
import uvicorn
from starlette.datastructures import Headers
from starlette.types import ASGIApp, Receive, Scope, Send

from gateway.collector_pacing import CollectBetweenRequests
from gateway.errors import request_error
from gateway.internal_errors import REQUEST_ID_KEY, TrackedSend, new_request_id
from gateway.settings import Settings
from resolvers.errors import ErrorCode


def uvicorn_config(app: ASGIApp, settings: Settings) -> uvicorn.Config:
    """One uvicorn worker serving `app` with the `[server]` settings.

    On SIGTERM/SIGINT uvicorn closes its listening socket (new connections are refused), lets
    requests in flight finish for up to `graceful_shutdown_s` (each commits its audit entries
    before it answers), cancels what is left, then runs the lifespan's shutdown, which commits
    the audit entries already taken and closes the store.
    """
    server = settings.server
    served: ASGIApp = AnswerCutRequests(app)
    if server.collect_between_requests:
        served = CollectBetweenRequests(served)
    return uvicorn.Config(
        served,
        host=server.host,
        port=server.port,
        lifespan="on",
        log_level="info",
        access_log=False,
        # The client address the rate limits key on is decided by `[rate_limits]
        # trusted_proxies`, not by uvicorn trusting X-Forwarded-For from loopback by default.
        proxy_headers=False,
        limit_concurrency=server.limit_concurrency,
        backlog=server.backlog,
        timeout_keep_alive=server.timeout_keep_alive_s,
        timeout_graceful_shutdown=server.graceful_shutdown_s,
    )


def shutdown_budget_warning(settings: Settings) -> str | None:
    """Why a lookup in flight at shutdown could be cut before it answers, or None.

    A request waits for its sources at most `[graphql] deadline_s` (every source's `timeout_s`
    and retries are cut to it), then for its audit commit; a grace period no longer than the
    deadline can therefore cancel lookups that would have answered. The operator is told at start,
    because the fix is a config change (a longer `graceful_shutdown_s` or a shorter deadline).
    """
    grace = settings.server.graceful_shutdown_s
    deadline = settings.graphql.deadline_s
    if grace > deadline:
        return None
    return (
        f"[server] graceful_shutdown_s = {grace} is not longer than [graphql] deadline_s = "
        f"{deadline:g}: a lookup in flight at shutdown may be cut before it answers"
    )


class AnswerCutRequests:
    """Answer a request that the shutdown cancelled with a coded 503 instead of uvicorn's default.

    When `graceful_shutdown_s` runs out, uvicorn cancels the requests still running. Left alone,
    each would reach the client as a bare `500 Internal Server Error` in plain text and leave a
    full stack trace in the log per request, against the error contract (every error has a code;
    no stack trace in a log line). Here the cancellation ends the request's own task with a
    GraphQL-shaped `503` (`INTERNAL`, `Retry-After: 1`, the connection closed): the client knows
    nothing was returned and may retry on another instance. A lookup cut this way was never
    answered; if it had already handed its audit entries to the group commit, they are still
    committed (the lookup did happen), so the audit may hold entries of lookups nobody received.

    Only a cancellation of the request's task is caught (uvicorn cancels nothing else of it), and
    only HTTP requests pass through this wrapper's handling; the lifespan goes straight through.
    """

    def __init__(self, app: ASGIApp) -> None:
        self._app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self._app(scope, receive, send)
            return
        tracked = TrackedSend(send)
        try:
            await self._app(scope, receive, tracked)
        except asyncio.CancelledError:
            # Swallowed on purpose: the task being cancelled is this request's own, and ending it
            # here, answered, is what the cancellation asked for.
            if not tracked.started:
                await send_cut_answer(scope, send)


async def send_cut_answer(scope: Scope, send: Send) -> None:
    """The 503 of a request cut by the shutdown, with the request id the request was given."""
    request_id = (scope.get("state") or {}).get(REQUEST_ID_KEY) or new_request_id(
        Headers(scope=scope).get("x-request-id")
    )
    body = orjson.dumps(
        request_error(
            ErrorCode.INTERNAL,
            "The gateway stopped before this request finished; nothing was returned. Retry it.",
            request_id,
        )
    )
    await send(
        {
            "type": "http.response.start",
            "status": 503,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
                (b"retry-after", b"1"),
                (b"connection", b"close"),
                (b"x-request-id", request_id.encode()),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body, "more_body": False})
