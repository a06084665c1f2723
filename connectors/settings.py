"""How to reach one department's registry: the `[connectors.<department>]` table of the config."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, HttpUrl


class ConnectorSettings(BaseModel):
    """Settings of one department connector.

    Timeouts are per upstream call. The cache settings sit here because freshness is a property of
    the department's data: a registry updated daily can be cached far longer than one updated live.
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
