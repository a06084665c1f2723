"""The vocabulary of lists and grades: which list types and grading schemes exist (issue 4, item 2).

List types (``SERIOUS_DISHONEST``, ``A_TAXPAYER`` ...) and grading schemes (tax A/B/M/C/D ...) are
policy, and policy changes: a province adds a list, a ministry renames a grade. So they are data,
shipped as ``connectors/vocabulary/lists.toml`` and ``grades.toml``, read and validated here, and a
deployment may pass its own files. Registries take names, categories and labels from here, so a
record's ``listName`` or a grade's ``label`` always matches the vocabulary; measures name list ids
and ``scheme:VALUE`` pairs that must exist in it.

Everything returned is immutable (frozen models, tuples, read-only mappings), so one vocabulary can
be shared by every request without copying. A file that cannot be read or does not validate raises
`VocabularyError` whose message starts with the file's path, so a bad deployment fails at start
with one line that says where.
"""

from __future__ import annotations

import functools
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from importlib import resources
from importlib.resources.abc import Traversable
from pathlib import Path
from types import MappingProxyType
from typing import Any, Self, TypeVar

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from connectors.records import ListCategory

LISTS_FILE = "lists.toml"
GRADES_FILE = "grades.toml"
_ID_PATTERN = r"^[A-Z][A-Z0-9_]*$"
_KEY_PATTERN = r"^[a-z][a-z0-9_]*$"

Source = Path | str | Traversable
"""Where a vocabulary file is: a path, or a packaged resource."""


class VocabularyError(ValueError):
    """A vocabulary file is missing, not TOML, or not valid; the message starts with its path."""


