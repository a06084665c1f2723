"""Whether a record has a list entry in force, by the contract rule (`ListEntry.is_current_on`)."""

from __future__ import annotations

from datetime import date

from connectors.records import ListCategory, SubjectRecord


def has_current(record: SubjectRecord | None, category: ListCategory, today: date) -> bool:
    """Whether `record` has an entry of `category` in force on `today`."""
    if record is None:
        return False
    return any(
        entry.category is category and entry.is_current_on(today) for entry in record.list_entries
    )
