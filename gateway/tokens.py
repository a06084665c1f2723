"""Bearer tokens: verify them (PyJWT) into a `Principal`, and mint development tokens.

A missing token is the anonymous public; a token that is present but bad (malformed, forged,
expired, for another audience or issuer, signed with an algorithm not allowed) is refused with
`UNAUTHENTICATED`, never silently downgraded to public.

Signing keys of the identity provider come from a JWKS file or URL. The URL is fetched with the
app's aiohttp session (never blocking the event loop), cached, and fetched again when a token names
a key id the cache does not know, at most once per `jwks_min_refresh_s`, so forged key ids cannot
turn the gateway into a load generator against the identity provider.
"""

from __future__ import annotations

import asyncio
import re
import time
import uuid
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, Protocol

import aiohttp
import jwt
import orjson
from cachetools import LRUCache
from pydantic import HttpUrl

from gateway.auth_settings import AuthSettings
from resolvers.principal import ANONYMOUS, Principal

DEV_KEY_ID = "dev"
_REFUSALS: tuple[tuple[type[jwt.InvalidTokenError], str], ...] = (
    (jwt.ExpiredSignatureError, "The token has expired."),
    (jwt.ImmatureSignatureError, "The token is not valid yet."),
    (jwt.InvalidAudienceError, "The token is for another audience."),
    (jwt.InvalidIssuerError, "The token is from an unknown issuer."),
    (jwt.InvalidSignatureError, "The token's signature is not valid."),
)
"""What the client is told of each kind of bad token; anything else is "not valid"."""
_REGION = re.compile(r"^\d{6}$")
MAX_ACTORS = 8
"""Gateways a lookup may pass through (province, city, county need three)."""


class Unauthenticated(Exception):
    """The request carries a token that cannot be trusted; the message says why, safely."""


class KeySource(Protocol):
    """Where a key set comes from: `[auth]` (the identity provider) or a trusted gateway."""

    @property
    def jwks_file(self) -> Path | None: ...
    @property
    def jwks_url(self) -> HttpUrl | None: ...
    @property
    def jwks_timeout_s(self) -> float: ...
    @property
    def jwks_min_refresh_s(self) -> float: ...


class KeySet:
    """The identity provider's (or a trusted gateway's) public keys by key id, loaded lazily and
    refreshed on demand."""

    def __init__(self, settings: KeySource, session: aiohttp.ClientSession | None) -> None:
        self._settings = settings
        self._session = session
        self._keys: dict[str, jwt.PyJWK] = {}
        self._loaded_at = float("-inf")
        self._lock = asyncio.Lock()

    @property
    def configured(self) -> bool:
        return self._settings.jwks_file is not None or self._settings.jwks_url is not None

    async def key(self, kid: str | None) -> jwt.PyJWK:
        if not self.configured:
            raise Unauthenticated("This gateway accepts no signed tokens (no key set configured).")
        found = self._find(kid)
        if found is None:
            await self._refresh()
            found = self._find(kid)
        if found is None:
            raise Unauthenticated("The token is signed with an unknown key.")
        return found

    def _find(self, kid: str | None) -> jwt.PyJWK | None:
        if kid is None:
            return next(iter(self._keys.values())) if len(self._keys) == 1 else None
        return self._keys.get(kid)

    async def _refresh(self) -> None:
        async with self._lock:
            if time.monotonic() - self._loaded_at < self._settings.jwks_min_refresh_s:
                return
            self._loaded_at = time.monotonic()
            document = await self._fetch()
            try:
                key_set = jwt.PyJWKSet.from_dict(document)
            except jwt.PyJWKSetError as exc:
                raise Unauthenticated("The identity provider's key set is unusable.") from exc
            self._keys = {key.key_id: key for key in key_set.keys if key.key_id}

    async def _fetch(self) -> dict[str, Any]:
        settings = self._settings
        try:
            if settings.jwks_file is not None:
                raw = await asyncio.to_thread(settings.jwks_file.read_bytes)
            else:
                assert settings.jwks_url is not None
                assert self._session is not None
                timeout = aiohttp.ClientTimeout(total=settings.jwks_timeout_s)
                async with self._session.get(str(settings.jwks_url), timeout=timeout) as response:
                    response.raise_for_status()
                    raw = await response.read()
            document = orjson.loads(raw)
        except (OSError, aiohttp.ClientError, TimeoutError, orjson.JSONDecodeError) as exc:
            raise Unauthenticated("The identity provider's keys could not be loaded.") from exc
        if not isinstance(document, dict):
            raise Unauthenticated("The identity provider's key set is unusable.")
        return document


