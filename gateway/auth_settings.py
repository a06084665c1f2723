"""The `[auth]` section of the config: how bearer tokens are verified."""

from __future__ import annotations

from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, HttpUrl, model_validator

ASYMMETRIC_ALGORITHMS = ("RS256", "ES256")


class AuthSettings(BaseModel):
    """Tokens are signed by the province's identity provider (RS256/ES256, keys published as a
    JWKS file or URL); HS256 with `dev_secret` exists only so the demo and tests can mint tokens.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    issuer: str = "credit-gateway-dev"
    audience: str = "credit-gateway"
    leeway_s: float = Field(default=30.0, ge=0, le=600)
    algorithms: tuple[str, ...] = ASYMMETRIC_ALGORITHMS
    jwks_file: Path | None = None
    jwks_url: HttpUrl | None = None
    jwks_timeout_s: float = Field(default=3.0, gt=0, le=60)
    jwks_min_refresh_s: float = Field(default=30.0, ge=0)
    """An unknown `kid` refetches the key set at most this often (a forged kid cannot flood it)."""
    dev_secret: str | None = Field(default=None, min_length=32)
    """HS256 key for development tokens. Never set it in production."""

    @model_validator(mode="after")
    def _known_algorithms(self) -> AuthSettings:
        unknown = sorted(set(self.algorithms) - set(ASYMMETRIC_ALGORITHMS))
        if unknown:
            raise ValueError(
                f"algorithms {unknown} are not accepted; use {list(ASYMMETRIC_ALGORITHMS)} "
                "(HS256 is enabled only by dev_secret)"
            )
        if self.jwks_file is not None and self.jwks_url is not None:
            raise ValueError("set jwks_file or jwks_url, not both")
        return self
