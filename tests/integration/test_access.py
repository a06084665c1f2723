"""Field-level access: every way of writing a query reduces to the same coordinates.

The environment official may read the environment section, lists, grades and sources; health,
quality and commerce are denied. Each bypass attempt below must yield null + FORBIDDEN for the
denied sections, the granted data unchanged, and no call to a denied department's registry.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from gateway.config_files import ConfigError
from gateway.policy import load_policy
from gateway.settings import AccessSettings
from registries.server import RegistryServer
from schema import build_schema
from tests.support import PUBLIC, Gateway, bearer, calls, running_gateway

ENV = bearer("environment_official", department="environment", region="430100")
ENV_MATTER = "ENV-DISCHARGE-PERMIT"
DENIED = ("quality", "health", "commerce")

BYPASSES = {
    "plain": "query($id: ID!, $matter: ID) { subject(id: $id, matter: $matter) { environment { "
    "name } health { name } } }",
    "alias": "query($id: ID!, $matter: ID) { subject(id: $id, matter: $matter) { environment { "
    "name } h: health { name } } }",
    "named fragment": """
        query($id: ID!, $matter: ID) { subject(id: $id, matter: $matter) { environment { name }
          ...Secret } }
        fragment Secret on Subject { health { name } }""",
    "nested fragments": """
        query($id: ID!, $matter: ID) { subject(id: $id, matter: $matter) { ...A } }
        fragment A on Subject { environment { name } ...B }
        fragment B on Subject { ... on Subject { health { name } } }""",
    "inline fragment": """
        query($id: ID!, $matter: ID) {
          subject(id: $id, matter: $matter) { environment { name } ... on Subject { health {
            name } } } }""",
    "duplicated field": """
        query($id: ID!, $matter: ID) {
          subject(id: $id, matter: $matter) { environment { name } health { name } health {
            name } } }""",
    "include with a variable": """
        query($id: ID!, $matter: ID, $yes: Boolean = true) {
          subject(id: $id, matter: $matter) { environment { name } health @include(if: $yes) {
            name } } }""",
    "aliased subject": """
        query($id: ID!, $matter: ID) {
          a: subject(id: $id, matter: $matter) { environment { name } }
          b: subject(id: $id, matter: $matter) { health { name } } }""",
}


def _health_errors(body: dict[str, Any]) -> list[dict[str, Any]]:
    return [e for e in body.get("errors", []) if e["extensions"]["code"] == "FORBIDDEN"]


@pytest.mark.parametrize("query", list(BYPASSES.values()), ids=list(BYPASSES))
async def test_no_way_of_writing_the_query_reaches_a_denied_section(
    gateway: Gateway, registries: dict[str, RegistryServer], samples: dict[str, str], query: str
) -> None:
    body = await gateway.query(
        query, {"id": samples["penalised"], "matter": ENV_MATTER}, headers=ENV
    )
    forbidden = _health_errors(body)
    assert forbidden, body
    assert all(e["extensions"]["coordinate"] == "Subject.health" for e in forbidden)
    subjects = [v for v in body["data"].values() if v is not None]
    for subject in subjects:
        for key, value in subject.items():
            if key in ("health", "h"):
                assert value is None
    assert any(s.get("environment") for s in subjects)
    assert calls(registries["health"]) == 0
    assert calls(registries["environment"]) == 1


async def test_batch_subjects_cannot_widen_access(
    gateway: Gateway, registries: dict[str, RegistryServer], dataset: Any
) -> None:
    ids = [dataset.subject(i).id for i in range(5)]
    body = await gateway.query(
        "query($ids: [ID!]!, $matter: ID) { subjects(ids: $ids, matter: $matter) "
        "{ environment { name } health { name } commerce { name } } }",
        {"ids": ids, "matter": ENV_MATTER},
        headers=ENV,
    )
    assert [s["health"] for s in body["data"]["subjects"]] == [None] * 5
    paths = sorted(tuple(e["path"]) for e in _health_errors(body))
    assert paths == sorted(
        [("subjects", i, "health") for i in range(5)]
        + [("subjects", i, "commerce") for i in range(5)]
    )
    assert calls(registries["health"]) == 0
    assert calls(registries["commerce"]) == 0


async def test_introspection_reads_no_data(
    gateway: Gateway, registries: dict[str, RegistryServer]
) -> None:
    body = await gateway.query(
        '{ __schema { queryType { name } } __type(name: "HealthSection") { fields { name } } }',
        headers=ENV,
    )
    assert "errors" not in body
    assert body["data"]["__schema"]["queryType"]["name"] == "Query"
    assert sum(calls(s) for s in registries.values()) == 0


async def test_typename_and_identity_are_always_readable(
    gateway: Gateway, samples: dict[str, str]
) -> None:
    body = await gateway.query(
        "query($id: ID!, $matter: ID) { subject(id: $id, matter: $matter) { __typename id kind "
        "health { __typename } } }",
        {"id": samples["clean"], "matter": ENV_MATTER},
        headers=ENV,
    )
    subject = body["data"]["subject"]
    assert subject["__typename"] == "Subject"
    assert subject["id"] == samples["clean"]
    assert subject["health"] is None


async def test_a_denied_list_field_is_an_empty_list_not_a_null_subject(
    registries: dict[str, RegistryServer], samples: dict[str, str], tmp_path: Path
) -> None:
    policy = tmp_path / "policy.toml"
    policy.write_text(
        '[roles.narrow]\nfields = ["Query.subject"]\nsubtrees = ["Subject.environment"]\n'
    )
    async with running_gateway(registries, access={"policy": str(policy)}) as gateway:
        body = await gateway.query(
            "query($id: ID!, $matter: ID) { subject(id: $id, matter: $matter) { environment { "
            "name } lists { listName } } }",
            {"id": samples["dishonest"]},
            headers=bearer("narrow", department="credit_office"),
        )
    assert body["data"]["subject"]["lists"] == []
    assert body["data"]["subject"]["environment"] is not None
    assert _health_errors(body)[0]["path"] == ["subject", "lists"]


async def test_strict_mode_refuses_the_whole_operation(
    registries: dict[str, RegistryServer], samples: dict[str, str]
) -> None:
    async with running_gateway(registries, access={"strict": True}) as gateway:
        response = await gateway.post(
            {
                "query": BYPASSES["alias"],
                "variables": {"id": samples["clean"], "matter": ENV_MATTER},
            },
            headers=ENV,
        )
        allowed = await gateway.query(
            "query($id: ID!, $matter: ID) { subject(id: $id, matter: $matter) { environment { "
            "name } } }",
            {"id": samples["clean"], "matter": ENV_MATTER},
            headers=ENV,
        )
    assert response.status_code == 403
    body = response.json()
    assert "data" not in body
    assert body["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    assert "Subject.health" in body["errors"][0]["message"]
    assert allowed["data"]["subject"]["environment"] is not None
    assert calls(registries["health"]) == 0


@pytest.mark.parametrize(
    "headers",
    [
        bearer("astronaut"),  # a role the policy does not know grants nothing
        bearer("auditor"),  # a known role without profile access
    ],
    ids=["unknown role", "auditor"],
)
async def test_roles_without_grants_read_nothing(
    gateway: Gateway,
    registries: dict[str, RegistryServer],
    samples: dict[str, str],
    headers: dict[str, str],
) -> None:
    body = await gateway.query(
        "query($id: ID!, $matter: ID) { subject(id: $id, matter: $matter) { environment { name "
        "} } }",
        {"id": samples["clean"]},
        headers=headers,
    )
    assert body["data"] == {"subject": None}
    assert body["errors"][0]["extensions"] == {"code": "FORBIDDEN", "coordinate": "Query.subject"}
    assert sum(calls(s) for s in registries.values()) == 0


async def test_the_public_reads_sections_without_a_token(
    gateway: Gateway, samples: dict[str, str]
) -> None:
    body = await gateway.query(
        "query($id: ID!, $matter: ID) { subject(id: $id, matter: $matter) { environment { name "
        "} health { name } } }",
        {"id": samples["clean"]},
        headers=PUBLIC,
    )
    assert "errors" not in body
    assert body["data"]["subject"]["environment"] is not None


@pytest.mark.parametrize(
    ("authorization", "words"),
    [
        ("Bearer nonsense", "well-formed"),
        ("Basic dXNlcjpwYXNz", "Bearer"),
        (
            bearer("credit_office", ttl=__import__("datetime").timedelta(seconds=-120))[
                "authorization"
            ],
            "expired",
        ),
    ],
    ids=["garbage", "basic auth", "expired"],
)
async def test_a_bad_token_is_401_never_public(
    gateway: Gateway, registries: dict[str, RegistryServer], authorization: str, words: str
) -> None:
    response = await gateway.post(
        {
            "query": '{ subject(id: "91110000600037341L", matter: "CO-JOINT-REVIEW") { '
            "environment { name } } }"
        },
        headers={"authorization": authorization},
    )
    assert response.status_code == 401
    assert response.headers["www-authenticate"].startswith("Bearer")
    body = response.json()
    assert body["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
    assert words in body["errors"][0]["message"]
    assert sum(calls(s) for s in registries.values()) == 0


async def test_a_forged_token_is_401(gateway: Gateway) -> None:
    import jwt

    from tests.support import AUTH

    claims = jwt.decode(
        bearer("credit_office")["authorization"].split()[1],
        options={"verify_signature": False},
    )
    forged = jwt.encode(claims, "another-key-of-sufficient-length-000000", algorithm="HS256")
    response = await gateway.post(
        {"query": "{ __typename }"}, headers={"authorization": f"Bearer {forged}"}
    )
    assert response.status_code == 401
    assert AUTH.dev_secret is not None
    assert AUTH.dev_secret not in response.text


def test_the_shipped_policy_loads() -> None:
    policy = load_policy(AccessSettings().policy, build_schema()._schema)
    assert set(policy.roles) >= {
        "public",
        "credit_office",
        "environment_official",
        "quality_official",
        "health_official",
        "commerce_official",
        "auditor",
    }


@pytest.mark.parametrize(
    ("text", "words"),
    [
        (
            '[roles.x]\nfields = ["Query.subject"]\nsubtrees = [\n  "Subject.enviroment",\n]\n',
            ":4: role x: 'Subject.enviroment': Subject has no field",
        ),
        (
            '[roles.x]\nfields = ["Nope.field"]\n',
            ":2: role x: 'Nope.field': the schema has no object type",
        ),
        ('[roles.x]\nfields = ["subject"]\n', "is not a schema coordinate"),
        ("[roles.x]\nfeilds = []\n", "roles.x.feilds"),
        ("[roles.x\n", "not valid TOML"),
    ],
)
def test_a_bad_policy_is_refused_naming_the_line(tmp_path: Path, text: str, words: str) -> None:
    path = tmp_path / "policy.toml"
    path.write_text(text)
    with pytest.raises(ConfigError) as caught:
        load_policy(path, build_schema()._schema)
    assert words in str(caught.value)
