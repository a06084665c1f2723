"""The app's long-lived services, created in the lifespan and reached through the request context.

Nothing here is global: two apps in one process (as in the tests) have separate sessions, caches
and schemas.
"""

from __future__ import annotations

import asyncio
from collections.abc import Hashable
from dataclasses import dataclass, field

import aiohttp
import strawberry
from cachetools import LRUCache

from connectors.catalog import build_connector
from connectors.upstream import UpstreamConnector
from gateway.audit import AuditLog, start_audit_log, stop_audit_log
from gateway.catalogue_file import load_matters_and_measures
from gateway.execution import Executor
from gateway.federation import ServiceTokens, UpstreamSource, upstream_selections
from gateway.policy import load_policy
from gateway.rate_limits import RateLimits
from gateway.settings import HttpClientSettings, Settings
from gateway.source import Source
from gateway.tokens import TokenVerifier
from resolvers.catalogue import Catalogue
from resolvers.measures import Measure
from schema import build_schema


def upstream_session(http: HttpClientSettings) -> aiohttp.ClientSession:
    """The one session of an app's calls to registries and lower-level gateways, with the
    `[http]` connection limits."""
    return aiohttp.ClientSession(
        connector=aiohttp.TCPConnector(
            limit=http.max_connections,
            limit_per_host=http.max_connections_per_host,
            keepalive_timeout=http.keepalive_timeout_s,
        ),
        raise_for_status=False,
        auto_decompress=True,
    )


LOAD_PLANS = 4096
"""Load plans kept: one per selection, matter and principal in use (a plan is a few tuples)."""


@dataclass
class Services:
    settings: Settings
    session: aiohttp.ClientSession
    sources: dict[str, Source]
    schema: strawberry.Schema
    executor: Executor
    verifier: TokenVerifier
    catalogue: Catalogue
    measures: tuple[Measure, ...]
    audit: AuditLog
    upstreams: dict[str, UpstreamSource]
    rate_limits: RateLimits
    load_plans: LRUCache[Hashable, object] = field(
        default_factory=lambda: LRUCache(maxsize=LOAD_PLANS)
    )
    """The requests' load plans (`RequestContext.plans`): by query shape, matter and principal."""

    @classmethod
    async def start(cls, settings: Settings) -> Services:
        session = upstream_session(settings.http)
        sources = {
            department: Source(build_connector(department, connector, session), connector)
            for department, connector in settings.enabled_connectors.items()
        }
        schema = build_schema()
        try:
            policy = load_policy(settings.access.policy, schema._schema)
            executor = Executor(schema, settings.graphql, policy, settings.access.strict)
            verifier = TokenVerifier(settings.auth, session)
            catalogue, measures = load_matters_and_measures(
                settings.access.catalogue, settings.access.measures, settings.enabled_connectors
            )
            upstreams = build_upstreams(settings, session, schema)
            rate_limits = await RateLimits.open(settings.rate_limits)
            audit = await start_audit_log(settings.audit)
        except BaseException:
            await session.close()
            raise
        return cls(
            settings,
            session,
            sources,
            schema,
            executor,
            verifier,
            catalogue,
            measures,
            audit,
            upstreams,
            rate_limits,
        )

    async def aclose(self) -> None:
        """Finish the lookups in flight, commit their audit entries, then close."""
        await asyncio.gather(*(source.aclose() for source in self.sources.values()))
        await asyncio.gather(*(upstream.aclose() for upstream in self.upstreams.values()))
        await stop_audit_log(self.audit)
        await self.rate_limits.aclose()
        await self.session.close()


def build_upstreams(
    settings: Settings, session: aiohttp.ClientSession, schema: strawberry.Schema
) -> dict[str, UpstreamSource]:
    """The enabled lower-level gateways (`ConfigError` if the signing key is unusable)."""
    if not settings.enabled_upstreams:
        return {}
    assert settings.federation is not None  # the settings' validator requires it
    tokens = ServiceTokens(settings.federation)
    selections = upstream_selections(schema._schema, personal=False)
    personal = upstream_selections(schema._schema, personal=True)
    return {
        key: UpstreamSource(
            UpstreamConnector(key, upstream, session, selections, personal), upstream, tokens
        )
        for key, upstream in settings.enabled_upstreams.items()
    }
