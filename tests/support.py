"""Shared test machinery: the gateway app on real registries over loopback HTTP."""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from typing import Any

import httpx
from starlette.applications import Starlette

from gateway.app import create_app
from gateway.services import Services
from gateway.settings import settings_from_dict
from registries.server import RegistryServer

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
        return await self.client.post("/graphql", json=payload, **kwargs)


def gateway_config(
    registries: Mapping[str, RegistryServer],
    connector: Mapping[str, Any] | None = None,
    graphql: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    connector_settings = {"timeout_s": 2.0, "connect_timeout_s": 1.0, **(connector or {})}
    return {
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
) -> AsyncIterator[Gateway]:
    app = create_app(settings_from_dict(gateway_config(registries, connector, graphql)))
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://gateway") as client:
            yield Gateway(app, client)


def calls(server: RegistryServer) -> int:
    """Upstream data calls a registry received (single and batch)."""
    stats = server.state.stats
    return stats.calls("single") + stats.calls("batch")
