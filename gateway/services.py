"""The app's long-lived services, created in the lifespan and reached through the request context.

Nothing here is global: two apps in one process (as in the tests) have separate sessions, caches
and schemas.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass

import aiohttp
import strawberry
from strawberry.extensions import SchemaExtension

from connectors.catalog import build_connector
from gateway.query_limits import alias_limit, depth_limit
from gateway.query_preparation import PreparedQueries, QueryPreparation
from gateway.settings import GraphQLSettings, Settings
from gateway.source import Source
from schema import build_schema

MAX_INTROSPECTION_DEPTH = 20


@dataclass
class Services:
    settings: Settings
    session: aiohttp.ClientSession
    sources: dict[str, Source]
    schema: strawberry.Schema

    @classmethod
    async def start(cls, settings: Settings) -> Services:
        http = settings.http
        session = aiohttp.ClientSession(
            connector=aiohttp.TCPConnector(
                limit=http.max_connections,
                limit_per_host=http.max_connections_per_host,
                keepalive_timeout=http.keepalive_timeout_s,
            ),
            raise_for_status=False,
            auto_decompress=True,
        )
        sources = {
            department: Source(build_connector(department, connector, session), connector)
            for department, connector in settings.enabled_connectors.items()
        }
        return cls(settings, session, sources, build_schema(graphql_extensions(settings.graphql)))

    async def aclose(self) -> None:
        await asyncio.gather(*(source.aclose() for source in self.sources.values()))
        await self.session.close()


def graphql_extensions(settings: GraphQLSettings) -> list[Callable[[], SchemaExtension]]:
    """Parsing and validation cached per app (two thirds of an uncached request), with limits."""
    prepared = PreparedQueries(
        rules=[
            depth_limit(settings.max_depth, MAX_INTROSPECTION_DEPTH),
            alias_limit(settings.max_aliases),
        ],
        max_tokens=settings.max_tokens,
        parse_cache_size=settings.parser_cache_size,
        validation_cache_size=settings.validation_cache_size,
    )
    return [lambda: QueryPreparation(prepared)]
