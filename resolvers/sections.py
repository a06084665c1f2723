"""Department sections, and the lists and grades gathered across departments.

A section resolver returns the department's validated record as it is: its fields are read as plain
attributes by the GraphQL layer, with no resolver per leaf. A department that failed raises its
`SourceError`, so its section is `null` with the error at its path while the others resolve.
Records lower-level gateways gave for the department are merged in (resolvers/federation.py); a
lower gateway that failed shows only in its `sources` row.
Everything here is synchronous over loaded data: a field whose department is still loading waits
for it first (`when_loaded`, resolvers/loading.py).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from connectors.errors import SourceError
from connectors.records import CreditReport, Grade, ListCategory, ListEntry, SubjectRecord
from resolvers.errors import CodedError, ErrorCode
from resolvers.federation import merged_record, upstream_sections
from resolvers.loading import when_loaded
from resolvers.masking import masked_record
from resolvers.outcome import SourceOutcome
from resolvers.public_view import public_entries, public_record
from resolvers.subject import SubjectRef

SectionResolver = Callable[[SubjectRef], SubjectRecord | Awaitable[SubjectRecord | None] | None]

_LIST_ORDER = {ListCategory.BLACK: 0, ListCategory.WATCH: 1, ListCategory.RED: 2}


def section_resolver(department: str) -> SectionResolver:
    """The resolver of one department's section of `Subject`."""

    def resolve(root: SubjectRef) -> SubjectRecord | None:
        outcome = root.outcomes.get(department)
        if outcome is None:
            if department in root.withheld:
                raise CodedError(
                    ErrorCode.FORBIDDEN,
                    f"Matter {root.matter} does not use the {department} section.",
                    reason="matter",
                )
            if department not in root.upstream_departments:
                raise SourceError(department, "is not configured on this gateway")
            record = None
        else:
            record = record_or_raise(outcome)
        if root.upstreams:
            record = merged_record(record, upstream_sections(root, department))
        if record is None:
            return None
        if root.public_view:
            record = public_record(record, root.today)
        if root.mask:
            record = masked_record(record, root.natural_person)
        return record

    resolve.__name__ = f"resolve_{department}"
    return when_loaded(resolve, department)


def record_or_raise(outcome: SourceOutcome) -> SubjectRecord | None:
    if outcome.answered:
        return outcome.record
    assert outcome.error is not None
    raise outcome.error


def resolve_lists(root: SubjectRef) -> list[ListEntry]:
    """Every list entry held by the departments consulted: black first, then newest first.

    A department that failed contributes nothing here; its `sources` row says so.
    """
    entries = [entry for record in _records(root) for entry in record.list_entries]
    if root.public_view:
        entries = public_entries(entries, root.today)
    entries.sort(key=lambda e: (_LIST_ORDER[e.category], -e.entered_on.toordinal()))
    return entries


def resolve_grades(root: SubjectRef) -> list[Grade]:
    grades = [grade for record in _records(root) for grade in record.grades]
    grades.sort(key=lambda g: (g.scheme, -g.assessed_on.toordinal()))
    return grades


def _records(root: SubjectRef) -> list[SubjectRecord]:
    return [o.record for d, o in root.outcomes.items() if o.record is not None and root.shows(d)]


def resolve_reports(root: SubjectRef) -> list[CreditReport]:
    """Credit reports held about the subject: valid first, then newest first."""
    reports = [report for record in _records(root) for report in getattr(record, "reports", ())]
    reports.sort(key=lambda r: (not r.is_valid_on(root.today), -r.issued_on.toordinal()))
    return reports
