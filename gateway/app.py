"""The ASGI app: starlette routes, with the services opened and closed by the lifespan."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import orjson
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

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

    return Starlette(
        routes=[
            Route("/graphql", graphql_endpoint, methods=["GET", "POST"]),
            Route("/healthz", healthz, methods=["GET"]),
            Route("/readyz", readyz, methods=["GET"]),
        ],
        lifespan=lifespan,
        middleware=[Middleware(InternalErrors)],
        exception_handlers={HTTPException: framework_error},
    )


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