class _Term(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", str_strip_whitespace=True)


class ListType(_Term):
    """A kind of list a department puts subjects on, and whether it restricts, warns or rewards."""

    id: str = Field(pattern=_ID_PATTERN)
    category: ListCategory
    name: str = Field(min_length=1)
    """The list's official Chinese name, sent as a list entry's ``listName``."""
    departments: tuple[str, ...] = ()
    """The departments that typically keep it; empty when any department may."""
    description: str | None = None

    def kept_by(self, department: str) -> bool:
        """Whether `department` typically keeps this list (any department when none is named)."""
        return not self.departments or department in self.departments


class GradeValue(_Term):
    """One value of a grading scheme: its label, rank (1 = best) and score range, if scored."""

    value: str = Field(pattern=_ID_PATTERN)
    label: str = Field(min_length=1)
    rank: int = Field(ge=1)
    min_score: float | None = None
    """Lowest score of the value (inclusive), when the scheme assigns it by score."""
    max_score: float | None = None
    """Score the value stays below (exclusive), when the scheme assigns it by score."""
    description: str | None = None

    @model_validator(mode="after")
    def _range(self) -> Self:
        if (
            self.min_score is not None
            and self.max_score is not None
            and self.min_score >= self.max_score
        ):
            raise ValueError(f"{self.value}: min_score must be below max_score")
        return self

    @property
    def scored(self) -> bool:
        return self.min_score is not None or self.max_score is not None

    def covers(self, score: float) -> bool:
        """Whether `score` falls in this value's range (never, for a value without one)."""
        if not self.scored:
            return False
        return (self.min_score is None or score >= self.min_score) and (
            self.max_score is None or score < self.max_score
        )


class GradeScheme(_Term):
    """A department's grading scheme, values best first (ranks 1, 2, 3 ... in order)."""

    id: str = Field(pattern=_KEY_PATTERN)
    department: str = Field(pattern=_KEY_PATTERN)
    name: str | None = None
    values: tuple[GradeValue, ...] = Field(min_length=1)

    @model_validator(mode="after")
    def _ordered(self) -> Self:
        names = [value.value for value in self.values]
        duplicates = sorted({name for name in names if names.count(name) > 1})
        if duplicates:
            raise ValueError(f"scheme {self.id}: duplicate values {', '.join(duplicates)}")
        ranks = [value.rank for value in self.values]
        if ranks != list(range(1, len(ranks) + 1)):
            raise ValueError(
                f"scheme {self.id}: values must be listed best first with ranks 1, 2, 3 ... "
                f"(got {ranks})"
            )
        return self

    def value(self, value: str) -> GradeValue:
        """The value called `value`; `UnknownTerm` if the scheme has none."""
        for candidate in self.values:
            if candidate.value == value:
                return candidate
        raise UnknownTerm(f"grade scheme {self.id!r} has no value {value!r}")

    @property
    def top(self) -> GradeValue:
        """The best value (rank 1): what incentives for top-graded subjects target."""
        return self.values[0]

    def value_for_score(self, score: float) -> GradeValue | None:
        """The scored value whose range holds `score`, if any."""
        return next((value for value in self.values if value.covers(score)), None)


class UnknownTerm(KeyError):
    """A list type, grade scheme or grade value the vocabulary does not define."""

    def __str__(self) -> str:
        return str(self.args[0]) if self.args else "unknown term"


class _ListsFile(_Term):
    list_types: tuple[ListType, ...] = Field(alias="list", min_length=1)

    @model_validator(mode="after")
    def _unique(self) -> Self:
        _require_unique("list type", [entry.id for entry in self.list_types])
        return self


class _GradesFile(_Term):
    schemes: tuple[GradeScheme, ...] = Field(alias="scheme", min_length=1)

    @model_validator(mode="after")
    def _unique(self) -> Self:
        _require_unique("grade scheme", [scheme.id for scheme in self.schemes])
        return self


def _require_unique(what: str, ids: list[str]) -> None:
    duplicates = sorted({key for key in ids if ids.count(key) > 1})
    if duplicates:
        raise ValueError(f"duplicate {what} ids: {', '.join(duplicates)}")


@dataclass(frozen=True, slots=True)
class Vocabulary:
    """The list types and grading schemes in force, with lookups by id."""

    list_types: tuple[ListType, ...]
    grade_schemes: tuple[GradeScheme, ...]
    _lists: Mapping[str, ListType] = field(init=False, repr=False, compare=False)
    _schemes: Mapping[str, GradeScheme] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        lists = MappingProxyType({entry.id: entry for entry in self.list_types})
        schemes = MappingProxyType({scheme.id: scheme for scheme in self.grade_schemes})
        object.__setattr__(self, "_lists", lists)
        object.__setattr__(self, "_schemes", schemes)

    @property
    def lists(self) -> Mapping[str, ListType]:
        """Every list type by id, in file order (read-only)."""
        return self._lists

    @property
    def schemes(self) -> Mapping[str, GradeScheme]:
        """Every grading scheme by id, in file order (read-only)."""
        return self._schemes

    def list_type(self, list_id: str) -> ListType:
        try:
            return self._lists[list_id]
        except KeyError:
            raise UnknownTerm(f"no list type {list_id!r} in the vocabulary") from None

    def grade_scheme(self, scheme_id: str) -> GradeScheme:
        try:
            return self._schemes[scheme_id]
        except KeyError:
            raise UnknownTerm(f"no grade scheme {scheme_id!r} in the vocabulary") from None

    def grade_value(self, scheme_id: str, value: str) -> GradeValue:
        return self.grade_scheme(scheme_id).value(value)

    def is_top_grade(self, scheme_id: str, value: str) -> bool:
        """Whether `value` is the best of its scheme; false for anything the vocabulary lacks."""
        scheme = self._schemes.get(scheme_id)
        return scheme is not None and scheme.top.value == value


M = TypeVar("M", bound=BaseModel)


def shipped_file(name: str) -> Traversable:
    """One of the vocabulary files shipped as package data of `connectors`."""
    return resources.files("connectors").joinpath("vocabulary", name)


def _read(source: Source, model: type[M]) -> M:
    location = source if isinstance(source, Traversable) else Path(source)
    try:
        text = location.read_text(encoding="utf-8")
    except OSError as exc:
        raise VocabularyError(f"{location}: cannot read: {exc.strerror or exc}") from exc
    try:
        data: dict[str, Any] = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise VocabularyError(f"{location}: not valid TOML: {exc}") from exc
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(part) for part in error['loc']) or '(top)'}: {error['msg']}"
            for error in exc.errors(include_url=False)
        )
        raise VocabularyError(f"{location}: {problems}") from exc


def load_list_types(path: Source | None = None) -> tuple[ListType, ...]:
    """The list types of `path` (default: the shipped ``lists.toml``)."""
    return _read(path if path is not None else shipped_file(LISTS_FILE), _ListsFile).list_types


def load_grade_schemes(path: Source | None = None) -> tuple[GradeScheme, ...]:
    """The grading schemes of `path` (default: the shipped ``grades.toml``)."""
    return _read(path if path is not None else shipped_file(GRADES_FILE), _GradesFile).schemes


def load_vocabulary(
    lists_path: Source | None = None, grades_path: Source | None = None
) -> Vocabulary:
    """The vocabulary of the two files; either defaults to the shipped one when not given."""
    return Vocabulary(load_list_types(lists_path), load_grade_schemes(grades_path))


@functools.cache
def default_vocabulary() -> Vocabulary:
    """The shipped vocabulary, read once per process."""
    return load_vocabulary()
