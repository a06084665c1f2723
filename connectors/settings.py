"""How to reach one department's registry: the `[connectors.<department>]` table of the config."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field, HttpUrl, model_validator

from connectors.breaker import BreakerSettings
from connectors.retry import RetrySettings


class ConnectorSettings(BaseModel):
    """Settings of one department connector.

    Timeouts are per upstream call. The cache settings sit here because freshness is a property of
    the department's data: a registry updated daily can be cached far longer than one updated live.

    `plugin` names a connector plug-in (an entry point of the group ``credit_gateway.connectors``,
    see connectors/plugins.py) that builds this department's connector instead of the built-in
    HTTP runtime; `options` is a free table handed to that plug-in, which validates it. The other
    keys apply to plug-ins too: a plug-in honours the timeouts and limits as the runtime does.

    `retry` and `breaker` (nested tables, `[connectors.<department>.retry]`) configure the
    retries and the circuit breaker the gateway wraps around every connector, plug-ins included
    (connectors/resilience.py).
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    base_url: HttpUrl
    enabled: bool = True
    connect_timeout_s: float = Field(default=1.0, gt=0, le=60)
    timeout_s: float = Field(default=3.0, gt=0, le=120)
    batch_size: int = Field(default=100, ge=1, le=1000)
    max_connections: int = Field(default=32, ge=1, le=1024)
    max_response_bytes: int = Field(default=4 * 1024 * 1024, ge=1024)
    cache_ttl_s: float = Field(default=300.0, ge=0)
    stale_ttl_s: float = Field(default=3600.0, ge=0)
    cache_max_entries: int = Field(default=10_000, ge=0)
    retry: RetrySettings = RetrySettings()
    breaker: BreakerSettings = BreakerSettings()
    plugin: str | None = Field(default=None, min_length=1, max_length=200)
    options: dict[str, Any] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _options_need_a_plugin(self) -> ConnectorSettings:
        if self.options and self.plugin is None:
            raise ValueError(
                "options are handed to a connector plug-in: set `plugin` too, or remove `options`"
            )
        return self


class UpstreamSettings(BaseModel):
    """A lower-level credit-gateway (a city's or county's) consulted as one more source: the
    `[upstreams.<key>]` table of the config.

    The upstream connector uses `url`, the timeouts and limits; the gateway uses `audience` (the
    `aud` of the service tokens it signs for this upstream: the lower gateway's `[auth] audience`),
    `region` and `departments`.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    url: HttpUrl
    """The lower gateway's GraphQL endpoint, e.g. `https://credit.changsha.gov.cn/graphql`."""
    region: str = Field(pattern=r"^[0-9]{6}$")
    """The 6-digit administrative division the lower gateway serves (430100 for Changsha)."""
    audience: str = Field(min_length=1)
    enabled: bool = True
    departments: tuple[str, ...] | None = None
    """The departments whose records to ask for; `None`: every department with a section here."""
    connect_timeout_s: float = Field(default=1.0, gt=0, le=60)
    timeout_s: float = Field(default=3.0, gt=0, le=120)
    """The whole call: the lower gateway answers after its own registries did, so give it more
    than its registries' `timeout_s`."""
    batch_size: int = Field(default=100, ge=1, le=1000)
    """Subjects per GraphQL request; at most the lower gateway's `[graphql] max_batch`."""
    max_connections: int = Field(default=32, ge=1, le=1024)
    max_response_bytes: int = Field(default=16 * 1024 * 1024, ge=1024)
    retry: RetrySettings = RetrySettings()
    """Retries of failed calls (a lookup is a read: asking again is safe, though the lower
    gateway may audit each attempt that reached it)."""
    breaker: BreakerSettings = BreakerSettings()
