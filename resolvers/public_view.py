"""What the public may see of a record: only what is publicly disclosed today (DOMAIN.md).

A penalty is public inside its publicity window; once repaired or past the window it is hidden
from public queries, but an authorised official in a catalogued matter still sees it. A list entry
is public while it is current. Filtering works on copies: cached records are shared.
"""

from __future__ import annotations

from datetime import date

from connectors.records import ListEntry, PublicityState, SubjectRecord


def public_record(record: SubjectRecord, today: date) -> SubjectRecord:
    penalties = [
        p for p in record.penalties if p.publicity.state_on(today) is PublicityState.PUBLIC
    ]
    entries = public_entries(record.list_entries, today)
    update: dict[str, object] = {}
    cases = getattr(record, "judgment_debtor_cases", None)
    if cases:
        # A debtor taken off the list is no longer published, like the list entry itself.
        published = [c for c in cases if c.exited_on is None or c.exited_on > today]
        if len(published) != len(cases):
            update["judgment_debtor_cases"] = published
    if len(penalties) != len(record.penalties):
        update["penalties"] = penalties
    if len(entries) != len(record.list_entries):
        update["list_entries"] = entries
    return record.model_copy(update=update) if update else record


def public_entries(entries: list[ListEntry], today: date) -> list[ListEntry]:
    return [entry for entry in entries if entry.is_current_on(today)]


def hides_records(record: SubjectRecord, today: date) -> bool:
    """Whether the record holds anything the public may not see (its read by an official is
    recorded in the audit as such)."""
    return any(
        p.publicity.state_on(today) is not PublicityState.PUBLIC for p in record.penalties
    ) or any(not e.is_current_on(today) for e in record.list_entries)
