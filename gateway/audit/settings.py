"""The `[audit]` section of the gateway configuration."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, field_validator

from gateway.audit.errors import AuditStoreError
from gateway.audit.store import DEFAULT_TABLE, TABLE_NAME_PATTERN, store_scheme


class AuditSettings(BaseModel):
    """Where audit entries go and how long a lookup may wait for its commit.

    `url`: `sqlite:///var/audit.db` (relative to the working directory; the demo's default),
    `sqlite:////abs/path.db`, or `postgresql://user@host:5432/db` so that every gateway instance
    appends to one chain. `table`: one chain per table. `max_pending`: entries that may wait for
    a commit before lookups are refused with `AUDIT_UNAVAILABLE`. `commit_timeout_s`: how long one
    group commit may take before its lookups are refused.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    url: str = "sqlite:///var/audit.db"
    table: str = Field(default=DEFAULT_TABLE, pattern=TABLE_NAME_PATTERN)
    max_pending: int = Field(default=10_000, ge=1)
    commit_timeout_s: float = Field(default=5.0, gt=0)

    @field_validator("url")
    @classmethod
    def _known_scheme(cls, url: str) -> str:
        """Fail at start-up on a URL no store can open, not at the first lookup."""
        try:
            store_scheme(url)
        except AuditStoreError as exc:
            raise ValueError(str(exc)) from None
        return url
