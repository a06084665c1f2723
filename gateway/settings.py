"""Gateway configuration: one TOML file, validated by pydantic at start-up.

`credit-gateway serve --config FILE` reads a file; `credit-gateway demo` uses the embedded defaults
(`gateway/defaults/demo.toml`) with the reference registries' URLs filled in. Unknown keys are
errors, so a typo in a deployment's config fails loudly at start instead of being ignored.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from connectors.catalog import BUILTIN, DEPARTMENT_KEY, DEPARTMENTS, connector_config_problems
from connectors.settings import ConnectorSettings, UpstreamSettings
from gateway.audit.settings import AuditSettings
from gateway.auth_settings import AuthSettings
from gateway.config_files import read_toml, validated
from gateway.federation_settings import FederationSettings
from gateway.rate_limit_settings import RateLimitSettings

DEFAULTS_DIR = Path(__file__).parent / "defaults"


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ServerSettings(_Section):
    """The HTTP server (uvicorn, one process): where it listens, how much it takes on at once, and
    how long it drains at shutdown. docs/reliability.md says what clients see at each limit."""

    host: str = "127.0.0.1"
    port: int = Field(default=8000, ge=0, le=65535)
    limit_concurrency: int = Field(default=256, ge=1, le=100_000)
    """Open connections (the new one and idle keep-alive ones included) or requests in progress
    at which a new request is answered `503 Service Unavailable` by uvicorn at once, before the
    app: a burst is refused cheaply instead of queueing into timeouts and unbounded memory."""
    backlog: int = Field(default=2048, ge=1, le=65_535)
    """Connections the kernel queues before they are accepted (capped by `net.core.somaxconn`)."""
    timeout_keep_alive_s: int = Field(default=5, ge=1, le=3600)
    """An idle keep-alive connection is closed after this long (keep it below the idle timeout of
    a load balancer in front, so the gateway, not the balancer, closes first)."""
    graceful_shutdown_s: int = Field(default=10, ge=1, le=3600)
    """On SIGTERM/SIGINT, how long requests in flight may take to finish (their audit entries
    committed) before they are cancelled. Give it more than `[graphql] deadline_s`, which bounds
    how long a request waits for its sources, plus a little for its audit commit."""
    collect_between_requests: bool = True
    """Run Python's cyclic garbage collector when a request ends and none is in flight, instead
    of wherever an allocation crosses its threshold (gateway/collector_pacing.py): a collection
    walks the freshly cached records, 5-12 ms measured, and in the middle of a request that is
    the request's latency. A server never idle still collects (once twice overdue)."""


class GraphQLSettings(_Section):
    """Limits that keep one query from costing more than a profile lookup should."""

    graphiql: bool = False
    max_depth: int = Field(default=12, ge=2, le=64)
    max_aliases: int = Field(default=30, ge=0, le=1000)
    max_tokens: int = Field(default=3000, ge=50, le=100_000)
    max_batch: int = Field(default=100, ge=1, le=1000)
    max_body_bytes: int = Field(default=64 * 1024, ge=1024, le=16 * 1024 * 1024)
    """Largest POST body (413), and largest GET query string (414)."""
    max_variables_bytes: int = Field(default=32 * 1024, ge=256, le=16 * 1024 * 1024)
    """Largest `variables` object, as compact JSON: 100 ids take about 2 KiB."""
    max_variables_depth: int = Field(default=8, ge=2, le=100)
    """Deepest nesting of `variables` (the object itself is 1, `{"ids": [...]}` is 2)."""
    parser_cache_size: int = Field(default=512, ge=0)
    validation_cache_size: int = Field(default=512, ge=0)
    deadline_s: float = Field(default=5.0, gt=0, le=300)
    """One budget per request, from its arrival: no department or lower gateway is waited for
    past it (a department still pending shows `TIMEOUT`), each upstream call's timeout is cut
    to what is left, and a retry is only made if it fits. Keep it above the connectors'
    `timeout_s`, or their calls are cut short (docs/reliability.md, Upstream resilience)."""


