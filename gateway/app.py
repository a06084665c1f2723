"""The ASGI app: starlette routes, with the services opened and closed by the lifespan."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable
from contextlib import asynccontextmanager

import orjson
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route
from starlette.types import ASGIApp, Receive, Scope, Send

from gateway.graphql_http import graphql_endpoint
from gateway.internal_errors import InternalErrors, framework_error
from gateway.services import Services
from gateway.settings import Settings

READY_CHECK_TIMEOUT_S = 2.0


def create_app(settings: Settings) -> Starlette:
    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        app.state.services = await Services.start(settings)
        try:
            yield
        finally:
            await app.state.services.aclose()

    return GatewayApp(
        routes=[
            Route("/graphql", graphql_endpoint, methods=["GET", "POST"]),
            Route("/healthz", healthz, methods=["GET"]),
            Route("/readyz", readyz, methods=["GET"]),
        ],
        lifespan=lifespan,
        middleware=[Middleware(InternalErrors)],
        exception_handlers={HTTPException: framework_error},
    )


class GatewayApp(Starlette):
    """starlette's app, with `GET`/`POST /graphql` taken straight to its endpoint.

    Why: every request otherwise passes starlette's error middleware, its exception middleware,
    the router's matching and the route's own exception wrapper before the endpoint, about 16 us
    here warm and three times that on a cold profile's way out, where it delays the first
    registry request. The endpoint raises nothing those layers would handle (its refusals are
    responses), so the lane keeps only what it needs: `InternalErrors` (request id, a JSON 500)
    and the `Request`. Anything else, a `/graphql` under a root path included, takes the full
    stack, so the routes and their refusals (405 with `Allow`, JSON 404) are as declared."""

    def build_middleware_stack(self) -> ASGIApp:
        return _GraphQLLane(InternalErrors(_graphql), super().build_middleware_stack())


class _GraphQLLane:
    __slots__ = ("_graphql", "_stack")

    def __init__(self, graphql: ASGIApp, stack: ASGIApp) -> None:
        self._graphql = graphql
        self._stack = stack

    def __call__(self, scope: Scope, receive: Receive, send: Send) -> Awaitable[None]:
        if (
            scope["type"] == "http"
            and scope["path"] == "/graphql"
            and scope["method"] in ("POST", "GET")
            and not scope.get("root_path")
        ):
            return self._graphql(scope, receive, send)
        return self._stack(scope, receive, send)


async def _graphql(scope: Scope, receive: Receive, send: Send) -> None:
    response = await graphql_endpoint(Request(scope, receive, send))
    await response(scope, receive, send)


async def healthz(request: Request) -> Response:
    """Liveness: the process answers. Registries' state does not make it unhealthy."""
    return _json({"status": "ok"}, 200)


async def readyz(request: Request) -> Response:
    """Readiness and the state of each registry and lower-level gateway (by key).

    The gateway stays ready (200) while registries are down, because it still serves partial and
    cached profiles; taking every instance out of a load balancer would make that a full outage.
    `status` says `degraded` when any registry does not answer its health check, or any circuit
    breaker is not closed. `breakers` gives each one's state (`closed`, `open`, `half_open`): an
    open one means lookups do not call that source now (its sections read `CIRCUIT_OPEN`).
    """
    services: Services = request.app.state.services
    departments = [*services.sources, *services.upstreams]

    async def check(department: str) -> bool:
        source = services.sources.get(department)
        connector = source.connector if source else services.upstreams[department].connector
        try:
            return await asyncio.wait_for(connector.check_health(), READY_CHECK_TIMEOUT_S)
        except TimeoutError:
            return False

    states = await asyncio.gather(*(check(d) for d in departments))
    sources = {d: ("up" if up else "down") for d, up in zip(departments, states, strict=True)}
    breakers = {
        d: (
            services.sources[d] if d in services.sources else services.upstreams[d]
        ).resilience.breaker_state.value.lower()
        for d in departments
    }
    healthy = all(states) and all(state == "closed" for state in breakers.values())
    status = "ok" if healthy else "degraded"
    return _json({"status": status, "sources": sources, "breakers": breakers}, 200)


def _json(body: object, status: int) -> Response:
    return Response(orjson.dumps(body), status_code=status, media_type="application/json")
