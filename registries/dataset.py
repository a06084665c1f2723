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
from datetime import date

from connectors.records import ListCategory, Person, PublicityState, SubjectRecord, today_in_china
from registries.departments import DEPARTMENTS, rules_for
from registries.departments.context import RecordContext
from registries.departments.lists import has_current
from registries.identifiers import normalise_id
from registries.subjects import (
    MAX_SIZE,
    Profile,
    SubjectFactory,
    SubjectKind,
    SubjectSeed,
    make_person,
)

EARLIEST_TODAY = date(2020, 1, 1)
"""Records reach years back from `today`; before this the post-2015 codes would not fit."""

_PERSON_SCAN = 300


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

        - ``clean``: a CLEAN enterprise held by all four registries;
        - ``penalised``: a PENALISED enterprise held by all four, with a penalty public today;
        - ``dishonest``: a DISHONEST enterprise on a current black list in commerce;
        - ``red``: a RED enterprise on a current red list in commerce;
        - ``natural_person``: a natural person held by health;
        - ``individual_business``: an individual business.

        ``dishonest`` and ``red`` prefer one held by all four registries when the scan finds one.
        Raises LookupError if the first `limit_scan` subjects lack one of them.
        """
        found: dict[str, str] = {}
        fallback: dict[str, str] = {}
        wanted = ("clean", "penalised", "dishonest", "red", "natural_person", "individual_business")
        for index in range(min(self.size, limit_scan)):
            subject = self.subject(index)
            for key in self._sample_keys(subject, fallback):
                found.setdefault(key, subject.id)
            if all(key in found for key in wanted):
                break
        for key, subject_id in fallback.items():
            found.setdefault(key, subject_id)
        missing = [key for key in wanted if key not in found]
        if missing:
            raise LookupError(
                f"no {', '.join(missing)} sample among the first {limit_scan} subjects of {self!r}"
            )
        return {key: found[key] for key in wanted}

    def _sample_keys(self, subject: SubjectSeed, fallback: dict[str, str]) -> list[str]:
        """The sample roles `subject` fills; roles it fills only as a fallback go to `fallback`."""
        index = subject.index
        if subject.kind is SubjectKind.INDIVIDUAL_BUSINESS:
            return ["individual_business"]
        if subject.kind is SubjectKind.NATURAL_PERSON:
            return ["natural_person"] if self.holds("health", index) else []
        everywhere = all(self.holds(department, index) for department in DEPARTMENTS)
        profile = subject.profile
        if profile is Profile.CLEAN:
            return ["clean"] if everywhere else []
        if profile is Profile.PENALISED:
            return ["penalised"] if everywhere and self._has_public_penalty(index) else []
        key, category = (
            ("dishonest", ListCategory.BLACK)
            if profile is Profile.DISHONEST
            else ("red", ListCategory.RED)
        )
        if not has_current(self.record("commerce", index), category, self.today):
            return []
        if everywhere:
            return [key]
        fallback.setdefault(key, subject.id)
        return []

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
        return rules.build(RecordContext(subject, rng, self.today, self._find_person))

    def _find_person(self, rng: random.Random) -> Person:
        """A natural person of this dataset when one is near a random index, else an outsider.

        Legal representatives are real subjects where possible, so a lookup can follow an
        enterprise to the person in charge of it.
        """
        start = rng.randrange(self.size)
        for step in range(min(_PERSON_SCAN, self.size)):
            index = (start + step) % self.size
            if self._factory.kind_of(index) is SubjectKind.NATURAL_PERSON:
                person = self.subject(index)
                return Person(name=person.name, id_number=person.id)
        name, id_number = make_person(rng)
        return Person(name=name, id_number=id_number)
