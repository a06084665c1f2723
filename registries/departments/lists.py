"""List entries and grades as the vocabulary defines them, and whether a list entry is in force.

Builders never spell a list's name, category or a grade's label themselves: they name the list type
or the scheme and value, and the vocabulary (connectors/vocabulary/*.toml) supplies the rest. A
builder that names a term the vocabulary lacks fails at once (`UnknownTerm`), so the synthetic data
cannot drift from the vocabulary the gateway and its measures use.
"""

from __future__ import annotations

from datetime import date

from connectors.records import Authority, Grade, ListCategory, ListEntry, SubjectRecord
from connectors.vocabulary import default_vocabulary


def has_current(record: SubjectRecord | None, category: ListCategory, today: date) -> bool:
    """Whether `record` has an entry of `category` in force on `today`."""
    if record is None:
        return False
    return any(
        entry.category is category and entry.is_current_on(today) for entry in record.list_entries
    )


def list_entry(
    list_type: str,
    *,
    department: str,
    entered_on: date,
    reason: str,
    basis: str,
    authority: Authority,
    exited_on: date | None = None,
    expires_on: date | None = None,
    document_number: str | None = None,
) -> ListEntry:
    """An entry on `list_type`, with the list's name and category from the vocabulary."""
    term = default_vocabulary().list_type(list_type)
    return ListEntry(
        department=department,
        list_type=term.id,
        list_name=term.name,
        category=term.category,
        entered_on=entered_on,
        exited_on=exited_on,
        expires_on=expires_on,
        reason=reason,
        basis=basis,
        document_number=document_number,
        authority=authority,
    )


def grade(
    scheme: str,
    value: str,
    *,
    assessed_on: date,
    authority: Authority,
    score: float | None = None,
    year: int | None = None,
    valid_until: date | None = None,
) -> Grade:
    """A grade of `scheme`, labelled and attributed to its department by the vocabulary."""
    term = default_vocabulary().grade_scheme(scheme)
    return Grade(
        department=term.department,
        scheme=term.id,
        value=value,
        label=term.value(value).label,
        score=score,
        year=year,
        assessed_on=assessed_on,
        valid_until=valid_until,
        authority=authority,
    )


def is_top_grade(grade: Grade) -> bool:
    """Whether `grade` is the best value of its scheme (reserved for RED subjects)."""
    return default_vocabulary().is_top_grade(grade.scheme, grade.value)
