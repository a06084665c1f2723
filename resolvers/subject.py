"""`Query.subject` and `Query.subjects`: validate ids, decide and load what each subject consults.

All I/O of a profile starts here, once: every department the query needs is asked concurrently
(and, for `subjects`, in one batch per department), before any field of `Subject` resolves. The
fields below are plain functions over loaded data: for a cached subject graphql-core runs them
without creating a task or awaiting anything per field; for a subject still being fetched each
waits only for the departments it reads (resolvers/loading.py). That keeps the sections
concurrent by construction and makes `sources` describe exactly what was consulted, however the
query is written.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date

import strawberry
from strawberry.utils.str_converters import to_camel_case

from connectors.catalog import DEPARTMENTS
from connectors.records import Person, today_in_china
from connectors.upstream import UpstreamParts
from resolvers.catalogue import Matter
from resolvers.context import RequestContext
from resolvers.errors import CodedError, ErrorCode
from resolvers.identifiers import SubjectId, SubjectKind, parse_subject_id
from resolvers.loading import LoadingOutcomes
from resolvers.lookups import Lookup, LookupOutcome, OfficerLookup
from resolvers.masking import mask_id_number, mask_name
from resolvers.outcome import SourceOutcome
from resolvers.selection import child_field_arguments, child_field_names, selects_anywhere

REPORTS_DEPARTMENT = "credit_agency"
"""Credit agencies hold no section of their own: their reports are `Subject.reports`."""
JOINT_MEASURES_FIELD = "jointMeasures"
ID_NUMBER_FIELD = "idNumber"


@dataclass(frozen=True, slots=True)
class Officer:
    """A company's legal representative, and what the departments hold about them: consulted
    only to evaluate measures that extend to persons in charge (`P_OFFICER_BAN`)."""

    person: Person
    outcomes: Mapping[str, SourceOutcome]


SECTION_FIELDS: dict[str, str] = {
    to_camel_case(key): key for key in DEPARTMENTS if key != REPORTS_DEPARTMENT
}
"""GraphQL field of each department's section (`foodDrug` -> `food_drug`)."""

FIELD_DEPARTMENTS: dict[str, str] = {**SECTION_FIELDS, "reports": REPORTS_DEPARTMENT}
"""The department each department-specific field of `Subject` reads."""

ALL_DEPARTMENT_FIELDS = frozenset({"lists", "grades", JOINT_MEASURES_FIELD})
"""Fields gathered from every department consulted (joint measures: every department its
matter uses)."""


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
    officers: tuple[Officer, ...] = ()
    """Legal representatives consulted for joint measures that extend to them."""
    upstreams: tuple[str, ...] = ()
    """The lower-level gateways consulted (their outcomes follow the departments' in
    `outcomes`, keyed by upstream key)."""
    upstream_departments: frozenset[str] = frozenset()
    """The departments whose sections were asked of those gateways."""
    readable: frozenset[str] | None = None
    """The departments whose records the lookup's matter lets this query show in lists, grades
    and reports (None: all, for the public). Departments consulted only to evaluate another
    matter's joint measures feed that evaluation and nothing else."""

    def shows(self, key: str) -> bool:
        """Whether the records of department (or upstream) `key` may be shown outside
        `jointMeasures`: upstreams are always asked under the lookup's own matter."""
        return self.readable is None or key in self.readable or key in self.upstreams

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
        parsed = context.subject_id(id)
    except CodedError:
        context.record_lookup(Lookup(id, matter, LookupOutcome.INVALID))
        raise
    (ref,) = await _load(context, [parsed], _selected(info), purpose)
    context.record_lookup(Lookup(parsed.value, matter, LookupOutcome.LOOKED_UP, ref))
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
            parsed.append(context.subject_id(raw))
        except CodedError as exc:
            parsed.append(exc)
    valid = [p for p in parsed if isinstance(p, SubjectId)]
    refs = iter(await _load(context, valid, _selected(info), purpose))
    results: list[SubjectRef | CodedError] = []
    for raw, item in zip(ids, parsed, strict=True):
        if isinstance(item, CodedError):
            context.record_lookup(Lookup(raw, matter, LookupOutcome.INVALID))
            results.append(item)
        else:
            ref = next(refs)
            context.record_lookup(Lookup(item.value, matter, LookupOutcome.LOOKED_UP, ref))
            results.append(ref)
    return results


def _purpose(context: RequestContext, matter: str | None, ids: Sequence[str]) -> Matter | None:
    """The matter the lookup serves; a refusal is recorded (for the audit) for every id asked."""
    try:
        return context.catalogue.purpose(context.principal, matter)
    except CodedError:
        for raw in ids:
            context.record_lookup(Lookup(raw, matter, LookupOutcome.DENIED))
        raise


