"""The public sees only what is publicly disclosed today; officials in a matter see everything."""

from __future__ import annotations

from typing import Any

import pytest

from connectors.records import PublicityState, today_in_china
from registries.dataset import Dataset
from tests.support import PUBLIC, Gateway

SECTIONS = ("environment", "quality", "health", "commerce")
QUERY = """
query($id: ID!, $matter: ID) {
  subject(id: $id, matter: $matter) {
    environment { penalties { documentNumber publicity { state } } listEntries { current } }
    quality { penalties { documentNumber publicity { state } } listEntries { current } }
    health { penalties { documentNumber publicity { state } } listEntries { current } }
    commerce { penalties { documentNumber publicity { state } } listEntries { current } }
    lists { current listType }
  }
}
"""


def _subject_with(dataset: Dataset, hidden: bool, exited: bool) -> str:
    today = today_in_china()
    for index in range(dataset.size):
        records = [dataset.record(d, index) for d in SECTIONS]
        present = [r for r in records if r is not None]
        has_hidden = any(
            p.publicity.state_on(today) is not PublicityState.PUBLIC
            for r in present
            for p in r.penalties
        )
        has_exited = any(not e.is_current_on(today) for r in present for e in r.list_entries)
        if (not hidden or has_hidden) and (not exited or has_exited):
            return dataset.subject(index).id
    pytest.skip("no such subject in this data set")


def _penalties(subject: dict[str, Any]) -> list[dict[str, Any]]:
    return [p for d in SECTIONS if subject[d] for p in subject[d]["penalties"]]


async def test_hidden_penalties_are_hidden_from_the_public_only(
    gateway: Gateway, dataset: Dataset
) -> None:
    subject_id = _subject_with(dataset, hidden=True, exited=False)
    public = (await gateway.query(QUERY, {"id": subject_id}, headers=PUBLIC))["data"]["subject"]
    official = (await gateway.query(QUERY, {"id": subject_id}))["data"]["subject"]
    assert {p["publicity"]["state"] for p in _penalties(public)} <= {"PUBLIC"}
    official_states = {p["publicity"]["state"] for p in _penalties(official)}
    assert official_states & {"REPAIRED_HIDDEN", "EXPIRED_HIDDEN"}
    shown = {p["documentNumber"] for p in _penalties(public)}
    visible = {
        p["documentNumber"] for p in _penalties(official) if p["publicity"]["state"] == "PUBLIC"
    }
    assert shown == visible


async def test_list_entries_no_longer_current_are_hidden_from_the_public(
    gateway: Gateway, dataset: Dataset
) -> None:
    subject_id = _subject_with(dataset, hidden=False, exited=True)
    public = (await gateway.query(QUERY, {"id": subject_id}, headers=PUBLIC))["data"]["subject"]
    official = (await gateway.query(QUERY, {"id": subject_id}))["data"]["subject"]
    assert all(entry["current"] for entry in public["lists"])
    assert any(not entry["current"] for entry in official["lists"])
    for department in SECTIONS:
        if public[department]:
            assert all(e["current"] for e in public[department]["listEntries"])


async def test_the_cache_serves_both_views_from_one_record(
    gateway: Gateway, dataset: Dataset
) -> None:
    subject_id = _subject_with(dataset, hidden=True, exited=False)
    first = await gateway.query(QUERY, {"id": subject_id}, headers=PUBLIC)
    await gateway.query(QUERY, {"id": subject_id})
    again = await gateway.query(QUERY, {"id": subject_id}, headers=PUBLIC)
    assert first["data"] == again["data"]
