"""`Query.subject` and `Query.subjects`: validate ids, decide and load what each subject consults.

All I/O of a profile happens here, once: every department the query needs is asked concurrently
(and, for `subjects`, in one batch per department), before any field of `Subject` resolves. The
fields below are then plain functions over loaded data, which graphql-core runs without creating a
task or awaiting anything per field. That keeps the sections concurrent by construction and makes
`sources` describe exactly what was consulted, however the query is written.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date

import strawberry
from strawberry.utils.str_converters import to_camel_case

from connectors.catalog import DEPARTMENTS
from connectors.records import today_in_china
from resolvers.catalogue import Matter
from resolvers.context import RequestContext
from resolvers.errors import CodedError, ErrorCode
from resolvers.identifiers import SubjectId, SubjectKind, parse_subject_id
from resolvers.lookups import Lookup, LookupOutcome
from resolvers.masking import mask_id_number, mask_name
from resolvers.outcome import SourceOutcome
from resolvers.selection import child_field_names

SECTION_FIELDS: dict[str, str] = {to_camel_case(key): key for key in DEPARTMENTS}
"""GraphQL field of each department's section (`foodDrug` -> `food_drug`)."""

ALL_DEPARTMENT_FIELDS = frozenset({"lists", "grades"})
"""Fields gathered from every department consulted."""


@dataclass(frozen=True, slots=True)
class SubjectRef:
    """A validated subject with the outcome of every department this query consults for it."""

    id: str
    """As shown: a natural person's number is masked for principals without `pii`."""
    kind: SubjectKind
    outcomes: Mapping[str, SourceOutcome]
    """Per department consulted, in section order."""
    name_sources: tuple[str, ...]
    """Where the name comes from: market regulation for organisations, every source for persons."""
    mask: bool = False
    """Personal data below this subject is masked (the principal lacks the `pii` scope)."""
    public_view: bool = False
    """Only what is publicly disclosed today is shown (the principal is the public)."""
    today: date = field(default_factory=today_in_china)
    withheld: frozenset[str] = frozenset()
    """Departments the query asked for but the lookup's matter does not use (not consulted)."""
    matter: str | None = None

    @property
    def natural_person(self) -> bool:
        return self.kind is SubjectKind.NATURAL_PERSON


async def resolve_subject(
    info: strawberry.Info[RequestContext, None],
    id: strawberry.ID,
    matter: strawberry.ID | None = None,
) -> SubjectRef:
    context = info.context
    purpose = _purpose(context, matter, [id])
    try:
        parsed = parse_subject_id(id, context.today)
    except CodedError:
        context.lookups.append(Lookup(id, matter, LookupOutcome.INVALID))
        raise
    (ref,) = await _load(context, [parsed], child_field_names(info._raw_info), purpose)
    context.lookups.append(Lookup(parsed.value, matter, LookupOutcome.LOOKED_UP, ref))
    return ref


async def resolve_subjects(
    info: strawberry.Info[RequestContext, None],
    ids: list[strawberry.ID],
    matter: strawberry.ID | None = None,
) -> list[SubjectRef | CodedError]:
    """One entry per id, in order; an invalid id is `null` with its error at its index."""
    context = info.context
    purpose = _purpose(context, matter, ids)
    if len(ids) > context.max_batch:
        raise CodedError(
            ErrorCode.BATCH_TOO_LARGE,
            f"At most {context.max_batch} subjects per query; got {len(ids)}.",
            maxBatch=context.max_batch,
        )
    parsed: list[SubjectId | CodedError] = []
    for raw in ids:
        try:
            parsed.append(parse_subject_id(raw, context.today))
        except CodedError as exc:
            parsed.append(exc)
    valid = [p for p in parsed if isinstance(p, SubjectId)]
    refs = iter(await _load(context, valid, child_field_names(info._raw_info), purpose))
    results: list[SubjectRef | CodedError] = []
    for raw, item in zip(ids, parsed, strict=True):
        if isinstance(item, CodedError):
            context.lookups.append(Lookup(raw, matter, LookupOutcome.INVALID))
            results.append(item)
        else:
            ref = next(refs)
            context.lookups.append(Lookup(item.value, matter, LookupOutcome.LOOKED_UP, ref))
            results.append(ref)
    return results


def _purpose(context: RequestContext, matter: str | None, ids: Sequence[str]) -> Matter | None:
    """The matter the lookup serves; a refusal is recorded (for the audit) for every id asked."""
    try:
        return context.catalogue.purpose(context.principal, matter)
    except CodedError:
        context.lookups.extend(Lookup(raw, matter, LookupOutcome.DENIED) for raw in ids)
        raise


async def _load(
    context: RequestContext,
    subjects: list[SubjectId],
    fields: Collection[str],
    purpose: Matter | None,
) -> list[SubjectRef]:
    """Load what each subject consults: the sections asked for that the matter uses."""
    enabled = tuple(context.sources)
    used = enabled if purpose is None else tuple(d for d in enabled if d in purpose.sections)
    withheld = frozenset(
        SECTION_FIELDS[f] for f in fields if f in SECTION_FIELDS and SECTION_FIELDS[f] not in used
    )
    plans = [_consulted(subject.kind, fields, used) for subject in subjects]
    wanted = {
        department: [
            s.value
            for s, (consulted, _) in zip(subjects, plans, strict=True)
            if department in consulted
        ]
        for department in enabled
    }
    loaded = await context.load(wanted.items())
    mask = not context.principal.may_see_pii
    public_view = context.principal.is_public
    return [
        SubjectRef(
            _shown_id(subject, mask),
            subject.kind,
            {department: loaded[(department, subject.value)] for department in consulted},
            name_sources,
            mask,
            public_view,
            context.today,
            withheld,
            purpose.id if purpose is not None else None,
        )
        for subject, (consulted, name_sources) in zip(subjects, plans, strict=True)
    ]


def _shown_id(subject: SubjectId, mask: bool) -> str:
    if mask and subject.kind is SubjectKind.NATURAL_PERSON:
        return mask_id_number(subject.value)
    return subject.value


def _consulted(
    kind: SubjectKind, fields: Collection[str], enabled: tuple[str, ...]
) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """(departments consulted, departments the name comes from) for one subject."""
    name_sources = _name_sources(kind, enabled)
    wanted: set[str] = set()
    for selected in fields:
        if selected in SECTION_FIELDS:
            wanted.add(SECTION_FIELDS[selected])
        elif selected in ALL_DEPARTMENT_FIELDS:
            wanted.update(enabled)
        elif selected == "name":
            wanted.update(name_sources)
    return tuple(d for d in enabled if d in wanted), name_sources


def _name_sources(kind: SubjectKind, enabled: tuple[str, ...]) -> tuple[str, ...]:
    if kind is not SubjectKind.NATURAL_PERSON and "commerce" in enabled:
        return ("commerce",)
    return enabled


def resolve_name(root: SubjectRef) -> str | None:
    """The registered name; if market regulation cannot say, the name other records carry.

    The fallback reads only departments this query consults anyway, so it costs no extra call.
    """
    for department in root.name_sources:
        registration = getattr(root.outcomes[department].record, "registration", None)
        if registration is not None:
            return str(registration.name)
    for department in (*root.name_sources, *root.outcomes):
        record = root.outcomes[department].record
        if record is not None:
            return mask_name(record.name) if root.mask and root.natural_person else record.name
    return None
