"""Personal data is masked unless the principal holds the `pii` scope."""

from __future__ import annotations

import re
from typing import Any

import pytest

from registries.dataset import Dataset
from resolvers.masking import mask_id_number, mask_name
from tests.support import PUBLIC, Gateway, bearer

MASKED_ID = re.compile(r"^\d{6}\*{8}\d{3}[\dX]$")
WITH_PII = bearer("credit_office", scopes=["pii"], department="credit_office")
WITHOUT_PII = bearer("credit_office", department="credit_office")

PERSON = """
query($id: ID!, $matter: ID) {
  subject(id: $id, matter: $matter) { id kind name health { name industryBans { person { name
    idNumber } } } }
}
"""
COMPANY = """
query($id: ID!, $matter: ID) {
  subject(id: $id, matter: $matter) { id name commerce { registration { legalRepresentative {
    name idNumber } } } }
}
"""


def _banned_person(dataset: Dataset) -> str:
    for index in range(dataset.size):
        record = dataset.record("health", index)
        if record is not None and getattr(record, "industry_bans", None):
            return dataset.subject(index).id
    pytest.skip("no banned practitioner in this data set")


def test_mask_formats() -> None:
    assert mask_id_number("43010419900101123X") == "430104********123X"
    assert mask_name("张三丰") == "张**"
    assert mask_name("李四") == "李**"


@pytest.mark.parametrize("headers", [PUBLIC, WITHOUT_PII], ids=["public", "official without pii"])
async def test_a_natural_person_is_masked_without_pii(
    gateway: Gateway, samples: dict[str, str], headers: dict[str, str]
) -> None:
    body = await gateway.query(PERSON, {"id": samples["natural_person"]}, headers=headers)
    subject = body["data"]["subject"]
    assert subject["kind"] == "NATURAL_PERSON"
    assert MASKED_ID.match(subject["id"])
    assert subject["id"] == mask_id_number(samples["natural_person"])
    assert re.fullmatch(r".\*\*", subject["name"])
    assert re.fullmatch(r".\*\*", subject["health"]["name"])
    assert samples["natural_person"] not in str(body)


async def test_with_pii_nothing_is_masked(gateway: Gateway, samples: dict[str, str]) -> None:
    body = await gateway.query(PERSON, {"id": samples["natural_person"]}, headers=WITH_PII)
    subject = body["data"]["subject"]
    assert subject["id"] == samples["natural_person"]
    assert "*" not in subject["name"]


@pytest.mark.parametrize(
    ("headers", "masked"), [(PUBLIC, True), (WITHOUT_PII, True), (WITH_PII, False)]
)
async def test_legal_representative_id_number(
    gateway: Gateway,
    samples: dict[str, str],
    dataset: Dataset,
    headers: dict[str, str],
    masked: bool,
) -> None:
    body = await gateway.query(COMPANY, {"id": samples["clean"]}, headers=headers)
    representative: dict[str, Any] = body["data"]["subject"]["commerce"]["registration"][
        "legalRepresentative"
    ]
    index = dataset.index_of(samples["clean"])
    assert index is not None
    record: Any = dataset.record("commerce", index)
    real = record.registration.legal_representative
    assert representative["name"] == real.name  # public registration data
    assert body["data"]["subject"]["id"] == samples["clean"]  # an enterprise's code is public
    if masked:
        assert representative["idNumber"] == mask_id_number(real.id_number)
    else:
        assert representative["idNumber"] == real.id_number


async def test_a_banned_practitioner_is_masked(gateway: Gateway, dataset: Dataset) -> None:
    subject_id = _banned_person(dataset)
    masked = await gateway.query(PERSON, {"id": subject_id}, headers=PUBLIC)
    plain = await gateway.query(PERSON, {"id": subject_id}, headers=WITH_PII)
    masked_bans = masked["data"]["subject"]["health"]["industryBans"]
    plain_bans = plain["data"]["subject"]["health"]["industryBans"]
    assert masked_bans
    for shown, real in zip(masked_bans, plain_bans, strict=True):
        assert shown["person"]["name"] == mask_name(real["person"]["name"])
        if real["person"]["idNumber"]:
            assert shown["person"]["idNumber"] == mask_id_number(real["person"]["idNumber"])


async def test_masking_never_alters_the_cached_record(
    gateway: Gateway, samples: dict[str, str]
) -> None:
    first = await gateway.query(PERSON, {"id": samples["natural_person"]}, headers=PUBLIC)
    second = await gateway.query(PERSON, {"id": samples["natural_person"]}, headers=WITH_PII)
    third = await gateway.query(PERSON, {"id": samples["natural_person"]}, headers=PUBLIC)
    assert "*" not in second["data"]["subject"]["health"]["name"]
    assert first["data"] == third["data"]
