"""Who the synthetic subjects are: identity, kind and credit profile, derived from (seed, index).

Nothing is stored. Subject `index` is rebuilt from a `random.Random` seeded with
``f"{seed}:{index}"`` whenever it is needed, and its identifier embeds a keyed scramble of the
index, so an identifier decodes back to its index in O(1): a registry of a million subjects needs
neither a table nor a scan to answer a lookup.

Layout of the embedded index:
- enterprises and individual businesses: the organisation-code body of the USCC (positions 9–16),
  either eight digits (codes issued before the 2015 reform) or ``MA`` and six characters of the
  USCC alphabet (codes issued since);
- natural persons: birth date (1950–2004) and sequence number of the resident ID number.
"""

from __future__ import annotations

import dataclasses
import enum
import random
from dataclasses import dataclass
from datetime import date, timedelta
from typing import TypeVar

from registries.divisions import (
    BUSINESS_CUM_WEIGHTS,
    BY_CODE,
    DIVISIONS,
    Division,
    divisions_for_birth_year,
)
from registries.identifiers import (
    decode_base31,
    encode_base31,
    is_ric_shaped,
    is_uscc_shaped,
    make_ric,
    make_uscc,
    normalise_id,
)
from registries.names import (
    BRANDS,
    Trade,
    enterprise_name,
    enterprise_trade,
    person_name,
    shop_name,
    shop_trade,
    surname,
)
from registries.scramble import Scrambler


class SubjectKind(enum.StrEnum):
    LEGAL_PERSON = "LEGAL_PERSON"
    INDIVIDUAL_BUSINESS = "INDIVIDUAL_BUSINESS"
    NATURAL_PERSON = "NATURAL_PERSON"


class Profile(enum.StrEnum):
    """The credit story of a subject, which every department's record follows."""

    CLEAN = "CLEAN"
    """No penalties anywhere."""
    PENALISED = "PENALISED"
    """One to three penalties per registry holding it, mostly general."""
    DISHONEST = "DISHONEST"
    """Serious penalties and a current serious-dishonesty black-list entry."""
    RED = "RED"
    """Top grades and, mostly, an honours red-list entry."""


class Story(enum.StrEnum):
    """A turn of a subject's credit story that several departments must tell alike.

    Each department draws its record from its own random stream, so anything two departments must
    agree on (the court lists a subject whom the tax office grades A) is decided once, here.
    """

    PLAIN = "PLAIN"
    """Nothing beyond the profile."""
    EXITED_BLACK = "EXITED_BLACK"
    """PENALISED only: was on a black list (court, bidding); every entry has exited or expired."""
    BLACK_AND_RED = "BLACK_AND_RED"
    """RED only: also a current dishonest judgment debtor at court, so current black and red."""
    DISHONEST_OFFICER = "DISHONEST_OFFICER"
    """Enterprises only: the legal representative is a person the court lists as dishonest."""


T = TypeVar("T")

_KIND_CUTS = ((0.85, SubjectKind.LEGAL_PERSON), (0.92, SubjectKind.INDIVIDUAL_BUSINESS))
_PROFILE_CUTS = ((0.75, Profile.CLEAN), (0.93, Profile.PENALISED), (0.96, Profile.DISHONEST))
_LARGE_ODDS = {
    Profile.CLEAN: 0.15,
    Profile.PENALISED: 0.30,
    Profile.DISHONEST: 0.40,
    Profile.RED: 0.50,
}
"""Share of enterprises that are large; red-listed ones more often, as award winners are."""
_STORY_ODDS: dict[Profile, tuple[tuple[float, Story], ...]] = {
    Profile.PENALISED: ((0.20, Story.EXITED_BLACK), (0.25, Story.DISHONEST_OFFICER)),
    Profile.DISHONEST: ((0.50, Story.DISHONEST_OFFICER),),
    Profile.RED: ((0.15, Story.BLACK_AND_RED),),
}

