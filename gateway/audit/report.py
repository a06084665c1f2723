"""Usage reports: how many lookups officials of each department made, per matter and outcome.

DOMAIN.md: departments publish their catalogue of matters and report the use of credit products
to the credit office. The audit store is the only complete record of that use, so the report is
an aggregate over it, and the same rows back `credit-gateway audit report` and `Query.usage`.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from datetime import datetime

import orjson

from gateway.audit.entry import iso_utc
from gateway.audit.store import AuditStore, UsageRow

CSV_HEADER = ("department", "matter", "outcome", "lookups")

_FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


@dataclass(frozen=True, slots=True)
class UsageReport:
    """Lookups in `[from_, to)`, of one department's officials or (`department=None`) of all."""

    from_: datetime
    to: datetime
    department: str | None
    rows: tuple[UsageRow, ...]

    @property
    def total(self) -> int:
        return sum(row.lookups for row in self.rows)


async def usage_report(
    store: AuditStore, from_: datetime, to: datetime, department: str | None = None
) -> UsageReport:
    """The report for `[from_, to)` (timezone-aware bounds; `ValueError` if empty or naive)."""
    rows = await store.usage(from_, to, department)
    return UsageReport(from_, to, department, tuple(rows))


def render_csv(report: UsageReport) -> str:
    """CSV with a header row; a missing department (public lookups) or matter is an empty cell.

    Cells that a spreadsheet would run as a formula are prefixed with `'`: a matter id is what the
    caller sent when the lookup was refused as `UNKNOWN_MATTER`, so it is untrusted text that
    ends up opened in Excel at the credit office.
    """
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(CSV_HEADER)
    for row in report.rows:
        writer.writerow((_cell(row.department), _cell(row.matter), _cell(row.outcome), row.lookups))
    return buffer.getvalue()


def render_json(report: UsageReport) -> str:
    """A JSON object: the period (UTC), the department filter, the total and the rows."""
    document = {
        "from": iso_utc(report.from_),
        "to": iso_utc(report.to),
        "department": report.department,
        "total": report.total,
        "rows": [
            {
                "department": row.department,
                "matter": row.matter,
                "outcome": row.outcome,
                "lookups": row.lookups,
            }
            for row in report.rows
        ],
    }
    return orjson.dumps(document, option=orjson.OPT_INDENT_2).decode("utf-8") + "\n"


def _cell(value: str | None) -> str:
    if value is None:
        return ""
    if value.startswith(_FORMULA_PREFIXES):
        return "'" + value
    return value