@dataclass(frozen=True, slots=True)
class _Selection:
    """What a `subject`/`subjects` field selects below it, as far as planning the loads goes."""

    fields: frozenset[str]
    measure_matters: tuple[str | None, ...] = ()
    """The `matter` argument of each `jointMeasures` selected (None: the lookup's own)."""
    personal: bool = False
    """A personal identifier (`Person.idNumber`) is selected somewhere below: only then is it
    asked of lower-level gateways (what crosses to this gateway, and what their audit says was
    read, is what the client asked for)."""


def _selected(info: strawberry.Info[RequestContext, None]) -> _Selection:
    raw = info._raw_info
    fields = child_field_names(raw)
    personal = bool(info.context.upstreams) and selects_anywhere(raw, ID_NUMBER_FIELD)
    if JOINT_MEASURES_FIELD not in fields:
        return _Selection(fields, personal=personal)
    arguments = child_field_arguments(raw, JOINT_MEASURES_FIELD)
    matters = tuple(_optional_str(args.get("matter")) for args in arguments)
    return _Selection(fields, matters, personal)


def _optional_str(value: object) -> str | None:
    return None if value is None else str(value)


async def _load(
    context: RequestContext,
    subjects: list[SubjectId],
    selection: _Selection,
    purpose: Matter | None,
) -> list[SubjectRef]:
    """Load what each subject consults: the sections asked for that the matter uses, and what
    the joint measures of each matter evaluated need (then, for companies, their legal
    representatives' records, when a measure extends to them)."""
    plan = _LoadPlan.planned(context, selection, purpose)
    used, asks = plan.used, plan.asks
    plans = [plan.consulted(subject.kind) for subject in subjects]
    wanted = _wanted(plan, subjects, plans)
    officers: dict[str, tuple[Officer, ...]] = {}
    outcomes: Callable[[SubjectId, tuple[str, ...]], Mapping[str, SourceOutcome]]
    # A warm lookup (every record cached fresh, no lower-level gateway) is read at once.
    fresh = None if asks else context.fresh_outcomes(wanted.items())
    if fresh is None and not asks and not plan.measure_matters:
        # Departments still to be fetched: the subjects are handed on now, each section
        # completed as its department answers (resolvers/loading.py). Lower-level gateways and
        # joint measures (whose officers depend on loaded records) wait for everything.
        started = context.start_loads(wanted.items())

        def outcomes(subject: SubjectId, consulted: tuple[str, ...]) -> LoadingOutcomes:
            return LoadingOutcomes({d: started[(d, subject.value)] for d in consulted})

    else:
        loaded = fresh
        if loaded is None:
            loaded = await context.load(
                wanted.items(),
                asks.items(),
                [s.value for s in subjects],
                purpose.id if purpose is not None else None,
            )
        officers = await _load_officers(context, subjects, loaded, plan.measure_matters)

        def outcomes(subject: SubjectId, consulted: tuple[str, ...]) -> dict[str, SourceOutcome]:
            return {
                **{department: loaded[(department, subject.value)] for department in consulted},
                **{key: loaded[(key, subject.value)] for key in asks},
            }

    mask = not context.principal.may_see_pii
    public_view = context.principal.is_public
    upstream_departments = frozenset(d for parts in asks.values() for d in parts.departments)
    return [
        SubjectRef(
            _shown_id(subject, mask),
            subject.kind,
            outcomes(subject, consulted),
            name_sources,
            mask,
            public_view,
            context.today,
            plan.withheld,
            purpose.id if purpose is not None else None,
            officers.get(subject.value, ()),
            tuple(asks),
            upstream_departments,
            frozenset(used) if purpose is not None else None,
        )
        for subject, (consulted, name_sources) in zip(subjects, plans, strict=True)
    ]


def _wanted(
    plan: _LoadPlan,
    subjects: Sequence[SubjectId],
    plans: Sequence[tuple[tuple[str, ...], tuple[str, ...]]],
) -> dict[str, list[str]]:
    """The ids each enabled department is asked for."""
    return {
        department: [
            s.value
            for s, (consulted, _) in zip(subjects, plans, strict=True)
            if department in consulted
        ]
        for department in plan.enabled
    }


def planned_loads(
    context: RequestContext,
    ids: Sequence[str],
    matter: str | None,
    fields: frozenset[str],
    measure_matters: tuple[str | None, ...] = (),
) -> list[tuple[str, list[str]]]:
    """The department loads a `subject`/`subjects` field's resolver will make, known before
    execution reaches it, so the gateway can start them early (`RequestContext.prefetch`) and the
    upstream requests leave while graphql-core sets up.

    It follows `_load`'s plan after the resolver's own checks — purpose, batch size, valid ids —
    and plans nothing where the resolver would refuse. Lower-level gateways and legal
    representatives are left to the resolver."""
    if len(ids) > context.max_batch:
        return []
    try:
        purpose = context.catalogue.purpose(context.principal, matter)
    except CodedError:
        return []
    subjects: list[SubjectId] = []
    for raw in ids:
        try:
            subjects.append(context.subject_id(raw))
        except CodedError:
            continue
    if not subjects:
        return []
    plan = _LoadPlan.planned(context, _Selection(fields, measure_matters), purpose)
    plans = [plan.consulted(subject.kind) for subject in subjects]
    return [(d, ids) for d, ids in _wanted(plan, subjects, plans).items() if ids]


