"""Usage reports from the audit store: lookups per department, matter and outcome in a period."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime, timedelta

import orjson
import pytest

from gateway.audit.entry import Outcome
from gateway.audit.report import render_csv, render_json, usage_report
from gateway.audit.store import AuditStore, UsageRow
from tests.audit.support import event

MARCH = datetime(2025, 3, 1, tzinfo=UTC)
APRIL = datetime(2025, 4, 1, tzinfo=UTC)


async def _month_of_lookups(store: AuditStore) -> None:
    inside = MARCH + timedelta(days=3)
    await store.append(
        [
            # environment officials in two matters
            *(event(i, at=inside + timedelta(minutes=i)) for i in range(3)),
            event(3, at=inside, outcome=Outcome.PARTIAL),
            event(4, at=inside, matter="ENV-DISCHARGE-PERMIT"),
            event(5, at=inside, matter=None, outcome=Outcome.DENIED),
            # a health official
            event(6, at=inside, department="health", matter="HEALTH-MED-SUPERVISION"),
            # the public
            event(7, at=inside, department=None, matter=None),
            # the period's bounds: from is inclusive, to exclusive
            event(8, at=MARCH),
            event(9, at=APRIL),
            event(10, at=MARCH - timedelta(microseconds=1)),
        ]
    )


async def test_usage_counts_per_department_matter_and_outcome(store: AuditStore) -> None:
    await _month_of_lookups(store)
    rows = await store.usage(MARCH, APRIL)
    assert rows == [
        UsageRow("environment", "ENV-DISCHARGE-PERMIT", "OK", 1),
        UsageRow("environment", "ENV-EIA-REVIEW", "OK", 4),
        UsageRow("environment", "ENV-EIA-REVIEW", "PARTIAL", 1),
        UsageRow("environment", None, "DENIED", 1),
        UsageRow("health", "HEALTH-MED-SUPERVISION", "OK", 1),
        UsageRow(None, None, "OK", 1),
    ]
    assert await store.usage(MARCH, APRIL, department="health") == [
        UsageRow("health", "HEALTH-MED-SUPERVISION", "OK", 1)
    ]
    assert await store.usage(APRIL, APRIL + timedelta(days=1)) == [
        UsageRow("environment", "ENV-EIA-REVIEW", "OK", 1)
    ]


async def test_period_bounds_in_other_zones_are_the_same_instants(store: AuditStore) -> None:
    await _month_of_lookups(store)
    shanghai = MARCH.astimezone(datetime.fromisoformat("2025-01-01T00:00+08:00").tzinfo)
    assert await store.usage(shanghai, APRIL) == await store.usage(MARCH, APRIL)


async def test_empty_or_naive_period_is_refused(store: AuditStore) -> None:
    with pytest.raises(ValueError, match="empty"):
        await store.usage(APRIL, MARCH)
    with pytest.raises(ValueError, match="timezone"):
        await store.usage(MARCH.replace(tzinfo=None), APRIL)


async def test_csv_and_json_renderings(store: AuditStore) -> None:
    await _month_of_lookups(store)
    report = await usage_report(store, MARCH, APRIL, department="environment")
    assert report.total == 7
    lines = list(csv.reader(io.StringIO(render_csv(report))))
    assert lines == [
        ["department", "matter", "outcome", "lookups"],
        ["environment", "ENV-DISCHARGE-PERMIT", "OK", "1"],
        ["environment", "ENV-EIA-REVIEW", "OK", "4"],
        ["environment", "ENV-EIA-REVIEW", "PARTIAL", "1"],
        ["environment", "", "DENIED", "1"],
    ]
    document = orjson.loads(render_json(report))
    assert document["from"] == "2025-03-01T00:00:00.000000Z"
    assert document["to"] == "2025-04-01T00:00:00.000000Z"
    assert document["department"] == "environment"
    assert document["total"] == 7
    assert document["rows"][3] == {
        "department": "environment",
        "matter": None,
        "outcome": "DENIED",
        "lookups": 1,
    }


async def test_csv_cells_cannot_become_spreadsheet_formulas(store: AuditStore) -> None:
    """A refused lookup records the matter the caller sent: untrusted text."""
    await store.append([event(0, at=MARCH, matter='=HYPERLINK("http://x")')])
    report = await usage_report(store, MARCH, APRIL)
    assert "'=HYPERLINK" in render_csv(report)
