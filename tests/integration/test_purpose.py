"""Purpose: an official's lookup names a catalogued matter of their department, or a shared one."""

from __future__ import annotations

from pathlib import Path

import pytest

from gateway.catalogue_file import load_catalogue
from gateway.config_files import ConfigError
from gateway.settings import AccessSettings
from registries.server import RegistryServer
from tests.support import PUBLIC, Gateway, bearer, calls

QUERY = (
    "query($id: ID!, $matter: ID) { subject(id: $id, matter: $matter) { environment { name } } }"
)
ENV = bearer("environment_official", department="environment", region="430100")


async def _lookup(
    gateway: Gateway, subject: str, matter: str | None, headers: dict[str, str]
) -> dict:  # type: ignore[type-arg]
    response = await gateway.client.post(
        "/graphql",
        json={"query": QUERY, "variables": {"id": subject, "matter": matter}},
        headers=headers,
    )
    assert response.status_code == 200
    return response.json()  # type: ignore[no-any-return]


@pytest.mark.parametrize(
    ("matter", "code"),
    [
        (None, "PURPOSE_REQUIRED"),
        ("NO-SUCH-MATTER", "UNKNOWN_MATTER"),
        ("HE-MEDICAL-INSTITUTION", "FORBIDDEN"),  # another department's matter
    ],
)
async def test_an_official_without_a_valid_purpose_gets_nothing(
    gateway: Gateway,
    registries: dict[str, RegistryServer],
    samples: dict[str, str],
    matter: str | None,
    code: str,
) -> None:
    body = await _lookup(gateway, samples["clean"], matter, ENV)
    assert body["data"] == {"subject": None}
    assert body["errors"][0]["extensions"]["code"] == code
    assert body["errors"][0]["path"] == ["subject"]
    assert sum(calls(s) for s in registries.values()) == 0


@pytest.mark.parametrize(
    "matter", ["ENV-DISCHARGE-PERMIT", "BD-BIDDER-ADMISSION", "GV-FISCAL-FUNDS"]
)
async def test_own_and_shared_matters_are_purposes(
    gateway: Gateway, samples: dict[str, str], matter: str
) -> None:
    body = await _lookup(gateway, samples["clean"], matter, ENV)
    assert "errors" not in body
    assert body["data"]["subject"]["environment"] is not None


async def test_the_public_needs_no_matter(gateway: Gateway, samples: dict[str, str]) -> None:
    body = await _lookup(gateway, samples["clean"], None, PUBLIC)
    assert "errors" not in body


async def test_subjects_needs_a_purpose_too(gateway: Gateway, samples: dict[str, str]) -> None:
    response = await gateway.client.post(
        "/graphql",
        json={
            "query": "query($ids: [ID!]!) { subjects(ids: $ids) { environment { name } } }",
            "variables": {"ids": [samples["clean"]]},
        },
        headers=ENV,
    )
    assert response.json()["errors"][0]["extensions"]["code"] == "PURPOSE_REQUIRED"


async def test_the_catalogue_is_published_to_everyone(gateway: Gateway) -> None:
    query = (
        "query($d: String) { matters(department: $d) { id department shared sections measures } }"
    )
    for headers in (PUBLIC, ENV, bearer("auditor")):
        body = await gateway.query(query, {"d": None}, headers=headers)
        ids = {m["id"] for m in body["data"]["matters"]}
        assert {
            "ENV-EIA-AGENCY-REVIEW",
            "QA-SUPERVISION-SAMPLING",
            "HE-MEDICAL-INSTITUTION",
            "BD-BIDDER-ADMISSION",
            "ED-TEACHER-HIRING",
            "ED-RESEARCH-PROJECT",
            "CM-ECOMMERCE-SUPERVISION",
            "FD-MARKET-ACCESS",
        } <= ids
    body = await gateway.query(query, {"d": "environment"}, headers=PUBLIC)
    assert {m["department"] for m in body["data"]["matters"]} == {"environment"}


def test_the_shipped_catalogue_loads() -> None:
    catalogue = load_catalogue(AccessSettings().catalogue)
    assert len(catalogue.matters) >= 10
    assert any(m.shared for m in catalogue.matters)


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ('[[matters]]\nid = "X"\n', "matters.0.id"),
        (
            '[[matters]]\nid = "AB-C"\nname = "n"\ndepartment = "space"\nlegal_basis = "b"\n'
            'operating_method = "m"\n',
            "unknown department",
        ),
        (
            '[[matters]]\nid = "AB-C"\nname = "n"\ndepartment = "health"\nlegal_basis = "b"\n'
            'operating_method = "m"\nmeasures = ["ban"]\n',
            "malformed measure",
        ),
    ],
)
def test_a_bad_catalogue_is_refused(tmp_path: Path, text: str, words: str) -> None:
    path = tmp_path / "catalogue.toml"
    path.write_text(text)
    with pytest.raises(ConfigError, match=words):
        load_catalogue(path)


async def test_a_lookup_reads_only_the_sections_its_matter_uses(
    gateway: Gateway, registries: dict[str, RegistryServer], samples: dict[str, str]
) -> None:
    """ED-RESEARCH-PROJECT uses the commerce section only: the role could read environment, but
    this purpose does not need it, so it is neither fetched nor shown."""
    query = (
        "query($id: ID!, $matter: ID) { subject(id: $id, matter: $matter) "
        "{ environment { name } commerce { name } lists { department } sources { department } } }"
    )
    body = await gateway.query(
        query,
        {"id": samples["dishonest"], "matter": "ED-RESEARCH-PROJECT"},
        headers=bearer("credit_office", department="education"),
    )
    subject = body["data"]["subject"]
    assert subject["environment"] is None
    assert subject["commerce"] is not None
    (error,) = body["errors"]
    assert error["path"] == ["subject", "environment"]
    assert error["extensions"]["code"] == "FORBIDDEN"
    assert "ED-RESEARCH-PROJECT" in error["message"]
    assert {s["department"] for s in subject["sources"]} == {"commerce"}
    assert {e["department"] for e in subject["lists"]} <= {"commerce"}
    assert calls(registries["environment"]) == 0


async def test_the_catalogue_is_readable_even_by_a_role_the_policy_does_not_know(
    gateway: Gateway,
) -> None:
    body = await gateway.query("{ matters { id } }", headers=bearer("astronaut"))
    assert "errors" not in body
    assert body["data"]["matters"]