@dataclass(frozen=True, slots=True)
class _LoadPlan:
    """What one `subject`/`subjects` field consults, decided from the query and the matter alone
    (before anything is fetched): the same plan serves the loads and the query's cost."""

    fields: frozenset[str]
    enabled: tuple[str, ...]
    used: tuple[str, ...]
    """The enabled departments the lookup's matter uses (all of them for the public)."""
    withheld: frozenset[str]
    measure_matters: list[Matter]
    for_measures: tuple[str, ...]
    asks: dict[str, UpstreamParts]

    _consulted: dict[SubjectKind, tuple[tuple[str, ...], tuple[str, ...]]] = field(
        default_factory=dict, compare=False
    )
    """`consulted`'s answers, by kind (there are four)."""

    @classmethod
    def planned(
        cls, context: RequestContext, selection: _Selection, purpose: Matter | None
    ) -> _LoadPlan:
        """The plan of a selection and matter for this principal (`of` reads nothing else but
        the app's sources, lower-level gateways and catalogue), kept in `context.plans`: the
        app's, so that a cold profile's way out does not make it again (about 30 us there)."""
        key = (cls, selection, None if purpose is None else purpose.id, context.principal)
        plan = context.plans.get(key)
        if not isinstance(plan, _LoadPlan):
            plan = context.plans[key] = cls.of(context, selection, purpose)
        return plan

    @classmethod
    def of(
        cls, context: RequestContext, selection: _Selection, purpose: Matter | None
    ) -> _LoadPlan:
        enabled = tuple(context.sources)
        used = enabled if purpose is None else tuple(d for d in enabled if d in purpose.sections)
        served = set(enabled).union(*(u.departments for u in context.upstreams.values()))
        fields = selection.fields
        withheld = frozenset(
            FIELD_DEPARTMENTS[f]
            for f in fields
            if f in FIELD_DEPARTMENTS
            and FIELD_DEPARTMENTS[f] in served
            and purpose is not None
            and FIELD_DEPARTMENTS[f] not in purpose.sections
        )
        measure_matters = _measure_matters(context, selection, purpose)
        for_measures = tuple(d for d in enabled if any(d in m.sections for m in measure_matters))
        asks = _upstream_asks(context, selection, purpose, bool(measure_matters))
        return cls(fields, enabled, used, withheld, measure_matters, for_measures, asks)

    def consulted(self, kind: SubjectKind) -> tuple[tuple[str, ...], tuple[str, ...]]:
        """(departments consulted, departments the name comes from) for a subject of `kind`."""
        found = self._consulted.get(kind)
        if found is None:
            found = self._consulted[kind] = _consulted(
                kind, self.fields, self.enabled, self.used, self.for_measures
            )
        return found


def planned_records(
    context: RequestContext,
    ids: Sequence[str],
    matter: str | None,
    fields: frozenset[str],
    measure_matters: tuple[str | None, ...] = (),
    *,
    exact: bool = True,
) -> int:
    """How many records (a department's or a lower-level gateway's, for one subject) a
    `subject`/`subjects` field selecting `fields` will ask for, planned as `_load` plans them.

    This is the query cost's unit, computed before execution from the same plan the resolver
    follows, so the two cannot drift apart. A lookup the resolver refuses before fetching (no
    valid purpose, more ids than `max_batch`) costs nothing, and so does an invalid id; a record
    later served from the cache still counts (the cost bounds what a query may ask for, whoever
    answers). The legal representatives consulted for measures that extend to them are not
    counted: who they are is only known from the companies' records.

    Not `exact`, no id is validated (that costs tens of microseconds each): every id counts as a
    valid one of the kind that consults most, which is never less than the exact count.
    """
    if len(ids) > context.max_batch:
        return 0
    try:
        purpose = context.catalogue.purpose(context.principal, matter)
    except CodedError:
        return 0
    plan = _LoadPlan.planned(context, _Selection(fields, measure_matters), purpose)
    if not exact:
        most = max(len(plan.consulted(kind)[0]) for kind in SubjectKind)
        return len(ids) * (most + len(plan.asks))
    total = 0
    for raw in ids:
        try:
            subject = context.subject_id(raw)
        except CodedError:
            continue
        total += len(plan.consulted(subject.kind)[0]) + len(plan.asks)
    return total


