"""Federation: lower-level gateways (a city's, a county's) consulted as sources.

- `ServiceTokens` signs the token a lookup is forwarded with: the official's claims as this
  gateway verified them, the lookup's matter, and this gateway as the actor (RFC 8693 `act`), for
  the lower gateway's audience. The lower gateway verifies it with its `[auth.gateways]` entry for
  this gateway, then applies its own policy, purpose check and masking, and audits the lookup.
- `upstream_selections` builds, from the schema and the record models, what the upstream
  connector asks for: the fields both know, so the lower gateway's camelCase output validates
  with the registry API's models.
- `UpstreamSource` is one upstream as the resolvers see it. It has no cache and no single-flight:
  what a lower gateway answers depends on the principal and the matter (its policy, masking,
  public view and purpose check), so an answer shared across requests could show one official
  what another may see. The lower gateway caches its registries' raw records itself. Its calls
  go through the same `Resilience` as a department's (retries, a circuit breaker, each call cut
  to the request's deadline); with no cache, an open circuit means no data from it.
"""

from __future__ import annotations

import logging
import time
import typing
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

import jwt
from cachetools import LRUCache
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.hazmat.primitives.serialization import load_pem_private_key
from graphql import GraphQLObjectType, GraphQLSchema, get_named_type, is_leaf_type
from pydantic import BaseModel

from connectors.catalog import DEPARTMENTS
from connectors.deadline import Deadline
from connectors.errors import SourceError, SourceState
from connectors.records import RECORD_MODELS, CreditReport, Grade, ListEntry
from connectors.resilience import Resilience
from connectors.settings import UpstreamSettings
from connectors.upstream import (
    GRADES,
    LISTS,
    REPORTS_DEPARTMENT,
    FederatedRecord,
    UpstreamConnector,
    UpstreamParts,
    UpstreamResult,
    error_for,
    section_field,
)
from gateway.config_files import ConfigError
from gateway.federation_settings import FederationSettings
from gateway.source import timed_answers
from resolvers.outcome import SourceOutcome
from resolvers.principal import Principal

log = logging.getLogger(__name__)

TOKEN_CACHE_SIZE = 10_000


class ServiceTokens:
    """Signs service tokens, reusing each for half its lifetime (per audience, principal and
    matter): signing costs up to a millisecond with RSA, and a lower gateway that sees the same
    token again takes it from its cache of verified tokens instead of verifying it again."""

    def __init__(self, settings: FederationSettings) -> None:
        self._settings = settings
        self._key: Any
        self._headers: dict[str, str] = {}
        if settings.signing_key_file is not None:
            self._key, self._algorithm = load_signing_key(settings.signing_key_file)
            assert settings.key_id is not None
            self._headers = {"kid": settings.key_id}
        else:
            assert settings.dev_secret is not None
            self._key, self._algorithm = settings.dev_secret, "HS256"
        self._issued: LRUCache[tuple[str, Principal, str | None], tuple[str, float]] = LRUCache(
            maxsize=TOKEN_CACHE_SIZE
        )

    @property
    def gateway_id(self) -> str:
        return self._settings.gateway_id

    def token(self, principal: Principal, matter: str | None, audience: str) -> str:
        key = (audience, principal, matter)
        now = time.time()
        issued = self._issued.get(key)
        if issued is not None and now < issued[1]:
            return issued[0]
        token = self.mint(principal, matter, audience, now)
        self._issued[key] = (token, now + self._settings.token_ttl_s / 2)
        return token

    def mint(
        self, principal: Principal, matter: str | None, audience: str, now: float | None = None
    ) -> str:
        """A new token: the principal's claims as `principal_from_claims` reads them, `matter`,
        and the actor chain (this gateway, then the gateways that forwarded the principal)."""
        issued_at = int(now if now is not None else time.time())
        claims: dict[str, Any] = {
            "iss": self._settings.gateway_id,
            "aud": audience,
            "sub": principal.subject,
            "iat": issued_at,
            "exp": issued_at + int(self._settings.token_ttl_s),
            "roles": sorted(principal.roles),
            "scope": " ".join(sorted(principal.scopes)),
            "act": actor_claim((self._settings.gateway_id, *principal.via)),
        }
        for claim, value in (
            ("name", principal.name),
            ("department", principal.department),
            ("region", principal.region),
            ("matter", matter),
        ):
            if value is not None:
                claims[claim] = value
        return jwt.encode(claims, self._key, algorithm=self._algorithm, headers=self._headers)


def actor_claim(actors: Sequence[str]) -> dict[str, Any]:
    """RFC 8693 `act` of an actor chain, nearest first: the current actor at the top, each prior
    actor nested in the one after it."""
    claim: dict[str, Any] | None = None
    for actor in reversed(actors):
        claim = {"sub": actor} if claim is None else {"sub": actor, "act": claim}
    assert claim is not None
    return claim


def load_signing_key(path: Path) -> tuple[Any, str]:
    """The private key of a PEM file and the algorithm it signs with; `ConfigError` if unusable."""
    try:
        key = load_pem_private_key(path.read_bytes(), password=None)
    except OSError as exc:
        raise ConfigError(f"[federation] signing_key_file {path}: {exc.strerror}") from exc
    except (ValueError, TypeError) as exc:
        raise ConfigError(
            f"[federation] signing_key_file {path}: not an unencrypted PEM private key"
        ) from exc
    if isinstance(key, rsa.RSAPrivateKey):
        return key, "RS256"
    if isinstance(key, ec.EllipticCurvePrivateKey) and isinstance(key.curve, ec.SECP256R1):
        return key, "ES256"
    raise ConfigError(
        f"[federation] signing_key_file {path}: an RSA or EC P-256 key is needed (RS256, ES256)"
    )