class TokenVerifier:
    """Verifies bearer tokens, remembering the ones it verified until they expire.

    An official sends the same token with every request for its lifetime; verifying it each time
    (decode, HMAC or RSA, claims) was a tenth of a millisecond of a request. A verified token's
    claims cannot change, so its principal is kept, keyed by the exact token string, and still
    refused once `exp` (plus leeway) has passed. Failed tokens are never kept.
    """

    def __init__(
        self,
        settings: AuthSettings,
        session: aiohttp.ClientSession | None = None,
        cache_size: int = 10_000,
    ):
        self._settings = settings
        self._keys = KeySet(settings, session)
        self._gateway_keys = {
            gateway_id: KeySet(gateway, session)
            for gateway_id, gateway in settings.gateways.items()
        }
        self._verified: LRUCache[str, tuple[Principal, float]] = LRUCache(maxsize=cache_size)

    async def principal(self, authorization: str | None) -> Principal:
        """The principal of an `Authorization` header value; `ANONYMOUS` without one."""
        if authorization is None or not authorization.strip():
            return ANONYMOUS
        scheme, _, token = authorization.strip().partition(" ")
        token = token.strip()
        if scheme.lower() != "bearer" or not token:
            raise Unauthenticated("Send the token as `Authorization: Bearer <token>`.")
        cached = self._verified.get(token)
        if cached is not None:
            principal, expires = cached
            if time.time() <= expires + self._settings.leeway_s:
                return principal
            del self._verified[token]
            raise Unauthenticated("The token has expired.")
        principal, expires = await self._verify(token)
        self._verified[token] = (principal, expires)
        return principal

    async def _verify(self, token: str) -> tuple[Principal, float]:
        try:
            header = jwt.get_unverified_header(token)
        except jwt.InvalidTokenError as exc:
            raise Unauthenticated("The token is not a well-formed JWT.") from exc
        algorithm = header.get("alg")
        gateway_id = self._gateway_issuer(token) if self._gateway_keys else None
        key: Any
        if gateway_id is not None:
            gateway = self._settings.gateways[gateway_id]
            issuer = gateway_id
            if algorithm == "HS256" and gateway.dev_secret is not None:
                key = gateway.dev_secret
            elif algorithm in gateway.algorithms:
                key = await self._gateway_keys[gateway_id].key(header.get("kid"))
            else:
                raise Unauthenticated(f"Tokens signed with {algorithm!r} are not accepted.")
        else:
            issuer = self._settings.issuer
            if algorithm == "HS256" and self._settings.dev_secret is not None:
                key = self._settings.dev_secret
            elif algorithm in self._settings.algorithms:
                key = await self._keys.key(header.get("kid"))
            else:
                raise Unauthenticated(f"Tokens signed with {algorithm!r} are not accepted.")
        try:
            claims = jwt.decode(
                token,
                key,
                algorithms=[str(algorithm)],
                audience=self._settings.audience,
                issuer=issuer,
                leeway=self._settings.leeway_s,
                options={"require": ["exp", "iss", "aud", "sub"]},
            )
        except jwt.InvalidTokenError as exc:
            message = next((m for kind, m in _REFUSALS if isinstance(exc, kind)), None)
            raise Unauthenticated(message or "The token is not valid.") from exc
        principal = principal_from_claims(claims)
        if gateway_id is None and principal.via:
            raise Unauthenticated(
                "The token acts on behalf of another principal (`act`), but its issuer is not "
                "a trusted gateway."
            )
        if gateway_id is not None and principal.via[:1] != (gateway_id,):
            raise Unauthenticated("A gateway's token must name that gateway as its actor (`act`).")
        return principal, float(claims["exp"])

    def _gateway_issuer(self, token: str) -> str | None:
        """The trusted gateway that claims to have issued `token` (checked when it is verified
        with that gateway's keys), or None: then it is verified as the identity provider's."""
        try:
            claims = jwt.decode(token, options={"verify_signature": False})
        except jwt.InvalidTokenError as exc:
            raise Unauthenticated("The token is not a well-formed JWT.") from exc
        issuer = claims.get("iss")
        return issuer if isinstance(issuer, str) and issuer in self._gateway_keys else None


