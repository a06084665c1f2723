"""Shared test machinery: the gateway app on real registries over loopback HTTP."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator, Hashable, Mapping, MutableMapping, Sequence
from contextlib import asynccontextmanager
from typing import Any

import httpx
import uvicorn
from starlette.applications import Starlette

from gateway.app import create_app
from gateway.auth_settings import AuthSettings
from gateway.services import Services
from gateway.settings import settings_from_dict
from gateway.tokens import mint_dev_token
from registries.server import RegistryServer
from resolvers.context import RequestContext
from resolvers.principal import Principal

DEPARTMENTS = ("environment", "quality", "health", "commerce")


class Gateway:
    """A running gateway app and an HTTP client in front of it."""

    def __init__(self, app: Starlette, client: httpx.AsyncClient) -> None:
        self.app = app
        self.client = client

    @property
    def services(self) -> Services:
        services: Services = self.app.state.services
        return services

    async def query(
        self, query: str, variables: Mapping[str, Any] | None = None, **kwargs: Any
    ) -> dict[str, Any]:
        response = await self.post({"query": query, "variables": variables}, **kwargs)
        assert response.status_code == 200, response.text
        body: dict[str, Any] = response.json()
        return body

    async def post(self, payload: object, **kwargs: Any) -> httpx.Response:
        """POST a GraphQL request; a query declaring `$matter` gets the credit office's matter
        unless its variables name one (the default client is the credit office)."""
        if isinstance(payload, dict) and "$matter" in str(payload.get("query")):
            variables = payload.get("variables") or {}
            if "matter" not in variables:
                payload = {**payload, "variables": {**variables, "matter": OFFICE_MATTER}}
        return await self.client.post("/graphql", json=payload, **kwargs)


TEST_SECRET = "a-test-signing-key-that-is-long-enough"
AUTH = AuthSettings(dev_secret=TEST_SECRET)


def token(*roles: str, scopes: Sequence[str] = (), **claims: Any) -> str:
    """A dev token for these roles (the test gateways trust TEST_SECRET)."""
    return mint_dev_token(AUTH, roles, scopes=scopes, **claims)


def bearer(*roles: str, scopes: Sequence[str] = (), **claims: Any) -> dict[str, str]:
    return {"authorization": f"Bearer {token(*roles, scopes=scopes, **claims)}"}


OFFICE_MATTER = "CO-JOINT-REVIEW"
"""A matter of the credit office, the default client of the test gateways."""

OFFICE = Principal(
    "office-1",
    department="credit_office",
    roles=frozenset({"credit_office"}),
    scopes=frozenset({"pii"}),
)
"""A credit office official with the `pii` scope, for tests that run the resolvers directly."""

PUBLIC = {"authorization": ""}
"""Headers of a request without a token."""


def gateway_config(
    registries: Mapping[str, RegistryServer],
    connector: Mapping[str, Any] | None = None,
    graphql: Mapping[str, Any] | None = None,
    access: Mapping[str, Any] | None = None,
    audit: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    connector_settings = {"timeout_s": 2.0, "connect_timeout_s": 1.0, **(connector or {})}
    return {
        "auth": {"dev_secret": TEST_SECRET},
        "audit": dict(audit or {"url": "sqlite:///:memory:"}),
        "access": dict(access or {}),
        "graphql": dict(graphql or {}),
        "connectors": {
            department: {"base_url": server.url, **connector_settings}
            for department, server in registries.items()
        },
    }


@asynccontextmanager
async def running_gateway(
    registries: Mapping[str, RegistryServer],
    connector: Mapping[str, Any] | None = None,
    graphql: Mapping[str, Any] | None = None,
    access: Mapping[str, Any] | None = None,
    audit: Mapping[str, Any] | None = None,
) -> AsyncIterator[Gateway]:
    """A gateway whose client is the credit office (every section, with `pii`) unless a request
    sends other headers (`PUBLIC`, `bearer(...)`)."""
    config = gateway_config(registries, connector, graphql, access, audit)
    async with configured_gateway(config) as gateway:
        yield gateway


@asynccontextmanager
async def configured_gateway(config: Mapping[str, Any]) -> AsyncIterator[Gateway]:
    """`running_gateway` with a whole config (e.g. `gateway_config(...)` plus more sections)."""
    app = create_app(settings_from_dict(dict(config)))
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(
            transport=transport,
            base_url="http://gateway",
            headers=bearer("credit_office", scopes=["pii"], department="credit_office"),
        ) as client:
            yield Gateway(app, client)


@asynccontextmanager
async def serving(
    servers: Mapping[str, RegistryServer],
) -> AsyncIterator[dict[str, RegistryServer]]:
    """These registries running for the block, stopped after it (also when it fails)."""
    try:
        for server in servers.values():
            await server.start()
        yield dict(servers)
    finally:
        for server in servers.values():
            await server.stop()


async def ready(servers: Mapping[str, RegistryServer]) -> None:
    """Shared registries as a test expects to find them: running, no faults, counters zeroed."""
    for server in servers.values():
        if not server.running:
            await server.start()
        server.state.faults.reset()
        server.state.stats.reset()


def calls(server: RegistryServer) -> int:
    """Upstream data calls a registry received (single and batch)."""
    stats = server.state.stats
    return stats.calls("single") + stats.calls("batch")


class GatewayServer:
    """A gateway served by uvicorn on a loopback port, as another gateway reaches it over HTTP.

    Like `RegistryServer`, it can be stopped and started again on the same port (each start is a
    new app: caches and an in-memory audit log start empty).
    """

    def __init__(self, config: Mapping[str, Any], host: str = "127.0.0.1") -> None:
        self.settings = settings_from_dict(dict(config))
        self.host = host
        self.port = 0
        self.app: Starlette | None = None
        self._server: uvicorn.Server | None = None
        self._task: asyncio.Task[None] | None = None

    @property
    def url(self) -> str:
        """The GraphQL endpoint."""
        return f"http://{self.host}:{self.port}/graphql"

    @property
    def services(self) -> Services:
        assert self.app is not None, "the gateway is not running"
        services: Services = self.app.state.services
        return services

    async def start(self) -> None:
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((self.host, self.port))
        self.port = sock.getsockname()[1]
        self.app = create_app(self.settings)
        config = uvicorn.Config(
            self.app,
            lifespan="on",
            log_config=None,
            log_level="warning",
            access_log=False,
            timeout_graceful_shutdown=1,
        )
        self._server = uvicorn.Server(config)
        self._task = asyncio.create_task(self._server.serve(sockets=[sock]))
        while not self._server.started:
            if self._task.done():
                await self._task
                raise RuntimeError("the gateway did not start")
            await asyncio.sleep(0.01)

    async def stop(self) -> None:
        server, task, self._server, self._task = self._server, self._task, None, None
        if server is not None and task is not None:
            server.should_exit = True
            await task
        self.app = None

    async def __aenter__(self) -> GatewayServer:
        await self.start()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.stop()


def request_context(
    gateway: Gateway,
    principal: Principal = OFFICE,
    plans: MutableMapping[Hashable, object] | None = None,
) -> RequestContext:
    """A request's context over `gateway`'s departments, catalogue and measures, for tests that
    run the resolvers' loading directly rather than through HTTP."""
    services = gateway.services
    return RequestContext(
        "t",
        services.sources,
        principal=principal,
        catalogue=services.catalogue,
        measures=services.measures,
        plans={} if plans is None else plans,
    )
