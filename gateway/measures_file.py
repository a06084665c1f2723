"""Loading the measures of joint reward and punishment from their TOML file, validated at start.

The file (`gateway/defaults/measures.toml`) is data: departments add or re-target measures without
touching code. Everything that could make an evaluation silently wrong is refused when the gateway
starts, with a `ConfigError` naming the file and line: an unknown field, a malformed or duplicate
id, a kind that contradicts the id's prefix, a grade that is not ``scheme:VALUE``, a measure that
targets nothing, and (when the vocabulary is given) a list type or grade no department knows. The
catalogue of matters is then checked against the loaded measures (`check_catalogue_measures`), so
a matter can never cite a measure that does not exist.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Collection, Iterable
from functools import partial
from pathlib import Path
from typing import Annotated, Any, TypeVar

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    StrictBool,
    ValidationError,
    field_validator,
)

from gateway.config_files import ConfigError, read_toml, validated
from resolvers.catalogue import Catalogue
from resolvers.measures import Measure, MeasureKind

DEFAULT_MEASURES_FILE = Path(__file__).parent / "defaults" / "measures.toml"
"""The measures file shipped with the gateway."""

MEASURE_ID = re.compile(r"^[PCI]_[A-Z_]+$")
LIST_TYPE_ID = re.compile(r"^[A-Z][A-Z0-9_]*$")
GRADE_REF = re.compile(r"^[a-z][a-z0-9_]*:[A-Z][A-Z0-9_]*$")
_GROUP = re.compile(r"^[a-z][a-z_]*$")

KIND_OF_PREFIX = {"P": MeasureKind.RESTRICTION, "C": MeasureKind.RESTRICTION}
"""P_ and C_ measures restrict; every other (I_) measure is an incentive."""

M = TypeVar("M", bound=BaseModel)
Loc = tuple[int | str, ...]


def _list_type(value: str) -> str:
    if not LIST_TYPE_ID.match(value):
        raise ValueError(f"{value!r} is not a list type id (upper-case, e.g. SERIOUS_DISHONEST)")
    return value


def _grade_ref(value: str) -> str:
    if not GRADE_REF.match(value):
        raise ValueError(f"{value!r} is not a grade reference (scheme:VALUE, e.g. tax:A)")
    return value


def _no_repeats(value: list[str]) -> list[str]:
    repeated = sorted({v for v in value if value.count(v) > 1})
    if repeated:
        raise ValueError(f"repeats {repeated}")
    return value


class _MeasureModel(BaseModel):
    model_config = ConfigDict(extra="forbid")

    id: str
    kind: MeasureKind
    group: str | None = None
    name: str = Field(min_length=1)
    description: str = Field(min_length=1)
    legal_basis: str = Field(min_length=1)
    lists: Annotated[
        list[Annotated[str, AfterValidator(_list_type)]], AfterValidator(_no_repeats)
    ] = Field(default_factory=list)
    grades: Annotated[
        list[Annotated[str, AfterValidator(_grade_ref)]], AfterValidator(_no_repeats)
    ] = Field(default_factory=list)
    extends_to_officers: StrictBool = False

    @field_validator("id")
    @classmethod
    def _id(cls, value: str) -> str:
        if not MEASURE_ID.match(value):
            raise ValueError(f"{value!r} is not a measure id (P_..., C_... or I_..., upper-case)")
        return value

    @field_validator("group")
    @classmethod
    def _group(cls, value: str | None) -> str | None:
        if value is not None and not _GROUP.match(value):
            raise ValueError(f"{value!r} is not a group (lower-case, e.g. consumption)")
        return value


class _MeasuresFileModel(BaseModel):
    model_config = ConfigDict(extra="forbid")

    # Tables stay raw here: each is validated on its own, so an error can name its line.
    measures: list[dict[str, Any]] = Field(min_length=1)


def load_measures(
    path: Path = DEFAULT_MEASURES_FILE,
    *,
    known_lists: Collection[str] | None = None,
    known_grades: Collection[str] | None = None,
) -> tuple[Measure, ...]:
    """The measures of the file, in its order; raises `ConfigError` naming the file and line.

    `known_lists` (list type ids) and `known_grades` (``scheme:VALUE``) are the vocabulary of the
    departments; when given, a measure targeting anything outside it is refused, since it could
    never apply (a typo like ``tax:AA`` would otherwise silently disable an incentive).
    """
    text, data = read_toml(path, "measures")
    lines = _Lines(path, text)
    model = _validate(_MeasuresFileModel, data, lambda loc: lines.top(loc[0] if loc else None))
    tables = lines.tables(len(model.measures))

    measures: list[Measure] = []
    first_line: dict[str, str] = {}
    for index, raw in enumerate(model.measures):
        table = tables[index]
        label = (
            f"measure {raw['id']}" if isinstance(raw.get("id"), str) else f"measure #{index + 1}"
        )
        measure = _validate(_MeasureModel, raw, partial(_source, table, raw, label))
        problem = _problem(measure, known_lists, known_grades)
        if problem is not None:
            key, value, message = problem
            raise ConfigError(f"{table.where(key, value)}: {label}: {message}")
        if measure.id in first_line:
            raise ConfigError(
                f"{table.where('id', measure.id)}: {label} is defined twice "
                f"(first at {first_line[measure.id]})"
            )
        first_line[measure.id] = table.where("id", measure.id)
        measures.append(
            Measure(
                id=measure.id,
                kind=measure.kind,
                name=measure.name,
                description=measure.description,
                legal_basis=measure.legal_basis,
                lists=frozenset(measure.lists),
                grades=frozenset(measure.grades),
                extends_to_officers=measure.extends_to_officers,
                group=measure.group,
            )
        )
    return tuple(measures)


def _problem(
    measure: _MeasureModel,
    known_lists: Collection[str] | None,
    known_grades: Collection[str] | None,
) -> tuple[str | None, str | None, str] | None:
    """What is wrong with a well-formed measure: (key, value, message) to locate and say it."""
    expected = KIND_OF_PREFIX.get(measure.id[0], MeasureKind.INCENTIVE)
    if measure.kind is not expected:
        return "kind", None, f"a {measure.id[:2]} measure is a {expected.value}"
    if not measure.lists and not measure.grades:
        return None, None, "targets no list and no grade, so it could never apply"
    if known_lists is not None:
        unknown = [ref for ref in measure.lists if ref not in known_lists]
        if unknown:
            return "lists", unknown[0], f"unknown list types {unknown}"
    if known_grades is not None:
        unknown = [ref for ref in measure.grades if ref not in known_grades]
        if unknown:
            return "grades", unknown[0], f"unknown grades {unknown}"
    return None


def catalogue_measure_problems(
    catalogue: Catalogue, measures: Iterable[Measure]
) -> dict[str, tuple[str, ...]]:
    """For each matter citing measures that `measures` lacks, those ids (in the matter's order)."""
    known = {measure.id for measure in measures}
    problems: dict[str, tuple[str, ...]] = {}
    for matter in catalogue.matters:
        unknown = tuple(m for m in matter.measures if m not in known)
        if unknown:
            problems[matter.id] = unknown
    return problems


def check_catalogue_measures(
    catalogue: Catalogue,
    measures: Iterable[Measure],
    *,
    catalogue_source: str | Path = "the catalogue",
    measures_source: str | Path = "the measures file",
) -> None:
    """Raise `ConfigError` naming every matter that cites a measure the measures file lacks.

    Run at start, after both files are loaded: a matter citing an unknown measure would otherwise
    evaluate fewer measures than it prescribes, and no official would notice.
    """
    problems = catalogue_measure_problems(catalogue, measures)
    if problems:
        cited = "; ".join(f"matter {matter} cites {list(ids)}" for matter, ids in problems.items())
        raise ConfigError(f"{catalogue_source}: measures not defined in {measures_source}: {cited}")


def _source(table: _Table, raw: dict[str, Any], label: str, loc: Loc) -> str:
    """Where a problem of one measure is: the line of its key, or of the offending list item."""
    key = str(loc[0]) if loc else None
    value = raw.get(key) if key is not None else None
    if len(loc) > 1 and isinstance(value, list) and isinstance(loc[1], int):
        value = value[loc[1]] if loc[1] < len(value) else None
    return f"{table.where(key, value if isinstance(value, str) else None)}: {label}"


def _validate(model: type[M], data: object, source_of: Callable[[Loc], str]) -> M:
    """`validated`, with the source naming the line of the first problem's key."""
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        source = source_of(exc.errors()[0]["loc"])
    # Validated again through the shared helper, so problems read as in every configuration file.
    return validated(model, data, source)


_MEASURES_HEADER = re.compile(r"^\s*\[\[\s*measures\s*\]\]")
_ANY_HEADER = re.compile(r"^\s*\[")


class _Table:
    """The lines of one ``[[measures]]`` table, to say where a key or a value is."""

    def __init__(self, path: Path, lines: list[str], start: int, end: int) -> None:
        self._path = path
        self._lines = lines
        self._start = start  # the header's line number; 0 when the table cannot be located
        self._end = end

    def where(self, key: str | None, value: str | None = None) -> str:
        if self._start == 0:
            return str(self._path)
        line = self._start
        if key is not None:
            assignment = re.compile(rf"^\s*{re.escape(key)}\s*=")
            line = next(
                (n for n in range(self._start + 1, self._end + 1) if assignment.match(self._at(n))),
                self._start,
            )
            if value is not None and line != self._start:
                quoted = f'"{value}"'
                line = next(
                    (n for n in range(line, self._end + 1) if quoted in self._at(n)),
                    line,
                )
        return f"{self._path}:{line}"

    def _at(self, number: int) -> str:
        return self._lines[number - 1]


class _Lines:
    """Finds the lines of a measures file's keys, for errors that say where."""

    def __init__(self, path: Path, text: str) -> None:
        self._path = path
        self._lines = text.splitlines()

    def top(self, key: int | str | None) -> str:
        if key is None:
            return str(self._path)
        pattern = re.compile(
            rf"^\s*(\[+\s*{re.escape(str(key))}\s*[\].]|{re.escape(str(key))}\s*=)"
        )
        number = next(
            (n for n, line in enumerate(self._lines, start=1) if pattern.match(line)), None
        )
        return str(self._path) if number is None else f"{self._path}:{number}"

    def tables(self, count: int) -> list[_Table]:
        """One `_Table` per measure; unlocated ones if the file does not use ``[[measures]]``."""
        headers = [n for n, line in enumerate(self._lines, start=1) if _MEASURES_HEADER.match(line)]
        if len(headers) != count:
            return [_Table(self._path, self._lines, 0, 0) for _ in range(count)]
        tables = []
        for header in headers:
            end = next(
                (
                    n - 1
                    for n in range(header + 1, len(self._lines) + 1)
                    if _ANY_HEADER.match(self._lines[n - 1])
                ),
                len(self._lines),
            )
            tables.append(_Table(self._path, self._lines, header, end))
        return tables