def principal_from_claims(claims: Mapping[str, Any]) -> Principal:
    roles = _strings(claims.get("roles", []), "roles")
    scope = claims.get("scope", "")
    if not isinstance(scope, str):
        raise Unauthenticated("The token's `scope` must be a space-separated string.")
    region = claims.get("region")
    if region is not None and (not isinstance(region, str) or not _REGION.match(region)):
        raise Unauthenticated("The token's `region` must be a 6-digit division code.")
    department = claims.get("department")
    name = claims.get("name")
    if not all(v is None or isinstance(v, str) for v in (department, name)):
        raise Unauthenticated("The token's `name` and `department` must be strings.")
    if not roles:
        raise Unauthenticated("The token names no role.")
    matter = claims.get("matter")
    if matter is not None and not isinstance(matter, str):
        raise Unauthenticated("The token's `matter` must be a string.")
    return Principal(
        subject=str(claims["sub"]),
        name=name,
        department=department,
        region=region,
        roles=frozenset(roles),
        scopes=frozenset(scope.split()),
        via=_actors(claims.get("act")),
        matter=matter,
    )


def _actors(act: object) -> tuple[str, ...]:
    """The actor chain of an RFC 8693 `act` claim, nearest first: `{"sub": "a", "act": {"sub":
    "b"}}` is a token issued by gateway `a` for a lookup that gateway `b` forwarded to it."""
    actors: list[str] = []
    while act is not None:
        sub = act.get("sub") if isinstance(act, dict) else None
        if not isinstance(sub, str) or not sub or len(actors) >= MAX_ACTORS:
            raise Unauthenticated("The token's `act` must be a chain of objects with a `sub`.")
        actors.append(sub)
        act = act.get("act") if isinstance(act, dict) else None
    return tuple(actors)


def _strings(value: object, claim: str) -> list[str]:
    if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
        raise Unauthenticated(f"The token's `{claim}` must be a list of strings.")
    return value


def mint_dev_token(
    settings: AuthSettings,
    roles: Iterable[str],
    *,
    subject: str | None = None,
    name: str | None = None,
    department: str | None = None,
    region: str | None = None,
    scopes: Iterable[str] = (),
    ttl: timedelta = timedelta(hours=1),
    now: datetime | None = None,
) -> str:
    """An HS256 token signed with the development key (`[auth] dev_secret`)."""
    if settings.dev_secret is None:
        raise ValueError("no development key: set [auth] dev_secret to mint tokens")
    issued = now or datetime.now(UTC)
    claims: dict[str, Any] = {
        "iss": settings.issuer,
        "aud": settings.audience,
        "sub": subject or f"dev-{uuid.uuid4().hex[:8]}",
        "iat": issued,
        "nbf": issued,
        "exp": issued + ttl,
        "roles": list(roles),
        "scope": " ".join(scopes),
    }
    for claim, value in (("name", name), ("department", department), ("region", region)):
        if value is not None:
            claims[claim] = value
    return jwt.encode(claims, settings.dev_secret, algorithm="HS256", headers={"kid": DEV_KEY_ID})
