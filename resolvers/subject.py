"""`Query.subject` and `Query.subjects`: validate ids and decide what each subject consults."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass

import strawberry
from strawberry.utils.str_converters import to_camel_case

from connectors.catalog import DEPARTMENTS
from resolvers.context import RequestContext
from resolvers.errors import CodedError, ErrorCode
from resolvers.identifiers import SubjectKind, parse_subject_id
from resolvers.selection import child_field_names

SECTION_FIELDS: dict[str, str] = {to_camel_case(key): key for key in DEPARTMENTS}
"""GraphQL field of each department's section (`foodDrug` -> `food_drug`)."""

ALL_DEPARTMENT_FIELDS = frozenset({"lists", "grades"})
"""Fields gathered from every department consulted."""


@dataclass(frozen=True, slots=True)
class SubjectRef:
    """A validated subject, as the parent of its fields. Its data is loaded by the fields."""

    id: str
    kind: SubjectKind
    consulted: tuple[str, ...]
    """The departments whose records this request reads for the subject, in section order."""
    name_sources: tuple[str, ...]
    """Where the name comes from: market regulation for organisations, every source for persons."""


def resolve_subject(
    info: strawberry.Info[RequestContext, None],
    id: strawberry.ID,
    matter: strawberry.ID | None = None,
) -> SubjectRef:
    context = info.context
    fields = child_field_names(info._raw_info)
    parsed = parse_subject_id(id, context.today)
    return _subject_ref(parsed.value, parsed.kind, fields, context.sources.keys())


def resolve_subjects(
    info: strawberry.Info[RequestContext, None],
    ids: list[strawberry.ID],
    matter: strawberry.ID | None = None,
) -> list[SubjectRef | CodedError]:
    """One entry per id, in order; an invalid id is `null` with its error at its index."""
    context = info.context
    if len(ids) > context.max_batch:
        raise CodedError(
            ErrorCode.BATCH_TOO_LARGE,
            f"At most {context.max_batch} subjects per query; got {len(ids)}.",
            maxBatch=context.max_batch,
        )
    fields = child_field_names(info._raw_info)
    enabled = context.sources.keys()
    results: list[SubjectRef | CodedError] = []
    for raw in ids:
        try:
            parsed = parse_subject_id(raw, context.today)
        except CodedError as exc:
            results.append(exc)
            continue
        results.append(_subject_ref(parsed.value, parsed.kind, fields, enabled))
    return results


def _subject_ref(
    subject_id: str, kind: SubjectKind, fields: Collection[str], enabled: Collection[str]
) -> SubjectRef:
    name_sources = _name_sources(kind, enabled)
    wanted: set[str] = set()
    for field in fields:
        if field in SECTION_FIELDS:
            wanted.add(SECTION_FIELDS[field])
        elif field in ALL_DEPARTMENT_FIELDS:
            wanted.update(enabled)
        elif field == "name":
            wanted.update(name_sources)
    consulted = tuple(department for department in enabled if department in wanted)
    return SubjectRef(subject_id, kind, consulted, name_sources)


def _name_sources(kind: SubjectKind, enabled: Collection[str]) -> tuple[str, ...]:
    if kind is not SubjectKind.NATURAL_PERSON and "commerce" in enabled:
        return ("commerce",)
    return tuple(enabled)


async def resolve_name(root: SubjectRef, info: strawberry.Info[RequestContext, None]) -> str | None:
    """The registered name; if market regulation cannot say, the name other records carry.

    The fallback reads only departments this query consults anyway, so it costs no extra call.
    """
    context = info.context
    outcomes = await context.load_all(root.name_sources, root.id)
    for outcome in outcomes:
        registration = getattr(outcome.record, "registration", None)
        if registration is not None:
            return str(registration.name)
    others = [d for d in root.consulted if d not in root.name_sources]
    for outcome in [*outcomes, *await context.load_all(others, root.id)]:
        if outcome.record is not None:
            return outcome.record.name
    return None
