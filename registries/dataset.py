"""A deterministic synthetic population of subjects and what each department holds about them.

Everything about subject ``index`` follows from ``(seed, index)`` and the department's record from
``(seed, department, index)``, relative to the dataset's `today`. Nothing is materialised: a
million-subject dataset costs the same memory as a thousand-subject one, bounded caches only make
repeated lookups cheap. The same seed and day always give byte-identical records, so tests,
benchmarks and the demo can name subjects by id across runs.
"""

from __future__ import annotations

import functools
import random
from collections.abc import Iterator
from datetime import date

from connectors.records import (
    CommerceRecord,
    CreditAgencyRecord,
    ListCategory,
    ListEntry,
    Person,
    PublicityState,
    SubjectRecord,
    today_in_china,
)
from registries.departments import DEPARTMENTS, court, rules_for
from registries.departments.context import RecordContext
from registries.departments.lists import has_current, is_top_grade
from registries.identifiers import normalise_id
from registries.subjects import (
    MAX_SIZE,
    Profile,
    Story,
    SubjectFactory,
    SubjectKind,
    SubjectSeed,
    make_person,
)

EARLIEST_TODAY = date(2020, 1, 1)
"""Records reach years back from `today`; before this the post-2015 codes would not fit."""

_PERSON_SCAN = 300
_OFFICER_SCAN = 20_000
"""Dishonest natural persons are about one subject in 400; this finds one in all but tiny sets."""

SAMPLE_KEYS: tuple[str, ...] = (
    "clean",
    "penalised",
    "dishonest",
    "red",
    "natural_person",
    "individual_business",
    "both",
    "exited",
    "expired_report",
    "dishonest_officer",
)
"""The keys of `Dataset.samples`, in the order it returns them."""


