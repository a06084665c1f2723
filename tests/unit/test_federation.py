"""Federation pieces without a network: service tokens and their verification, the selections
asked of a lower gateway, merging records, and the configuration's rules."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import jwt
import pytest
from graphql import parse, validate
from pydantic import ValidationError

from connectors.records import (
    SOURCE_CONTEXT,
    Authority,
    CommerceRecord,
    Penalty,
    Person,
    Registration,
    RegistrationStatus,
)
from connectors.upstream import UpstreamParts
from gateway.auth_settings import AuthSettings
from gateway.config_files import ConfigError
from gateway.federation import ServiceTokens, load_signing_key, upstream_selections
from gateway.federation_settings import FederationSettings
from gateway.settings import GraphQLSettings, settings_from_dict
from gateway.tokens import TokenVerifier, Unauthenticated
from resolvers.federation import merged_record
from resolvers.principal import ANONYMOUS, Principal
from schema import build_schema

PROVINCE = "hunan-province"
SECRET = "a-province-secret-that-is-long-enough!"
IDP_SECRET = "the-identity-providers-development-key"
AUDIENCE = "changsha-gateway"
OFFICIAL = Principal(
    "official-42",
    name="刘洋",
    department="credit_office",
    region="430000",
    roles=frozenset({"credit_office"}),
    scopes=frozenset({"pii"}),
)


def _tokens(ttl: float = 60) -> ServiceTokens:
    return ServiceTokens(
        FederationSettings(gateway_id=PROVINCE, dev_secret=SECRET, token_ttl_s=ttl)
    )


def _city(**gateway: Any) -> TokenVerifier:
    trusted = gateway or {"dev_secret": SECRET}
    return TokenVerifier(
        AuthSettings(dev_secret=IDP_SECRET, audience=AUDIENCE, gateways={PROVINCE: trusted})
    )


async def test_a_service_token_carries_the_official_the_matter_and_the_actor() -> None:
    token = _tokens().token(OFFICIAL, "CO-JOINT-REVIEW", AUDIENCE)
    claims = jwt.decode(token, SECRET, algorithms=["HS256"], audience=AUDIENCE)
    assert claims["iss"] == PROVINCE
    assert claims["act"] == {"sub": PROVINCE}
    assert claims["exp"] - claims["iat"] == 60
    principal = await _city().principal(f"Bearer {token}")
    assert principal == Principal(
        "official-42",
        name="刘洋",
        department="credit_office",
        region="430000",
        roles=frozenset({"credit_office"}),
        scopes=frozenset({"pii"}),
        via=(PROVINCE,),
        matter="CO-JOINT-REVIEW",
    )


async def test_the_public_is_forwarded_as_the_public() -> None:
    token = _tokens().token(ANONYMOUS, None, AUDIENCE)
    principal = await _city().principal(f"Bearer {token}")
    assert principal.is_public
    assert principal.matter is None
    assert principal.via == (PROVINCE,)


def test_a_forwarded_principal_forwarded_again_keeps_the_chain() -> None:
    """Province -> city -> county: the city's token names itself, then the province."""
    city = ServiceTokens(FederationSettings(gateway_id="changsha", dev_secret=SECRET))
    forwarded = Principal("official-42", roles=frozenset({"x"}), via=(PROVINCE,), matter="M-1")
    claims = jwt.decode(
        city.token(forwarded, "M-1", "county"), SECRET, algorithms=["HS256"], audience="county"
    )
    assert claims["act"] == {"sub": "changsha", "act": {"sub": PROVINCE}}
    assert claims["matter"] == "M-1"


def test_tokens_are_reused_for_half_their_lifetime() -> None:
    tokens = _tokens()
    first = tokens.token(OFFICIAL, "CO-JOINT-REVIEW", AUDIENCE)
    assert tokens.token(OFFICIAL, "CO-JOINT-REVIEW", AUDIENCE) == first
    assert tokens.token(OFFICIAL, "GV-FISCAL-FUNDS", AUDIENCE) != first
    assert tokens.token(OFFICIAL, "CO-JOINT-REVIEW", "another") != first


