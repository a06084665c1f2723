"""Subject identifiers: normalise, validate (python-stdnum) and tell the subject's kind.

Two identifiers name a subject: the unified social credit code (GB 32100-2015) of an organisation
and the resident identity number (GB 11643-1999) of a person. Both have 18 characters; an all-digit
string can be either, so a valid resident number wins and a valid credit code comes second. When
both fail, the message explains the failure of the one the input most resembles.
"""

from __future__ import annotations

import enum
import functools
import re
import unicodedata
from dataclasses import dataclass
from datetime import date

from stdnum.cn import ric, uscc
from stdnum.exceptions import ValidationError

from connectors.records import today_in_china
from resolvers.errors import CodedError, ErrorCode

_SEPARATORS = re.compile(r"[\s\-‐‑‒–—―_]+")
_USCC_ALPHABET = frozenset("0123456789ABCDEFGHJKLMNPQRTUWXY")
_RIC_SHAPE = re.compile(r"^\d{17}[\dX]$")
MAX_ID_INPUT = 64


class SubjectKind(enum.Enum):
    """What sort of social subject an identifier names."""

    LEGAL_PERSON = "LEGAL_PERSON"
    INDIVIDUAL_BUSINESS = "INDIVIDUAL_BUSINESS"
    NATURAL_PERSON = "NATURAL_PERSON"
    OTHER_ORG = "OTHER_ORG"


@dataclass(frozen=True, slots=True)
class SubjectId:
    value: str
    kind: SubjectKind


def normalise(raw: str) -> str:
    """Full-width characters to ASCII, separators and spaces removed, upper case."""
    return _SEPARATORS.sub("", unicodedata.normalize("NFKC", raw)).upper()


def parse_subject_id(raw: str, today: date | None = None) -> SubjectId:
    """The normalised id and its kind; `CodedError(INVALID_SUBJECT_ID)` saying what is wrong."""
    if len(raw) > MAX_ID_INPUT:
        raise _invalid(f"A subject id has 18 characters; got {len(raw)}.")
    value = normalise(raw)
    if not value:
        raise _invalid("The subject id is empty.")
    if len(value) != 18:
        raise _invalid(
            "A subject id has 18 characters (a unified social credit code or a resident "
            f"identity number); got {len(value)}."
        )
    if value[:17].isdigit():
        # Most organisations' codes are digits too. One whose last character is not a resident
        # number's check character can only be a code: checked as one first, it is spared the
        # birth date (an exception, for a code); anything else is judged as before.
        if not _may_be_resident_number(value) and uscc.is_valid(value):
            return SubjectId(value, _organisation_kind(value))
        person_error = _resident_number_error(value, today or today_in_china())
        if person_error is None:
            return SubjectId(value, SubjectKind.NATURAL_PERSON)
        if uscc.is_valid(value):
            return SubjectId(value, _organisation_kind(value))
        if _looks_like_resident_number(value):
            raise _invalid(person_error)
    bad = sorted({c for c in value if c not in _USCC_ALPHABET})
    if bad:
        raise _invalid(
            "A unified social credit code uses digits and the letters "
            "ABCDEFGHJKLMNPQRTUWXY only (no I, O, S, V, Z); this one contains "
            + ", ".join(repr(c) for c in bad)
            + "."
        )
    try:
        uscc.validate(value)
    except ValidationError as exc:
        if not value[:8].isdigit():
            raise _invalid(
                "Characters 1-8 of a unified social credit code (registration authority, "
                "category and division code) must be digits."
            ) from exc
        raise _invalid(
            "The check character of this unified social credit code is wrong "
            "(GB 32100-2015): the code was mistyped or is not real."
        ) from exc
    return SubjectId(value, _organisation_kind(value))


def _may_be_resident_number(value: str) -> bool:
    """Shaped as a resident number with the right check character (GB 11643-1999)."""
    return _RIC_SHAPE.match(value) is not None and value[-1] == ric.calc_check_digit(value)


def _looks_like_resident_number(value: str) -> bool:
    """17 digits whose 7th-10th form a plausible birth year: the input meant a person."""
    return 1850 <= int(value[6:10]) <= 2100


def _resident_number_error(value: str, today: date) -> str | None:
    if not _RIC_SHAPE.match(value):
        return "The last character of a resident identity number is a digit or X."
    try:
        birth = ric.get_birth_date(value)
    except ValidationError:
        return f"The birth date {value[6:14]} in this resident identity number is not a real date."
    if birth > today:
        return (
            f"The birth date {birth.isoformat()} in this resident identity number is in the future."
        )
    if value[-1] != ric.calc_check_digit(value):
        return (
            "The check character of this resident identity number is wrong (GB 11643-1999): "
            "the number was mistyped or is not real."
        )
    if not division_existed(value[:6], birth.year):
        return (
            f"The address code {value[:6]} in this resident identity number is not a division "
            "that existed in the birth year."
        )
    return None


@functools.lru_cache(maxsize=16_384)
def division_existed(address: str, year: int) -> bool:
    """Whether `address` (a resident number's first six digits) named a division in `year`, as
    python-stdnum's `ric.get_birth_place` says.

    Memoised because stdnum scans its division table on every lookup (about 100 us, most of a
    person's id check), while the answer depends on the code and the year alone: people of one
    county share it. The table is static reference data, so the memo can never disagree with it;
    it is bounded, and it is the only state here."""
    try:
        # get_birth_place reads the address (characters 1-6) and the birth year (7-10) only.
        ric.get_birth_place(f"{address}{year:04d}01010000")
    except (ValidationError, KeyError):
        # KeyError: a province's code with no such county in it (python-stdnum 2.x looks up a
        # county that its table does not have); it is as unknown as any other.
        return False
    return True


def _organisation_kind(value: str) -> SubjectKind:
    authority, category = value[0], value[1]  # (GB 32100: registration authority, category)
    if authority == "9" and category == "2":
        return SubjectKind.INDIVIDUAL_BUSINESS
    if category == "9":
        return SubjectKind.OTHER_ORG
    return SubjectKind.LEGAL_PERSON


def _invalid(message: str) -> CodedError:
    return CodedError(ErrorCode.INVALID_SUBJECT_ID, message)
