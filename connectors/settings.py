"""How to reach one department's registry: the `[connectors.<department>]` table of the config."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field, HttpUrl, model_validator


class ConnectorSettings(BaseModel):
    """Settings of one department connector.

    Timeouts are per upstream call. The cache settings sit here because freshness is a property of
    the department's data: a registry updated daily can be cached far longer than one updated live.

    `plugin` names a connector plug-in (an entry point of the group ``credit_gateway.connectors``,
    see connectors/plugins.py) that builds this department's connector instead of the built-in
    HTTP runtime; `options` is a free table handed to that plug-in, which validates it. The other
    keys apply to plug-ins too: a plug-in honours the timeouts and limits as the runtime does.
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
    plugin: str | None = Field(default=None, min_length=1, max_length=200)
    options: dict[str, Any] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _options_need_a_plugin(self) -> ConnectorSettings:
        if self.options and self.plugin is None:
            raise ValueError(
                "options are handed to a connector plug-in: set `plugin` too, or remove `options`"
            )
        return self