class Dataset:
    """`size` subjects drawn from `seed`, as of `today` (default: the real today).

    `cache_size` bounds the subjects kept built (about 450 bytes each); a sixteenth as many
    records are kept. Registries cache their encoded bodies separately.
    """

    def __init__(
        self,
        size: int = 10_000,
        seed: int = 42,
        today: date | None = None,
        *,
        cache_size: int = 32_768,
    ) -> None:
        if not 1 <= size <= MAX_SIZE:
            raise ValueError(f"dataset size must be between 1 and {MAX_SIZE:,}")
        today = today or today_in_china()
        if today < EARLIEST_TODAY:
            raise ValueError(f"today must be {EARLIEST_TODAY} or later")
        self.size = size
        self.seed = seed
        self.today = today
        self._factory = SubjectFactory(seed, today)
        self._subjects = functools.lru_cache(maxsize=cache_size)(self._factory.make)
        self._records = functools.lru_cache(maxsize=max(1, cache_size // 16))(self._build_record)

    def __repr__(self) -> str:
        return f"Dataset(size={self.size}, seed={self.seed}, today={self.today.isoformat()})"

    @property
    def departments(self) -> tuple[str, ...]:
        return DEPARTMENTS

    def subject(self, index: int) -> SubjectSeed:
        if not 0 <= index < self.size:
            raise IndexError(f"subject index {index} is outside the dataset of {self.size}")
        return self._subjects(index)

    def index_of(self, subject_id: str) -> int | None:
        """The index of the subject with this id (any spacing or case), or None if not ours."""
        code = normalise_id(subject_id)
        index = self._factory.candidate_index(code)
        if index is None or index >= self.size or self._subjects(index).id != code:
            return None
        return index

    def holds(self, department: str, index: int) -> bool:
        """Whether `department`'s registry holds subject `index` (cheap: no record is built)."""
        rules = rules_for(department)
        roll = random.Random(f"{self.seed}:{department}:{index}").random()
        return rules.holds(self.subject(index), roll)

    def record(self, department: str, index: int) -> SubjectRecord | None:
        """What `department` holds about subject `index`, or None when it does not hold it."""
        rules_for(department)
        self.subject(index)
        return self._records(department, index)

    def record_for(self, department: str, subject_id: str) -> SubjectRecord | None:
        index = self.index_of(subject_id)
        return None if index is None else self.record(department, index)

    def ids_after(
        self, department: str, after: str | None, limit: int
    ) -> tuple[list[str], str | None]:
        """One page of the ids `department` holds, in index order, and the cursor of the next.

        The cursor is the last id of the page (so it is stable and decodes in O(1)); None when no
        held id follows. Raises ValueError for a cursor that is not an id of this dataset.
        """
        if limit < 1:
            raise ValueError("limit must be at least 1")
        start = 0
        if after is not None:
            position = self.index_of(after)
            if position is None:
                raise ValueError(f"cursor {after!r} is not a subject of this dataset")
            start = position + 1
        ids: list[str] = []
        index = start
        while index < self.size and len(ids) < limit:
            if self.holds(department, index):
                ids.append(self.subject(index).id)
            index += 1
        more = any(self.holds(department, i) for i in range(index, self.size)) if ids else False
        return ids, (ids[-1] if more else None)

    def samples(self, limit_scan: int = 5000) -> dict[str, str]:
        """Well-known subject ids for demos and tests, the first of each kind by index.

        "Everywhere" means held by every registry that holds enterprises (all of them); "black" and
        "red" mean an entry of that category in force on the dataset's day.

        - ``clean``: a CLEAN enterprise held everywhere, without a single list entry (not even an
          exited one) and without a top grade anywhere, so it triggers no joint measure at all;
        - ``penalised``: a PENALISED enterprise held everywhere, with a penalty public today;
        - ``dishonest``: a DISHONEST enterprise black-listed by commerce (SERIOUS_DISHONEST), and,
          where bidding holds it, by bidding (BIDDING_BLACKLIST);
        - ``red``: a RED enterprise on commerce's HONOUR red list and on tax's A_TAXPAYER list
          (graded A), without a black entry anywhere;
        - ``natural_person``: a natural person held by health;
        - ``individual_business``: an individual business;
        - ``both``: an enterprise with a black and a red entry at once (a court's judgment debtor
          that tax lists as an A-level taxpayer);
        - ``exited``: an enterprise that has black-list entries, every one exited or expired;
        - ``expired_report``: an enterprise held by credit_agency with a report past its
          ``validUntil``;
        - ``dishonest_officer``: an enterprise whose legal representative (commerce registration)
          is a natural person of this dataset that court black-lists as a judgment debtor; that
          person's court record is found by the representative's ``idNumber``.

        ``dishonest`` and ``red`` prefer one held everywhere, else take the one held by the most
        registries (the first such by index). Raises LookupError if the first `limit_scan`
        subjects lack one of them.
        """
        found: dict[str, str] = {}
        fallback: dict[str, tuple[int, str]] = {}
        everywhere = len(DEPARTMENTS)
        for index in range(min(self.size, limit_scan)):
            subject = self.subject(index)
            for key, held in self._sample_roles(subject, found):
                if held == everywhere:
                    found[key] = subject.id
                elif held > fallback.get(key, (0, ""))[0]:
                    fallback[key] = (held, subject.id)
            if len(found) == len(SAMPLE_KEYS):
                break
        for key, (_, subject_id) in fallback.items():
            found.setdefault(key, subject_id)
        missing = [key for key in SAMPLE_KEYS if key not in found]
        if missing:
            raise LookupError(
                f"no {', '.join(missing)} sample among the first {limit_scan} subjects of {self!r}"
            )
        return {key: found[key] for key in SAMPLE_KEYS}

    def _sample_roles(
        self, subject: SubjectSeed, found: dict[str, str]
    ) -> Iterator[tuple[str, int]]:
        """The sample roles `subject` fills that are still open, each with how many registries
        hold it (`len(DEPARTMENTS)` for a role that does not care)."""
        index, kind, profile, story = subject.index, subject.kind, subject.profile, subject.story
        anywhere = len(DEPARTMENTS)

        def wants(key: str) -> bool:
            return key not in found

        if kind is SubjectKind.INDIVIDUAL_BUSINESS and wants("individual_business"):
            yield "individual_business", anywhere
        natural = kind is SubjectKind.NATURAL_PERSON
        if natural and wants("natural_person") and self.holds("health", index):
            yield "natural_person", anywhere
        if kind is not SubjectKind.LEGAL_PERSON:
            return
        if story is Story.BLACK_AND_RED and wants("both") and self._has_both(index):
            yield "both", anywhere
        if story is Story.EXITED_BLACK and wants("exited") and self._only_past_black(index):
            yield "exited", anywhere
        if wants("expired_report") and self._has_expired_report(index):
            yield "expired_report", anywhere
        officer = story is Story.DISHONEST_OFFICER and wants("dishonest_officer")
        if officer and self._listed_officer(index) is not None:
            yield "dishonest_officer", anywhere
        if profile is Profile.CLEAN and wants("clean"):
            if self._held_count(index) == anywhere and self._spotless(index):
                yield "clean", anywhere
        elif profile is Profile.PENALISED and wants("penalised"):
            if self._held_count(index) == anywhere and self._has_public_penalty(index):
                yield "penalised", anywhere
        elif profile is Profile.DISHONEST and wants("dishonest"):
            if has_current(self.record("commerce", index), ListCategory.BLACK, self.today):
                yield "dishonest", self._held_count(index)
        elif profile is Profile.RED and story is not Story.BLACK_AND_RED and wants("red"):
            red = all(
                has_current(self.record(department, index), ListCategory.RED, self.today)
                for department in ("commerce", "tax")
            )
            if red and not self._has_current(index, ListCategory.BLACK):
                yield "red", self._held_count(index)

    def held_by(self, index: int) -> list[str]:
        """The departments whose registries hold subject `index`, in port order."""
        return [department for department in DEPARTMENTS if self.holds(department, index)]

    def records_of(self, index: int) -> dict[str, SubjectRecord]:
        """Every record of subject `index`, by department, in port order."""
        records = {department: self.record(department, index) for department in DEPARTMENTS}
        return {department: record for department, record in records.items() if record}

    def _held_count(self, index: int) -> int:
        return len(self.held_by(index))

    def _entries(self, index: int) -> list[ListEntry]:
        return [
            entry for record in self.records_of(index).values() for entry in record.list_entries
        ]

    def _has_current(self, index: int, category: ListCategory) -> bool:
        return any(
            has_current(record, category, self.today) for record in self.records_of(index).values()
        )

    def _has_both(self, index: int) -> bool:
        return self._has_current(index, ListCategory.BLACK) and self._has_current(
            index, ListCategory.RED
        )

    def _only_past_black(self, index: int) -> bool:
        black = [entry for entry in self._entries(index) if entry.category is ListCategory.BLACK]
        return bool(black) and not any(entry.is_current_on(self.today) for entry in black)

    def _spotless(self, index: int) -> bool:
        """No list entry at all and no top grade, in any registry."""
        return not any(
            record.list_entries or any(is_top_grade(grade) for grade in record.grades)
            for record in self.records_of(index).values()
        )

    def _has_expired_report(self, index: int) -> bool:
        record = self.record("credit_agency", index)
        return isinstance(record, CreditAgencyRecord) and any(
            not report.is_valid_on(self.today) for report in record.reports
        )

    def _listed_officer(self, index: int) -> Person | None:
        """The legal representative of enterprise `index`, if court black-lists them today."""
        record = self.record("commerce", index)
        if not isinstance(record, CommerceRecord) or record.registration is None:
            return None
        officer = record.registration.legal_representative
        court_record = self.record_for("court", officer.id_number or "")
        if court_record is None or not any(
            entry.list_type == court.JUDGMENT_DEBTOR and entry.is_current_on(self.today)
            for entry in court_record.list_entries
        ):
            return None
        return officer

    def _has_public_penalty(self, index: int) -> bool:
        for department in DEPARTMENTS:
            record = self.record(department, index)
            if record is not None and any(
                penalty.publicity.state_on(self.today) is PublicityState.PUBLIC
                for penalty in record.penalties
            ):
                return True
        return False

    def _build_record(self, department: str, index: int) -> SubjectRecord | None:
        rules = rules_for(department)
        rng = random.Random(f"{self.seed}:{department}:{index}")
        subject = self.subject(index)
        if not rules.holds(subject, rng.random()):
            return None
        return rules.build(
            RecordContext(subject, rng, self.today, self._find_person, self._find_listed_person)
        )

    def _find_person(self, rng: random.Random) -> Person:
        """A natural person of this dataset when one is near a random index, else an outsider.

        Legal representatives are real subjects where possible, so a lookup can follow an
        enterprise to the person in charge of it. Persons the court lists as dishonest are
        skipped: only `Story.DISHONEST_OFFICER` enterprises have one in charge, so a clean
        enterprise never picks up a restriction through its officer by chance.
        """
        start = rng.randrange(self.size)
        for step in range(min(_PERSON_SCAN, self.size)):
            index = (start + step) % self.size
            if self._factory.kind_of(index) is SubjectKind.NATURAL_PERSON:
                person = self.subject(index)
                if court.currently_listed(person):
                    continue
                return Person(name=person.name, id_number=person.id)
        name, id_number = make_person(rng)
        return Person(name=name, id_number=id_number)

    def _find_listed_person(self, subject: SubjectSeed) -> Person | None:
        """The person in charge of a `Story.DISHONEST_OFFICER` enterprise: the first natural
        person the court lists as dishonest from an index drawn for the enterprise (its own
        stream, so the same one every time), or None if the scan finds none."""
        start = random.Random(f"{self.seed}:{subject.index}:officer").randrange(self.size)
        for step in range(min(_OFFICER_SCAN, self.size)):
            index = (start + step) % self.size
            if self._factory.kind_of(index) is SubjectKind.NATURAL_PERSON:
                person = self.subject(index)
                if court.currently_listed(person):
                    return Person(name=person.name, id_number=person.id)
        return None