def _signed(secret: str, **claims: Any) -> str:
    base = {"aud": AUDIENCE, "sub": "x", "exp": 4_000_000_000, "roles": ["credit_office"]}
    return jwt.encode({**base, **claims}, secret, algorithm="HS256")


@pytest.mark.parametrize(
    ("token", "message"),
    [
        (
            _signed(IDP_SECRET, iss="credit-gateway-dev", act={"sub": PROVINCE}),
            "its issuer is not a trusted gateway",
        ),
        (_signed(SECRET, iss=PROVINCE), "must name that gateway as its actor"),
        (_signed(SECRET, iss=PROVINCE, act={"sub": "someone"}), "must name that gateway"),
        (_signed(IDP_SECRET, iss=PROVINCE, act={"sub": PROVINCE}), "signature is not valid"),
        (_signed(SECRET, iss=PROVINCE, act={"sub": PROVINCE, "act": "x"}), "`act` must be"),
        (_signed(SECRET, iss=PROVINCE, act={"sub": PROVINCE}, matter=3), "`matter` must be"),
    ],
    ids=[
        "act from the identity provider",
        "gateway without act",
        "gateway acting as another",
        "gateway issuer, identity provider's key",
        "malformed act",
        "malformed matter",
    ],
)
async def test_tokens_a_city_refuses(token: str, message: str) -> None:
    with pytest.raises(Unauthenticated, match=message):
        await _city().principal(f"Bearer {token}")


async def test_a_gateway_with_a_key_set_does_not_take_hs256() -> None:
    verifier = _city(jwks_file="/nonexistent.json")
    token = _tokens().token(OFFICIAL, None, AUDIENCE)
    with pytest.raises(Unauthenticated, match="'HS256' are not accepted"):
        await verifier.principal(f"Bearer {token}")


def test_the_selections_are_a_valid_query_under_the_default_limits() -> None:
    """What the province asks is valid against the schema (so against a city of the same
    version), with every section and list, within a default city's token limit."""
    from connectors.settings import UpstreamSettings
    from connectors.upstream import UpstreamConnector

    schema = build_schema()._schema
    selections = upstream_selections(schema)
    settings = UpstreamSettings(url="http://city/graphql", region="430100", audience="city")
    connector = UpstreamConnector("changsha", settings, None, selections)  # type: ignore[arg-type]
    everything = UpstreamParts(connector.departments, lists=True, grades=True, name=True)
    query = connector.query(everything)
    document = parse(query, max_tokens=GraphQLSettings().max_tokens)
    assert validate(schema, document) == []
    assert "foodDrug {" in query
    assert "reports {" in query
    assert "source" in selections["lists"]
    assert "current" not in selections["lists"]
    assert "state" not in selections["environment"]  # computed, not a model field
    assert "expired" not in selections["credit_agency"]
    assert "inspections" not in selections["commerce"]  # not in CommerceSection
    assert "idNumber" in selections["commerce"]
    impersonal = upstream_selections(schema, personal=False)
    assert "idNumber" not in impersonal["commerce"]
    assert "legalRepresentative { name }" in impersonal["commerce"]


def test_a_registry_cannot_claim_a_source() -> None:
    raw = {
        "documentNumber": "1",
        "violationType": "v",
        "facts": "f",
        "legalBasis": "l",
        "kinds": ["FINE"],
        "content": "c",
        "decisionDate": "2024-01-01",
        "authority": {"name": "a"},
        "sourceUnit": "s",
        "severity": "GENERAL",
        "publicity": {
            "startsOn": "2024-01-01",
            "minimumUntil": "2024-04-01",
            "until": "2025-01-01",
        },
        "source": "changsha",
    }
    assert Penalty.model_validate(raw, context={"department": "x"}).source is None
    relayed = Penalty.model_validate(raw, context={SOURCE_CONTEXT: "hunan"})
    assert relayed.source == "hunan/changsha"
    assert "source" not in relayed.model_dump(by_alias=True)