BIRTH_EPOCH = date(1950, 1, 1)
BIRTH_LAST = date(2004, 12, 31)
_BIRTH_DAYS = (BIRTH_LAST - BIRTH_EPOCH).days + 1
_SEQUENCES = 999  # sequence codes 001–999
RIC_DOMAIN = _BIRTH_DAYS * _SEQUENCES
"""Indices below this can be natural persons; above it every subject is a business."""

_MA_DOMAIN = 31**6
_DIGITS_DOMAIN = 10**8
MAX_SIZE = _MA_DOMAIN
"""The largest dataset whose every index has its own organisation code."""

_REFORM = date(2015, 10, 1)
_LEGACY_FIRST = date(1995, 1, 1)


@dataclass(frozen=True, slots=True)
class SubjectSeed:
    """Everything about a subject that does not belong to one department."""

    index: int
    id: str
    kind: SubjectKind
    name: str
    division_code: str
    profile: Profile
    family_name: str | None = None
    """A person's surname, or an individual business operator's (the 张 of 张记餐馆)."""
    trade: Trade | None = None
    brand: str | None = None
    """A business's trade name (字号), the 恒达 of 恒达食品有限公司."""
    established_on: date | None = None
    birth_date: date | None = None
    large: bool = False
    """A large enterprise [规模以上企业]: every department that could know it holds it."""
    story: Story = Story.PLAIN

    @property
    def division(self) -> Division:
        return BY_CODE[self.division_code]

    @property
    def is_business(self) -> bool:
        return self.kind is not SubjectKind.NATURAL_PERSON


def make_person(rng: random.Random, family: str | None = None) -> tuple[str, str]:
    """A person outside the dataset (an operator, a representative): name and a valid ID number."""
    birth = date(1960, 1, 1) + timedelta(
        days=rng.randrange((date(2000, 12, 31) - date(1960, 1, 1)).days)
    )
    sequence = rng.randint(1, 999)
    division = rng.choice(divisions_for_birth_year(birth.year))
    name = person_name(rng, male=sequence % 2 == 1, family=family)
    return name, make_ric(division.code, birth, sequence)