def _upstream_asks(
    context: RequestContext, selection: _Selection, purpose: Matter | None, measures: bool
) -> dict[str, UpstreamParts]:
    """What to ask each lower-level gateway for: the sections selected that it serves and the
    matter uses; lists and grades when selected or needed for joint measures; the name. A gateway
    serving no department the matter uses is not asked at all."""
    asks: dict[str, UpstreamParts] = {}
    if not context.upstreams:
        return asks
    fields = selection.fields
    sections = {FIELD_DEPARTMENTS[f] for f in fields if f in FIELD_DEPARTMENTS}
    lists = "lists" in fields or (measures and JOINT_MEASURES_FIELD in fields)
    grades = "grades" in fields or (measures and JOINT_MEASURES_FIELD in fields)
    for key, upstream in context.upstreams.items():
        relevant = [d for d in upstream.departments if purpose is None or d in purpose.sections]
        if not relevant:
            continue
        parts = UpstreamParts(
            tuple(d for d in relevant if d in sections),
            lists,
            grades,
            "name" in fields,
            selection.personal,
        )
        if parts:
            asks[key] = parts
    return asks


def _measure_matters(
    context: RequestContext, selection: _Selection, purpose: Matter | None
) -> list[Matter]:
    """The matters whose joint measures are evaluated. One the principal may not use is left
    out here: `jointMeasures` refuses it at its own path, and nothing is fetched for it."""
    matters: dict[str, Matter] = {}
    for matter_id in selection.measure_matters:
        if matter_id is None:
            if purpose is not None:
                matters[purpose.id] = purpose
            continue
        try:
            found = context.catalogue.purpose(context.principal, matter_id)
        except CodedError:
            continue
        if found is not None:
            matters[found.id] = found
    return list(matters.values())


async def _load_officers(
    context: RequestContext,
    subjects: list[SubjectId],
    loaded: Mapping[tuple[str, str], SourceOutcome],
    matters: list[Matter],
) -> dict[str, tuple[Officer, ...]]:
    """The legal representatives of the companies looked up, with the records of every
    department their matters use, when one of those matters applies a measure that extends to
    persons in charge. A second round of loads, so only queries that need it pay for it."""
    officer_matters = [m for m in matters if context.extends_to_officers(m.measures)]
    departments = [d for d in context.sources if any(d in m.sections for m in officer_matters)]
    if not departments:
        return {}
    people: dict[str, tuple[SubjectId, Person]] = {}
    for subject in subjects:
        if subject.kind is SubjectKind.NATURAL_PERSON:
            continue
        outcome = loaded.get(("commerce", subject.value))
        registration = getattr(outcome.record, "registration", None) if outcome else None
        person = registration.legal_representative if registration is not None else None
        if person is None or person.id_number is None:
            continue
        try:
            parsed = parse_subject_id(person.id_number, context.today)
        except CodedError:
            continue
        if parsed.kind is SubjectKind.NATURAL_PERSON:
            people[subject.value] = (parsed, person)
    if not people:
        return {}
    ids = sorted({parsed.value for parsed, _ in people.values()})
    answers = await context.load((department, ids) for department in departments)
    officers: dict[str, tuple[Officer, ...]] = {}
    for subject_value, (parsed, person) in people.items():
        outcomes = {d: answers[(d, parsed.value)] for d in departments}
        officers[subject_value] = (Officer(person, outcomes),)
        context.officer_lookups.append(
            OfficerLookup(parsed.value, subject_value, officer_matters[0].id, outcomes)
        )
    return officers


def _shown_id(subject: SubjectId, mask: bool) -> str:
    if mask and subject.kind is SubjectKind.NATURAL_PERSON:
        return mask_id_number(subject.value)
    return subject.value


def _consulted(
    kind: SubjectKind,
    fields: Collection[str],
    enabled: tuple[str, ...],
    used: tuple[str, ...],
    for_measures: Collection[str] = (),
) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """(departments consulted, in the gateway's order; departments the name comes from) for one
    subject: what the lookup's matter allows (`used`), plus what the joint measures of the
    matters evaluated need."""
    name_sources = _name_sources(kind, used)
    wanted: set[str] = set()
    for selected in fields:
        if selected in FIELD_DEPARTMENTS:
            wanted.add(FIELD_DEPARTMENTS[selected])
        elif selected == JOINT_MEASURES_FIELD:
            wanted.update(for_measures)
        elif selected in ALL_DEPARTMENT_FIELDS:
            wanted.update(used)
        elif selected == "name":
            wanted.update(name_sources)
    allowed = set(used).union(for_measures)
    return tuple(d for d in enabled if d in wanted and d in allowed), name_sources


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
        if record is not None and record.name:
            return mask_name(record.name) if root.mask and root.natural_person else record.name
    return None