PERSONAL_IDENTIFIERS = frozenset({("Person", "idNumber")})
"""Fields asked of a lower gateway only when the client's query selects them (optional in the
record models, so the records validate without them)."""


def upstream_selections(schema: GraphQLSchema, personal: bool = True) -> dict[str, str]:
    """The selection set of each department's `Subject` field (its section, or `reports`), of
    `lists` and of `grades`: every field that both the schema and the record model have, nested
    types included, personal identifiers only if `personal`. Computed fields (`current`, `state`,
    `expired`) are not models' fields, so they are not asked for; `subjectId` is not in the
    schema, and the connector fills it in."""
    subject = schema.type_map["Subject"]
    assert isinstance(subject, GraphQLObjectType)
    selections: dict[str, str] = {}
    for department in DEPARTMENTS:
        field = subject.fields.get(section_field(department))
        if field is None:
            continue
        model = CreditReport if department == REPORTS_DEPARTMENT else RECORD_MODELS[department]
        selections[department] = _selection(_object_type(field.type), model, personal)
    selections[LISTS] = _selection(_object_type(subject.fields["lists"].type), ListEntry, personal)
    selections[GRADES] = _selection(_object_type(subject.fields["grades"].type), Grade, personal)
    return selections


def _object_type(graphql_type: Any) -> GraphQLObjectType:
    named = get_named_type(graphql_type)
    assert isinstance(named, GraphQLObjectType)
    return named


def _selection(object_type: GraphQLObjectType, model: type[BaseModel], personal: bool) -> str:
    parts: list[str] = []
    for name, info in model.model_fields.items():
        alias = info.alias or name
        field = object_type.fields.get(alias)
        if not personal and (object_type.name, alias) in PERSONAL_IDENTIFIERS:
            assert not info.is_required()
            continue
        if field is None:
            if info.is_required() and name != "subject_id":
                raise ValueError(f"{object_type.name} lacks {alias}, which {model.__name__} needs")
            continue
        if is_leaf_type(get_named_type(field.type)):
            parts.append(alias)
            continue
        nested = _model_in(info.annotation)
        if nested is None:
            raise ValueError(f"{model.__name__}.{name} holds no record model")
        parts.append(f"{alias} {_selection(_object_type(field.type), nested, personal)}")
    return "{ " + " ".join(parts) + " }"


def _model_in(annotation: object) -> type[BaseModel] | None:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for argument in typing.get_args(annotation):
        found = _model_in(argument)
        if found is not None:
            return found
    return None


class UpstreamSource:
    """A lower-level gateway as the resolvers see it (`resolvers.context.UpstreamLoader`)."""

    def __init__(
        self, connector: UpstreamConnector, settings: UpstreamSettings, tokens: ServiceTokens
    ) -> None:
        self.connector = connector
        self.key = connector.key
        self.settings = settings
        self._tokens = tokens
        self.resilience: Resilience[FederatedRecord] = Resilience(
            self.key, settings.timeout_s, settings.retry, settings.breaker, kind="gateway"
        )

    @property
    def departments(self) -> tuple[str, ...]:
        return self.connector.departments

    async def load_many(
        self,
        ids: Sequence[str],
        principal: Principal,
        matter: str | None,
        parts: UpstreamParts,
        request_id: str,
        deadline: Deadline | None = None,
    ) -> list[SourceOutcome]:
        token = self._tokens.token(principal, matter, self.settings.audience)

        async def fetch(batch: list[str]) -> UpstreamResult:
            return await self.connector.fetch_many(
                batch, token=token, matter=matter, parts=parts, request_id=request_id
            )

        answers, latency_ms, fetched_at = await timed_answers(
            self.key,
            ids,
            lambda: self.resilience.call(ids, fetch, deadline),
            lambda: error_for(self.key, SourceState.ERROR, "failed unexpectedly"),
        )
        return [self._outcome(answers.get(i), latency_ms, fetched_at) for i in ids]

    def _outcome(
        self,
        answer: FederatedRecord | SourceError | None,
        latency_ms: float,
        fetched_at: datetime,
    ) -> SourceOutcome:
        region = self.settings.region
        if isinstance(answer, SourceError):
            return SourceOutcome(
                self.key, answer.state, error=answer, latency_ms=latency_ms, region=region
            )
        if answer is None:
            state = SourceState.NOT_FOUND
            return SourceOutcome(
                self.key, state, fetched_at=fetched_at, latency_ms=latency_ms, region=region
            )
        error: SourceError | None = None
        state = SourceState.OK
        if answer.failures:
            state = answer.failures[0].state
            if state is SourceState.CIRCUIT_OPEN:
                # The lower gateway's breaker, not this one's: here it is an error of that part.
                state = SourceState.ERROR
            missing = "; ".join(f"{f.part} {f.state.value}: {f.message}" for f in answer.failures)
            error = error_for(self.key, state, f"answered in part: {missing}".rstrip("."))
        return SourceOutcome(
            self.key,
            state,
            record=answer,
            error=error,
            fetched_at=fetched_at,
            latency_ms=latency_ms,
            region=region,
        )

    async def aclose(self) -> None:
        """Nothing runs beyond a request's own calls."""
