"""Three-level federation: a province gateway consults a city gateway as one more source.

Two real gateways on loopback, each with its own registries: the city's quality, health and
commerce registries hold another population (another dataset seed) than the province's, so what
the province shows of those subjects can only have come from the city; the city's environment
registry holds the province's population, so a province subject's environment section merges both.
The city applies its own policy (here: environment officials may not read its environment
section), purpose check and masking to the official the province forwards, and audits the lookup.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import httpx
import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from connectors.records import SubjectRecord
from gateway.audit import AuditEntry
from gateway.auth_settings import AuthSettings
from gateway.settings import DEFAULTS_DIR
from gateway.tokens import mint_dev_token
from registries.dataset import Dataset
from registries.faults import Faults
from registries.server import RegistryServer
from tests.support import (
    DEPARTMENTS,
    TEST_SECRET,
    Gateway,
    GatewayServer,
    bearer,
    configured_gateway,
    gateway_config,
    serving,
)

PROVINCE_ID = "hunan-province"
PROVINCE_SECRET = "the-province-signs-service-tokens-with-this"
CITY_AUDIENCE = "changsha-gateway"
CITY_SEED = 11
UPSTREAM_TIMEOUT_S = 1.0
OFFICE = bearer(
    "credit_office",
    scopes=["pii"],
    department="credit_office",
    region="430000",
    subject="official-42",
    name="刘洋",
)
OFFICE_MATTER = "CO-JOINT-REVIEW"
ENV = bearer("environment_official", department="environment", subject="env-7")
ENV_MATTER = "ENV-DISCHARGE-PERMIT"


@pytest.fixture(scope="module")
def city_dataset() -> Dataset:
    return Dataset(size=3000, seed=CITY_SEED)


@pytest.fixture(scope="module")
def city_samples(city_dataset: Dataset) -> dict[str, str]:
    return city_dataset.samples()


@pytest.fixture(scope="module")
async def city_registry_servers(
    dataset: Dataset, city_dataset: Dataset
) -> AsyncIterator[dict[str, RegistryServer]]:
    servers = {
        department: RegistryServer(
            department, dataset if department == "environment" else city_dataset
        )
        for department in DEPARTMENTS
    }
    async with serving(servers) as running:
        yield running


@pytest.fixture
async def city_registries(
    city_registry_servers: dict[str, RegistryServer],
) -> AsyncIterator[dict[str, RegistryServer]]:
    for server in city_registry_servers.values():
        server.state.faults.reset()
    yield city_registry_servers
    for server in city_registry_servers.values():
        server.state.faults.reset()


def _city_policy(tmp: Path) -> Path:
    """The shipped policy, except that the city keeps its environment section from environment
    officials (a city's own choice, which the province must respect)."""
    shipped = (DEFAULTS_DIR / "policy.toml").read_text(encoding="utf-8")
    granted = '"Query.measures", "Subject.environment", "Subject.lists"'
    assert granted in shipped
    path = tmp / "city-policy.toml"
    path.write_text(shipped.replace(granted, '"Query.measures", "Subject.lists"'), "utf-8")
    return path


def city_config(
    registries: dict[str, RegistryServer], policy: Path, trusted: dict[str, Any]
) -> dict[str, Any]:
    config = gateway_config(registries, access={"policy": str(policy)})
    config["auth"] = {
        "dev_secret": TEST_SECRET,
        "audience": CITY_AUDIENCE,
        "gateways": {PROVINCE_ID: trusted},
    }
    return config


@pytest.fixture(scope="module")
async def city(
    city_registry_servers: dict[str, RegistryServer], tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[GatewayServer]:
    policy = _city_policy(tmp_path_factory.mktemp("city"))
    trusted = {"dev_secret": PROVINCE_SECRET}
    async with GatewayServer(city_config(city_registry_servers, policy, trusted)) as server:
        yield server


def province_config(
    registries: dict[str, RegistryServer],
    city_url: str,
    federation: dict[str, Any] | None = None,
) -> dict[str, Any]:
    config = gateway_config(registries)
    config["federation"] = federation or {"gateway_id": PROVINCE_ID, "dev_secret": PROVINCE_SECRET}
    config["upstreams"] = {
        "changsha": {
            "url": city_url,
            "region": "430100",
            "audience": CITY_AUDIENCE,
            "timeout_s": UPSTREAM_TIMEOUT_S,
            "connect_timeout_s": 0.5,
        }
    }
    return config


@pytest.fixture
async def province(
    registries: dict[str, RegistryServer],
    city: GatewayServer,
    city_registries: dict[str, RegistryServer],
) -> AsyncIterator[Gateway]:
    if city.app is None:
        await city.start()
    async with configured_gateway(province_config(registries, city.url)) as gateway:
        yield gateway


async def _entries(services: Any) -> list[AuditEntry]:
    return [entry async for entry in services.audit.store.iter_entries()]


async def _lookup(
    province: Gateway,
    query: str,
    subject_id: str,
    matter: str | None,
    headers: dict[str, str],
    request_id: str,
) -> dict[str, Any]:
    body = await province.query(
        query,
        {"id": subject_id, "matter": matter},
        headers={**headers, "x-request-id": request_id},
    )
    return body


def _rows(subject: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {row["department"]: row for row in subject["sources"]}


CITY_ONLY = """query($id: ID!, $matter: ID) { subject(id: $id, matter: $matter) {
  name
  quality { penalties { documentNumber source } inspections { reportNumber source } }
  commerce { registration { name source } listEntries { listType department source } }
  lists { department listType source }
  grades { department scheme source }
  sources { department status message region }
} }"""


async def test_province_profile_shows_the_records_only_the_city_holds(
    province: Gateway,
    city: GatewayServer,
    dataset: Dataset,
    city_dataset: Dataset,
    city_samples: dict[str, str],
) -> None:
    subject_id = city_samples["dishonest"]
    assert dataset.index_of(subject_id) is None  # the province's registries do not hold it
    index = city_dataset.index_of(subject_id)
    assert index is not None
    body = await _lookup(province, CITY_ONLY, subject_id, OFFICE_MATTER, OFFICE, "fed-only-1")
    assert "errors" not in body, body["errors"]
    subject = body["data"]["subject"]
    rows = _rows(subject)
    assert {d: rows[d]["status"] for d in DEPARTMENTS} == dict.fromkeys(DEPARTMENTS, "NOT_FOUND")
    assert rows["changsha"]["status"] == "OK"
    assert rows["changsha"]["region"] == "430100"
    assert rows["environment"]["region"] is None

    commerce = city_dataset.record("commerce", index)
    assert commerce is not None
    assert subject["name"] == commerce.registration.name  # type: ignore[attr-defined]
    assert subject["commerce"]["registration"]["source"] == "changsha"
    assert [(e["listType"], e["source"]) for e in subject["commerce"]["listEntries"]] == [
        (e.list_type, "changsha") for e in commerce.list_entries
    ]
    quality = city_dataset.record("quality", index)
    if quality is None:
        assert subject["quality"] is None
    else:
        assert [p["documentNumber"] for p in subject["quality"]["penalties"]] == [
            p.document_number for p in quality.penalties
        ]
    held = [r for r in (city_dataset.record(d, index) for d in DEPARTMENTS) if r is not None]
    expected = sorted((e.department, e.list_type) for r in held for e in r.list_entries)
    assert sorted((e["department"], e["listType"]) for e in subject["lists"]) == expected
    assert any(e["listType"] == "SERIOUS_DISHONEST" for e in subject["lists"])
    assert {e["source"] for e in subject["lists"]} == {"changsha"}
    assert {g["source"] for g in subject["grades"]} <= {"changsha"}


async def test_readiness_lists_the_city(province: Gateway, city: GatewayServer) -> None:
    response = await province.client.get("/readyz")
    assert response.json()["sources"]["changsha"] == "up"
    await city.stop()
    try:
        response = await province.client.get("/readyz")
    finally:
        await city.start()
    assert response.json() == {
        "status": "degraded",
        "sources": {**dict.fromkeys(DEPARTMENTS, "up"), "changsha": "down"},
        "breakers": dict.fromkeys([*DEPARTMENTS, "changsha"], "closed"),
    }


async def test_both_audits_record_the_lookup(
    province: Gateway, city: GatewayServer, city_samples: dict[str, str]
) -> None:
    subject_id = city_samples["dishonest"]
    body = await _lookup(province, CITY_ONLY, subject_id, OFFICE_MATTER, OFFICE, "fed-audit-1")
    assert "errors" not in body
    (mine,) = await _entries(province.services)
    assert mine.request_id == "fed-audit-1"
    assert mine.principal == "official-42"
    assert mine.via is None
    assert mine.sources["changsha"] == "OK"
    assert mine.outcome == "OK"
    theirs = [e for e in await _entries(city.services) if e.request_id == "fed-audit-1"]
    (entry,) = theirs
    assert entry.subject == subject_id
    assert entry.principal == "official-42"
    assert entry.principal_name == "刘洋"
    assert entry.department == "credit_office"
    assert entry.region == "430000"
    assert entry.matter == OFFICE_MATTER
    assert entry.via == f"gateway {PROVINCE_ID}"
    assert "Subject.lists" in entry.returned
    assert {"commerce", "quality"} <= set(entry.sources)
    # The province asked only for what its client selected: no legal representative's id number
    assert "Person.idNumber" not in entry.returned


async def test_personal_identifiers_are_asked_of_the_city_only_when_selected(
    province: Gateway, city: GatewayServer, city_dataset: Dataset, city_samples: dict[str, str]
) -> None:
    subject_id = city_samples["clean"]
    index = city_dataset.index_of(subject_id)
    commerce = city_dataset.record("commerce", index)  # type: ignore[arg-type]
    assert commerce is not None
    query = """query($id: ID!, $matter: ID) { subject(id: $id, matter: $matter) {
      commerce { registration { legalRepresentative { name idNumber } } } } }"""
    body = await _lookup(province, query, subject_id, OFFICE_MATTER, OFFICE, "fed-pii-1")
    representative = body["data"]["subject"]["commerce"]["registration"]["legalRepresentative"]
    assert representative == {
        "name": commerce.registration.legal_representative.name,  # type: ignore[attr-defined]
        "idNumber": commerce.registration.legal_representative.id_number,  # type: ignore[attr-defined]
    }
    (entry,) = [e for e in await _entries(city.services) if e.request_id == "fed-pii-1"]
    assert "Person.idNumber" in entry.returned
    assert entry.unmasked_pii


async def test_a_province_subject_shows_both_gateways_records_in_one_section(
    province: Gateway, dataset: Dataset, samples: dict[str, str]
) -> None:
    """The city's environment registry holds the province's population: the section is the
    province's record followed by the city's, each marked by where it came from."""
    subject_id = samples["penalised"]
    index = dataset.index_of(subject_id)
    assert index is not None
    record = dataset.record("environment", index)
    assert record is not None
    query = """query($id: ID!, $matter: ID) { subject(id: $id, matter: $matter) {
      environment { penalties { documentNumber source } grades { value source } }
      sources { department status } } }"""
    body = await _lookup(province, query, subject_id, OFFICE_MATTER, OFFICE, "fed-merge-1")
    assert "errors" not in body, body["errors"]
    section = body["data"]["subject"]["environment"]
    own = [p.document_number for p in record.penalties]
    assert [(p["documentNumber"], p["source"]) for p in section["penalties"]] == [
        *((n, None) for n in own),
        *((n, "changsha") for n in own),
    ]
    assert [g["source"] for g in section["grades"]] == [None] * len(record.grades) + [
        "changsha"
    ] * len(record.grades)
    # the cached province record was not altered by the merge
    cached = province.services.sources["environment"].cache.get(subject_id)
    assert cached is not None
    assert cached[0].record is not None
    assert [p.source for p in cached[0].record.penalties] == [None] * len(own)


async def test_the_citys_policy_applies_to_the_forwarded_official(
    province: Gateway, city: GatewayServer, dataset: Dataset, samples: dict[str, str]
) -> None:
    """The city keeps its environment section from environment officials: the province still
    shows its own, the city's grades come through, and the city's row says what it withheld."""
    subject_id = _first(
        dataset, lambda r: r is not None and bool(r.penalties) and bool(r.grades), "environment"
    )
    query = """query($id: ID!, $matter: ID) { subject(id: $id, matter: $matter) {
      environment { penalties { documentNumber source } }
      grades { department source }
      sources { department status message } } }"""
    body = await _lookup(province, query, subject_id, ENV_MATTER, ENV, "fed-policy-1")
    assert "errors" not in body, body["errors"]
    subject = body["data"]["subject"]
    assert {p["source"] for p in subject["environment"]["penalties"]} == {None}
    assert subject["environment"]["penalties"]
    row = _rows(subject)["changsha"]
    assert row["status"] == "FORBIDDEN"
    assert "environment FORBIDDEN" in row["message"]
    assert "Subject.environment" in row["message"]
    assert {g["source"] for g in subject["grades"]} == {None, "changsha"}
    (entry,) = [e for e in await _entries(city.services) if e.request_id == "fed-policy-1"]
    assert entry.principal == "env-7"
    assert entry.matter == ENV_MATTER
    assert "Subject.environment" in entry.denied
    assert entry.via == f"gateway {PROVINCE_ID}"
    (mine,) = await _entries(province.services)
    assert mine.sources["changsha"] == "FORBIDDEN"
    assert mine.outcome == "PARTIAL"


async def test_a_forwarded_official_without_pii_gets_masked_data_from_the_city(
    province: Gateway, city: GatewayServer, city_dataset: Dataset, city_samples: dict[str, str]
) -> None:
    person = city_samples["natural_person"]
    index = city_dataset.index_of(person)
    assert index is not None
    health = city_dataset.record("health", index)
    assert health is not None
    query = """query($id: ID!, $matter: ID) { subject(id: $id, matter: $matter) {
      id name health { name } sources { department status } } }"""
    no_pii = bearer("credit_office", department="credit_office", subject="official-43")
    body = await _lookup(province, query, person, OFFICE_MATTER, no_pii, "fed-mask-1")
    assert "errors" not in body, body["errors"]
    subject = body["data"]["subject"]
    assert subject["name"] == health.name[0] + "**"
    assert subject["health"]["name"] == health.name[0] + "**"
    (entry,) = [e for e in await _entries(city.services) if e.request_id == "fed-mask-1"]
    assert entry.masked
    assert not entry.unmasked_pii

    body = await _lookup(province, query, person, OFFICE_MATTER, OFFICE, "fed-mask-2")
    assert body["data"]["subject"]["name"] == health.name
    (entry,) = [e for e in await _entries(city.services) if e.request_id == "fed-mask-2"]
    assert entry.unmasked_pii
    assert not entry.masked


MEASURES = """query($id: ID!, $matter: ID) { subject(id: $id, matter: $matter) {
  jointMeasures { complete missingDepartments
    restrictions { measure { id } bases { entry { listType department source } } } } } }"""


def _missing(evaluation: dict[str, Any]) -> list[str]:
    """What did not answer, leaving out the departments these four-registry gateways lack (the
    office's matter uses all eleven, so those always make an evaluation incomplete here)."""
    return [d for d in evaluation["missingDepartments"] if not d.endswith("(not configured)")]


async def test_joint_measures_count_the_citys_list_entries(
    province: Gateway, city: GatewayServer, city_samples: dict[str, str]
) -> None:
    subject_id = city_samples["dishonest"]
    body = await _lookup(province, MEASURES, subject_id, OFFICE_MATTER, OFFICE, "fed-jm-1")
    assert "errors" not in body, body["errors"]
    evaluation = body["data"]["subject"]["jointMeasures"]
    assert _missing(evaluation) == []
    bases = [b["entry"] for m in evaluation["restrictions"] for b in m["bases"] if b["entry"]]
    assert {"listType": "SERIOUS_DISHONEST", "department": "commerce", "source": "changsha"} in (
        bases
    )

    await city.stop()
    try:
        body = await _lookup(province, MEASURES, subject_id, OFFICE_MATTER, OFFICE, "fed-jm-2")
    finally:
        await city.start()
    evaluation = body["data"]["subject"]["jointMeasures"]
    assert evaluation["complete"] is False
    assert _missing(evaluation) == ["changsha"]
    assert evaluation["restrictions"] == []


async def test_a_city_registry_failure_is_a_partial_answer(
    province: Gateway, city_registries: dict[str, RegistryServer], city_samples: dict[str, str]
) -> None:
    city_registries["commerce"].state.faults.replace(Faults(error_rate=1))
    subject_id = city_samples["penalised"]  # not looked up before, so not in the city's cache
    body = await _lookup(province, CITY_ONLY, subject_id, OFFICE_MATTER, OFFICE, "fed-fault-1")
    assert "errors" not in body, body["errors"]
    subject = body["data"]["subject"]
    row = _rows(subject)["changsha"]
    assert row["status"] == "ERROR"
    assert row["message"].startswith("The changsha gateway answered in part: commerce ERROR")
    assert subject["commerce"] is None  # the province holds none, the city could not say
    assert subject["quality"]["penalties"]  # the city's other registries still answered
    assert {e["department"] for e in subject["lists"]} <= {"quality", "health"}
    body = await _lookup(province, MEASURES, subject_id, OFFICE_MATTER, OFFICE, "fed-fault-2")
    evaluation = body["data"]["subject"]["jointMeasures"]
    assert evaluation["complete"] is False
    assert _missing(evaluation) == ["changsha:commerce"]


async def test_when_the_city_is_down_only_its_source_degrades(
    province: Gateway, city: GatewayServer, samples: dict[str, str]
) -> None:
    await city.stop()
    try:
        started = time.perf_counter()
        body = await _lookup(
            province, CITY_ONLY, samples["dishonest"], OFFICE_MATTER, OFFICE, "fed-down-1"
        )
        elapsed = time.perf_counter() - started
    finally:
        await city.start()
    assert elapsed < UPSTREAM_TIMEOUT_S
    assert "errors" not in body, body["errors"]
    subject = body["data"]["subject"]
    assert subject["commerce"]["registration"]["source"] is None
    assert any(e["listType"] == "SERIOUS_DISHONEST" for e in subject["lists"])
    rows = _rows(subject)
    assert {rows[d]["status"] for d in DEPARTMENTS} == {"OK"}
    assert rows["changsha"]["status"] == "ERROR"
    assert rows["changsha"]["message"] == "The changsha gateway could not be reached."
    (mine,) = await _entries(province.services)
    assert mine.sources["changsha"] == "ERROR"
    assert mine.outcome == "PARTIAL"


async def test_a_slow_city_costs_one_timeout(
    province: Gateway, city_registries: dict[str, RegistryServer], samples: dict[str, str]
) -> None:
    city_registries["commerce"].state.faults.replace(Faults(latency_ms=1500))
    started = time.perf_counter()
    body = await _lookup(province, CITY_ONLY, samples["clean"], OFFICE_MATTER, OFFICE, "fed-slow-1")
    elapsed = time.perf_counter() - started
    assert elapsed < UPSTREAM_TIMEOUT_S + 0.4
    subject = body["data"]["subject"]
    assert subject["commerce"] is not None
    row = _rows(subject)["changsha"]
    assert row["status"] == "TIMEOUT"
    assert row["message"] == f"The changsha gateway did not answer within {UPSTREAM_TIMEOUT_S:g} s."


async def test_a_city_that_stays_down_opens_its_circuit_then_recovers(
    registries: dict[str, RegistryServer],
    city: GatewayServer,
    city_registries: dict[str, RegistryServer],
    samples: dict[str, str],
) -> None:
    """An upstream gets the same breaker as a registry: after two failed calls the province
    stops calling the city (its row reads CIRCUIT_OPEN, its own sections still resolve), and
    once the city is back, the probe after the open period closes the breaker."""
    config = province_config(registries, city.url)
    config["upstreams"]["changsha"].update(
        retry={"attempts": 1}, breaker={"min_calls": 2, "failure_rate": 0.5, "open_s": 0.3}
    )
    async with configured_gateway(config) as province:
        if city.app is None:
            await city.start()
        await city.stop()
        try:
            states = []
            for n in range(3):
                body = await _lookup(
                    province, CITY_ONLY, samples["clean"], OFFICE_MATTER, OFFICE, f"fed-open-{n}"
                )
                rows = _rows(body["data"]["subject"])
                assert {rows[d]["status"] for d in DEPARTMENTS} == {"OK"}
                states.append(rows["changsha"]["status"])
            assert "circuit is open" in rows["changsha"]["message"]
            ready = (await province.client.get("/readyz")).json()
        finally:
            await city.start()
        assert states == ["ERROR", "ERROR", "CIRCUIT_OPEN"]
        assert ready["breakers"]["changsha"] == "open"

        stop = time.monotonic() + 10
        while True:
            body = await _lookup(
                province, CITY_ONLY, samples["clean"], OFFICE_MATTER, OFFICE, "fed-back"
            )
            status = _rows(body["data"]["subject"])["changsha"]["status"]
            if status == "OK" or time.monotonic() > stop:
                break
            assert status == "CIRCUIT_OPEN"
            await asyncio.sleep(0.05)
        assert status == "OK"
        ready = (await province.client.get("/readyz")).json()
        assert ready["breakers"]["changsha"] == "closed"


async def test_service_tokens_from_an_untrusted_key_are_refused(
    registries: dict[str, RegistryServer],
    city: GatewayServer,
    city_registries: dict[str, RegistryServer],
    city_samples: dict[str, str],
) -> None:
    forged = {"gateway_id": PROVINCE_ID, "dev_secret": "x" * 40}
    async with configured_gateway(province_config(registries, city.url, forged)) as province:
        body = await _lookup(
            province, CITY_ONLY, city_samples["dishonest"], OFFICE_MATTER, OFFICE, "fed-forged"
        )
    row = _rows(body["data"]["subject"])["changsha"]
    assert row["status"] == "ERROR"
    assert row["message"] == (
        "The changsha gateway refused the service token "
        "(UNAUTHENTICATED: The token's signature is not valid.)."
    )
    assert not [e for e in await _entries(city.services) if e.request_id == "fed-forged"]


async def test_only_trusted_gateways_may_act_for_an_official(
    city: GatewayServer, city_samples: dict[str, str]
) -> None:
    """A token carrying `act` from the identity provider's issuer (not a trusted gateway), and a
    token of the province's issuer without `act`, are both refused with 401."""
    idp = AuthSettings(dev_secret=TEST_SECRET, audience=CITY_AUDIENCE)
    claims = {
        "aud": CITY_AUDIENCE,
        "sub": "official-42",
        "exp": int(time.time()) + 60,
        "roles": ["credit_office"],
        "department": "credit_office",
    }
    acting = jwt.encode({**claims, "iss": idp.issuer, "act": {"sub": "someone"}}, TEST_SECRET)
    no_actor = jwt.encode({**claims, "iss": PROVINCE_ID}, PROVINCE_SECRET)
    plain = mint_dev_token(idp, ["credit_office"], department="credit_office")
    query = {"query": "{ matters { id } }"}
    async with _client(city) as client:
        for token, message in (
            (acting, "its issuer is not a trusted gateway"),
            (no_actor, "must name that gateway as its actor"),
        ):
            response = await client.post(city.url, json=query, headers=_auth(token))
            assert response.status_code == 401
            (error,) = response.json()["errors"]
            assert error["extensions"]["code"] == "UNAUTHENTICATED"
            assert message in error["message"]
        response = await client.post(city.url, json=query, headers=_auth(plain))
        assert response.status_code == 200


async def test_a_service_token_serves_only_its_matter(
    city: GatewayServer, city_samples: dict[str, str]
) -> None:
    now = int(time.time())
    token = jwt.encode(
        {
            "iss": PROVINCE_ID,
            "aud": CITY_AUDIENCE,
            "sub": "official-42",
            "iat": now,
            "exp": now + 60,
            "roles": ["credit_office"],
            "department": "credit_office",
            "act": {"sub": PROVINCE_ID},
            "matter": OFFICE_MATTER,
        },
        PROVINCE_SECRET,
    )
    query = "query($id: ID!, $m: ID) { subject(id: $id, matter: $m) { name } }"
    async with _client(city) as client:
        response = await client.post(
            city.url,
            json={
                "query": query,
                "variables": {"id": city_samples["clean"], "m": "GV-FISCAL-FUNDS"},
            },
            headers=_auth(token),
        )
    (error,) = response.json()["errors"]
    assert error["extensions"]["code"] == "FORBIDDEN"
    assert "forwarded for matter CO-JOINT-REVIEW" in error["message"]


async def test_service_tokens_signed_with_a_key_pair(
    registries: dict[str, RegistryServer],
    city_registries: dict[str, RegistryServer],
    city_samples: dict[str, str],
    tmp_path: Path,
) -> None:
    """Production keys: the province signs ES256 with a PEM key file; the city verifies with the
    province's public key from a JWKS file, looked up by `kid`."""
    key = ec.generate_private_key(ec.SECP256R1())
    pem = tmp_path / "province.pem"
    pem.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    public = jwt.algorithms.ECAlgorithm.to_jwk(key.public_key(), as_dict=True)
    jwks = tmp_path / "province.jwks.json"
    jwks.write_text(json.dumps({"keys": [{**public, "kid": "province-2025", "use": "sig"}]}))
    policy = _city_policy(tmp_path)
    config = city_config(city_registries, policy, {"jwks_file": str(jwks)})
    federation = {
        "gateway_id": PROVINCE_ID,
        "signing_key_file": str(pem),
        "key_id": "province-2025",
    }
    async with (
        GatewayServer(config) as city,
        configured_gateway(province_config(registries, city.url, federation)) as province,
    ):
        body = await _lookup(
            province, CITY_ONLY, city_samples["dishonest"], OFFICE_MATTER, OFFICE, "fed-es256"
        )
        assert _rows(body["data"]["subject"])["changsha"]["status"] == "OK"
        (entry,) = await _entries(city.services)
        assert entry.via == f"gateway {PROVINCE_ID}"


def _first(
    dataset: Dataset, wanted: Callable[[SubjectRecord | None], bool], department: str
) -> str:
    """The first subject whose record of `department` is `wanted`."""
    for index in range(dataset.size):
        if wanted(dataset.record(department, index)):
            return dataset.subject(index).id
    raise LookupError(f"no such subject in {dataset!r}")


def _auth(token: str) -> dict[str, str]:
    return {"authorization": f"Bearer {token}"}


def _client(city: GatewayServer) -> httpx.AsyncClient:
    return httpx.AsyncClient(timeout=5)