class SubjectFactory:
    """Builds subject `index` of a dataset and finds the index an identifier encodes."""

    def __init__(self, seed: int, today: date) -> None:
        self._seed = seed
        self._today = today
        self._ma = Scrambler(_MA_DOMAIN, f"uscc-ma:{seed}")
        self._digits = Scrambler(_DIGITS_DOMAIN, f"uscc-digits:{seed}")
        self._ric = Scrambler(RIC_DOMAIN, f"ric:{seed}")
        self._newest = today - timedelta(days=60)

    def make(self, index: int) -> SubjectSeed:
        rng = random.Random(f"{self._seed}:{index}")
        kind = self._kind(index, rng)
        profile = _cut(rng.random(), _PROFILE_CUTS, Profile.RED)
        if kind is SubjectKind.NATURAL_PERSON:
            subject = self._person(index, rng, profile)
        else:
            subject = self._business(index, rng, kind, profile)
        large, story = self._traits(index, kind, profile)
        if large or story is not Story.PLAIN:
            subject = dataclasses.replace(subject, large=large, story=story)
        return subject

    def _traits(self, index: int, kind: SubjectKind, profile: Profile) -> tuple[bool, Story]:
        """Size and story, from a stream of their own, so the draws above stay as they were."""
        rng = random.Random(f"{self._seed}:{index}:traits")
        large = kind is SubjectKind.LEGAL_PERSON and rng.random() < _LARGE_ODDS[profile]
        story = _cut(rng.random(), _STORY_ODDS.get(profile, ()), Story.PLAIN)
        if story is Story.DISHONEST_OFFICER and kind is not SubjectKind.LEGAL_PERSON:
            story = Story.PLAIN
        return large, story

    def kind_of(self, index: int) -> SubjectKind:
        """The kind of subject `index`, for a tenth of the cost of making the subject."""
        return self._kind(index, random.Random(f"{self._seed}:{index}"))

    def _kind(self, index: int, rng: random.Random) -> SubjectKind:
        """The subject's first draw decides its kind (so `kind_of` needs no other draw)."""
        kind = _cut(rng.random(), _KIND_CUTS, SubjectKind.NATURAL_PERSON)
        if kind is SubjectKind.NATURAL_PERSON and index >= RIC_DOMAIN:
            return SubjectKind.LEGAL_PERSON
        return kind

    def candidate_index(self, subject_id: str) -> int | None:
        """The index `subject_id` encodes, if it has the shape of one of this factory's codes.

        The caller must still rebuild that subject and compare identifiers: a code of the right
        shape from another dataset decodes to some index too.
        """
        code = normalise_id(subject_id)
        if code[:2] in ("91", "92") and is_uscc_shaped(code):
            body = code[8:16]
            if body.startswith("MA"):
                value = decode_base31(body[2:])
                return None if value is None else self._ma.inverse(value)
            if body.isdigit():
                return self._digits.inverse(int(body))
            return None
        if is_ric_shaped(code):
            try:
                birth = date(int(code[6:10]), int(code[10:12]), int(code[12:14]))
            except ValueError:
                return None
            day = (birth - BIRTH_EPOCH).days
            sequence = int(code[14:17])
            if not 0 <= day < _BIRTH_DAYS or sequence == 0:
                return None
            return self._ric.inverse(day * _SEQUENCES + sequence - 1)
        return None

    def _person(self, index: int, rng: random.Random, profile: Profile) -> SubjectSeed:
        day, sequence = divmod(self._ric.forward(index), _SEQUENCES)
        sequence += 1
        birth = BIRTH_EPOCH + timedelta(days=day)
        division = rng.choice(divisions_for_birth_year(birth.year))
        family = surname(rng)
        return SubjectSeed(
            index=index,
            id=make_ric(division.code, birth, sequence),
            kind=SubjectKind.NATURAL_PERSON,
            name=person_name(rng, male=sequence % 2 == 1, family=family),
            division_code=division.code,
            profile=profile,
            family_name=family,
            birth_date=birth,
        )

    def _business(
        self, index: int, rng: random.Random, kind: SubjectKind, profile: Profile
    ) -> SubjectSeed:
        division = rng.choices(DIVISIONS, cum_weights=BUSINESS_CUM_WEIGHTS)[0]
        legacy = index < _DIGITS_DOMAIN and rng.random() < 0.35
        if legacy:
            established = _day_in(rng, _LEGACY_FIRST, _REFORM - timedelta(days=1))
            org_body = f"{self._digits.forward(index):08d}"
        else:
            established = _day_in(rng, _REFORM, self._newest)
            org_body = "MA" + encode_base31(self._ma.forward(index), 6)
        brand = rng.choice(BRANDS)
        if kind is SubjectKind.LEGAL_PERSON:
            trade = enterprise_trade(rng)
            family = None
            name = enterprise_name(rng, division, trade, brand)
            prefix = "91"
        else:
            trade = shop_trade(rng)
            family = surname(rng)
            name = shop_name(rng, division, trade, family, brand)
            prefix = "92"
        return SubjectSeed(
            index=index,
            id=make_uscc(prefix, division.code, org_body),
            kind=kind,
            name=name,
            division_code=division.code,
            profile=profile,
            family_name=family,
            trade=trade,
            brand=brand,
            established_on=established,
        )


def _cut(roll: float, cuts: tuple[tuple[float, T], ...], last: T) -> T:
    for limit, value in cuts:
        if roll < limit:
            return value
    return last


def _day_in(rng: random.Random, first: date, last: date) -> date:
    return first + timedelta(days=rng.randint(0, max(0, (last - first).days)))
