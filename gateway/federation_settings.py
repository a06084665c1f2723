"""The `[federation]` section of the config: who this gateway is to the lower-level gateways it
consults (`[upstreams.*]`), and the key it signs its service tokens with."""

from __future__ import annotations

from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, model_validator

from gateway.auth_settings import GATEWAY_ID


class FederationSettings(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    gateway_id: str = Field(pattern=GATEWAY_ID)
    """This gateway's name, e.g. `hunan-province`: the `iss` of its service tokens and their actor
    (`act.sub`); lower gateways list it under `[auth.gateways]` and write it to their audit."""
    signing_key_file: Path | None = None
    """A PEM private key (RSA: RS256; EC P-256: ES256). Its public half goes into the JWKS that
    the lower gateways' `[auth.gateways.<gateway_id>]` reads, under `key_id`."""
    key_id: str | None = Field(default=None, min_length=1, max_length=128)
    """The `kid` of the signing key, as published in that JWKS."""
    dev_secret: str | None = Field(default=None, min_length=32)
    """HS256 instead of a key pair: tests and demos only (the lower gateway must hold the same
    secret, so either side can forge the other's tokens)."""
    token_ttl_s: float = Field(default=60.0, ge=5, le=3600)
    """Lifetime of a service token. Tokens are reused for half their lifetime (per principal,
    matter and upstream), so a lower gateway verifies each once."""

    @model_validator(mode="after")
    def _one_key(self) -> FederationSettings:
        if (self.signing_key_file is None) == (self.dev_secret is None):
            raise ValueError("set signing_key_file (with key_id) or dev_secret, exactly one")
        if self.signing_key_file is not None and self.key_id is None:
            raise ValueError("signing_key_file needs key_id (the kid the lower gateways look up)")
        return self