def _commerce(name: str, penalties: int, registration: bool, source: str | None) -> CommerceRecord:
    authority = Authority(name="a")
    penalty = Penalty.model_construct(document_number=f"{name}-p", source=source)  # type: ignore[call-arg]
    return CommerceRecord(
        subject_id="91430111MA75AQYY4R",
        name=name,
        updated_at=datetime(2025, 1, 1, tzinfo=UTC),
        penalties=[penalty] * penalties,
        registration=Registration(
            name=name,
            enterprise_type="t",
            legal_representative=Person(name="p"),
            established_on=date(2020, 1, 1),
            address="a",
            business_scope="b",
            status=RegistrationStatus.ACTIVE,
            authority=authority,
        )
        if registration
        else None,
    )


def test_merging_appends_records_and_fills_what_is_missing() -> None:
    own = _commerce("own", 1, registration=False, source=None)
    city = _commerce("city", 2, registration=True, source="changsha")
    merged = merged_record(own, [city])
    assert isinstance(merged, CommerceRecord)
    assert merged is not own
    assert [p.source for p in merged.penalties] == [None, "changsha", "changsha"]
    assert merged.name == "own"
    assert merged.registration is not None
    assert merged.registration.name == "city"
    assert len(own.penalties) == 1
    assert own.registration is None
    assert merged_record(None, [city]) is city
    assert merged_record(own, []) is own


def _config(**changes: Any) -> dict[str, Any]:
    config: dict[str, Any] = {
        "connectors": {"environment": {"base_url": "http://127.0.0.1:9101"}},
        "federation": {"gateway_id": PROVINCE, "dev_secret": SECRET},
        "upstreams": {
            "changsha": {"url": "http://city/graphql", "region": "430100", "audience": "c"}
        },
    }
    config.update(changes)
    return config


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"federation": None}, "upstreams need a \\[federation\\] section"),
        (
            {
                "upstreams": {
                    "commerce": {"url": "http://c/graphql", "region": "430100", "audience": "c"}
                }
            },
            "is a department key",
        ),
        (
            {
                "upstreams": {
                    "changsha": {
                        "url": "http://c/graphql",
                        "region": "430100",
                        "audience": "c",
                        "departments": ["weather"],
                    }
                }
            },
            "have no section here",
        ),
        (
            {
                "upstreams": {
                    "changsha": {"url": "http://c/graphql", "region": "4301", "audience": "c"}
                }
            },
            "region",
        ),
        (
            {"federation": {"gateway_id": PROVINCE, "dev_secret": SECRET, "signing_key_file": "k"}},
            "exactly one",
        ),
        ({"federation": {"gateway_id": PROVINCE, "signing_key_file": "k"}}, "needs key_id"),
        (
            {"auth": {"gateways": {"credit-gateway-dev": {"dev_secret": SECRET}}}},
            "also the identity provider's issuer",
        ),
        ({"auth": {"gateways": {PROVINCE: {}}}}, "needs its keys"),
    ],
)
def test_configuration_rules(changes: dict[str, Any], message: str) -> None:
    config = {key: value for key, value in _config(**changes).items() if value is not None}
    with pytest.raises((ValidationError, ConfigError), match=message):
        settings_from_dict(config)


def test_a_disabled_upstream_needs_no_federation() -> None:
    upstream = {"url": "http://c/graphql", "region": "430100", "audience": "c", "enabled": False}
    config = _config(upstreams={"changsha": upstream})
    del config["federation"]
    assert settings_from_dict(config).enabled_upstreams == {}


def test_a_signing_key_must_be_rsa_or_p256(tmp_path: Path) -> None:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ec

    key = ec.generate_private_key(ec.SECP384R1())
    path = tmp_path / "key.pem"
    path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    with pytest.raises(ConfigError, match="RSA or EC P-256"):
        load_signing_key(path)
    path.write_text("not a key")
    with pytest.raises(ConfigError, match="not an unencrypted PEM private key"):
        load_signing_key(path)
    with pytest.raises(ConfigError, match="No such file"):
        load_signing_key(tmp_path / "missing.pem")
