"""What a department's record builder works from, and the date arithmetic they all share.

Records are built relative to the dataset's `today`, so a dataset built with a fixed day yields the
same records whenever it runs, and publicity windows, expiries and repairs fall where the tests
expect them.
"""

from __future__ import annotations

import calendar
import random
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from connectors.records import Person
from registries.subjects import SubjectSeed

PersonFinder = Callable[[random.Random], Person]
"""Picks a natural person (with a valid ID number) to act as a legal representative.

Never one the court currently lists as a dishonest judgment debtor: an enterprise with such an
officer is a story of its own (`ListedPersonFinder`), not an accident of the draw.
"""

ListedPersonFinder = Callable[[SubjectSeed], Person | None]
"""The dataset person the court lists as a dishonest judgment debtor who is `subject`'s legal
representative (the same one every time), or None when the dataset has no such person."""


@dataclass(frozen=True, slots=True)
class RecordContext:
    """One department's view of one subject while its record is built."""

    subject: SubjectSeed
    rng: random.Random
    today: date
    find_person: PersonFinder
    find_listed_person: ListedPersonFinder

    def days_ago(self, fewest: int, most: int) -> date:
        """A day between `most` and `fewest` days before today."""
        return self.today - timedelta(days=self.rng.randint(fewest, most))

    def day_between(self, first: date, last: date) -> date:
        """A day in [first, last]; `first` when the range is empty."""
        return first + timedelta(days=self.rng.randint(0, max(0, (last - first).days)))

    def number(self, digits: int) -> int:
        """A serial number of up to `digits` digits, never zero."""
        return self.rng.randint(1, 10**digits - 1)

    def updated_at(self, events: list[date]) -> datetime:
        """When the registry last changed the record: after its latest event, before today.

        Derived from the record's own rng, never from the clock, so two runs serve identical
        records (and identical ETags).
        """
        latest = max((day for day in events if day < self.today), default=None)
        if latest is None:
            latest = self.today - timedelta(days=400)
        day = self.day_between(latest, self.today - timedelta(days=1))
        moment = time(self.rng.randint(0, 23), self.rng.randint(0, 59), self.rng.randint(0, 59))
        return datetime.combine(day, moment, tzinfo=UTC)


def add_months(day: date, months: int) -> date:
    """`day` moved by whole months, clamped to the month's end (31 Jan + 1 month = 28/29 Feb)."""
    year, month = divmod(day.month - 1 + months, 12)
    year += day.year
    month += 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def add_years(day: date, years: int) -> date:
    return add_months(day, 12 * years)
