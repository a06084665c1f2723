"""The `[auth]` section of the config: how bearer tokens are verified."""

from __future__ import annotations

import re
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, HttpUrl, model_validator

ASYMMETRIC_ALGORITHMS = ("RS256", "ES256")
GATEWAY_ID = r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$"
"""What a gateway's id looks like: it is a token's `iss` and `act.sub`, and shows in audit logs."""


class TrustedGateway(BaseModel):
    """A higher-level gateway (the province's) whose service tokens this gateway accepts: the
    `[auth.gateways.<gateway id>]` table. Its keys verify only tokens whose `iss` is that id, and
    such a token must name the gateway as its actor (`act.sub`)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    jwks_file: Path | None = None
    """The gateway's public signing keys, as a JWKS document (keys with a `kid`)."""
    jwks_url: HttpUrl | None = None
    jwks_timeout_s: float = Field(default=3.0, gt=0, le=60)
    jwks_min_refresh_s: float = Field(default=30.0, ge=0)
    algorithms: tuple[str, ...] = ASYMMETRIC_ALGORITHMS
    dev_secret: str | None = Field(default=None, min_length=32)
    """HS256 key shared with that gateway's `[federation] dev_secret`: tests and demos only."""

    @model_validator(mode="after")
    def _one_key_source(self) -> TrustedGateway:
        _check_algorithms(self.algorithms)
        if self.jwks_file is not None and self.jwks_url is not None:
            raise ValueError("set jwks_file or jwks_url, not both")
        if self.jwks_file is None and self.jwks_url is None and self.dev_secret is None:
            raise ValueError("a trusted gateway needs its keys: jwks_file, jwks_url or dev_secret")
        return self


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
    gateways: dict[str, TrustedGateway] = Field(default_factory=dict)
    """Higher-level gateways trusted to forward their officials' lookups (service tokens with an
    `act` claim), by gateway id (their tokens' `iss`). A token with `act` from any other issuer is
    refused."""

    @model_validator(mode="after")
    def _known_algorithms(self) -> AuthSettings:
        _check_algorithms(self.algorithms)
        if self.jwks_file is not None and self.jwks_url is not None:
            raise ValueError("set jwks_file or jwks_url, not both")
        for gateway_id in self.gateways:
            if not re.match(GATEWAY_ID, gateway_id):
                raise ValueError(
                    f"gateways: {gateway_id!r} is not a gateway id (letters, digits, '.', '_', '-')"
                )
            if gateway_id == self.issuer:
                raise ValueError(
                    f"gateways: {gateway_id!r} is also the identity provider's issuer; a gateway "
                    "signs its service tokens under an issuer of its own"
                )
        return self


def _check_algorithms(algorithms: tuple[str, ...]) -> None:
    unknown = sorted(set(algorithms) - set(ASYMMETRIC_ALGORITHMS))
    if unknown:
        raise ValueError(
            f"algorithms {unknown} are not accepted; use {list(ASYMMETRIC_ALGORITHMS)} "
            "(HS256 is enabled only by dev_secret)"
        )