class HttpClientSettings(_Section):
    """The one aiohttp session shared by every connector."""

    max_connections: int = Field(default=256, ge=1)
    max_connections_per_host: int = Field(default=64, ge=1)
    keepalive_timeout_s: float = Field(default=30.0, gt=0)


class AccessSettings(_Section):
    policy: Path = DEFAULTS_DIR / "policy.toml"
    """The role policy (TOML); the shipped one is used unless a deployment names its own."""
    strict: bool = False
    """Refuse a whole operation that asks for anything denied, instead of nulling those fields."""
    catalogue: Path = DEFAULTS_DIR / "catalogue.toml"
    """The catalogue of administrative matters that officials' lookups must name."""
    measures: Path = DEFAULTS_DIR / "measures.toml"
    """The joint reward and punishment measures that matters cite."""


class Settings(_Section):
    server: ServerSettings = ServerSettings()
    auth: AuthSettings = AuthSettings()
    access: AccessSettings = AccessSettings()
    audit: AuditSettings = AuditSettings()
    graphql: GraphQLSettings = GraphQLSettings()
    http: HttpClientSettings = HttpClientSettings()
    connectors: dict[str, ConnectorSettings] = Field(default_factory=dict)
    federation: FederationSettings | None = None
    rate_limits: RateLimitSettings = RateLimitSettings()
    upstreams: dict[str, UpstreamSettings] = Field(default_factory=dict)
    """Lower-level gateways (cities, counties) consulted as sources, by key (`changsha`)."""

    @field_validator("connectors", mode="after")
    @classmethod
    def _known_departments(
        cls, connectors: dict[str, ConnectorSettings]
    ) -> dict[str, ConnectorSettings]:
        """Built-in departments, and departments served by an installed connector plug-in (which
        is imported and checked here, so a broken one fails the config, not a lookup)."""
        problems = connector_config_problems(connectors)
        if problems:
            raise ValueError("; ".join(problems))
        return connectors

    @model_validator(mode="after")
    def _upstreams(self) -> Settings:
        """Upstream keys show in `sources` beside department keys, so they look alike and never
        collide; consulting one needs a `[federation]` identity to sign its service tokens."""
        for key, upstream in self.upstreams.items():
            if not DEPARTMENT_KEY.fullmatch(key):
                raise ValueError(
                    f"upstreams.{key}: a key is lower case letters, digits and underscores, "
                    "starting with a letter (at most 40 characters)"
                )
            if key in BUILTIN or key in self.connectors:
                raise ValueError(f"upstreams.{key}: {key!r} is a department key")
            unknown = sorted(set(upstream.departments or ()) - set(DEPARTMENTS))
            if unknown:
                raise ValueError(
                    f"upstreams.{key}.departments: {unknown} have no section here; "
                    f"known: {', '.join(DEPARTMENTS)}"
                )
        if self.enabled_upstreams and self.federation is None:
            raise ValueError(
                "upstreams need a [federation] section (gateway_id and a signing key) to sign "
                "the service tokens they are called with"
            )
        return self

    @property
    def enabled_upstreams(self) -> dict[str, UpstreamSettings]:
        return {key: u for key, u in self.upstreams.items() if u.enabled}

    @property
    def enabled_connectors(self) -> dict[str, ConnectorSettings]:
        """Enabled departments: the built-in ones in the catalogue's order (the section departments
        first, in the order of their sections), then plug-in departments in the config's order."""
        ordered = [key for key in BUILTIN if key in self.connectors]
        ordered += [key for key in self.connectors if key not in BUILTIN]
        return {key: self.connectors[key] for key in ordered if self.connectors[key].enabled}


def load_settings(path: Path | str, overrides: dict[str, Any] | None = None) -> Settings:
    path = Path(path)
    _, data = read_toml(path, "config")
    return settings_from_dict(_merge(data, overrides or {}), source=str(path))


def settings_from_dict(data: dict[str, Any], source: str = "<config>") -> Settings:
    return validated(Settings, data, source)


def _merge(base: dict[str, Any], extra: dict[str, Any]) -> dict[str, Any]:
    merged = dict(base)
    for key, value in extra.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = _merge(merged[key], value)
        else:
            merged[key] = value
    return merged
