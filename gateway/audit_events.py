"""Turn what one request looked up into audit events (one per subject asked for)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from graphql import FieldNode, OperationDefinitionNode, value_from_ast_untyped

from connectors.upstream import FederatedRecord
from gateway.access_plan import PII_COORDINATES, AccessPlan
from gateway.audit import AuditEvent, Outcome
from resolvers.context import RequestContext
from resolvers.loading import LoadingOutcomes
from resolvers.lookups import Lookup, LookupOutcome
from resolvers.outcome import SourceOutcome
from resolvers.principal import Principal
from resolvers.public_view import hides_records
from resolvers.subject import FIELD_DEPARTMENTS, SubjectRef

_FIELD_OF = {department: field for field, department in FIELD_DEPARTMENTS.items()}


def _who(principal: Principal, request_id: str) -> dict[str, Any]:
    return {
        "request_id": request_id,
        "principal": principal.subject,
        "principal_name": principal.name,
        "roles": tuple(sorted(principal.roles)),
        "department": principal.department,
        "region": principal.region,
    }


class AuditDrafts:
    """Audit events of a request's looked-up subjects, drafted as the resolvers record them
    (`RequestContext.on_lookup`), while the registries are still being waited for.

    Validating an event is most of its cost, and after the last answer it runs on a core whose
    caches the wait has emptied (measured in the served gateway: 68 µs for a cold profile's one
    event, against 10 µs in a loop). A draft holds what is known at the lookup: who asked, the
    subject and the matter as sent, the subject's kind, validated in full; `audit_events`
    completes it with the lookup's result (`AuditEvent.completed`).

    Only a subject some department has to be asked about is drafted: for one served from the
    cache there is no wait to hide the work in, and a draft and its completion cost more than
    one event built whole (about 25 µs more per lookup, measured warm). A lookup without a draft
    is built whole in `audit_events`, as before.
    """

    def __init__(self) -> None:
        self._common: dict[str, Any] | None = None
        self._drafts: dict[int, tuple[Lookup, AuditEvent]] = {}

    def draft(self, lookup: Lookup, context: RequestContext) -> None:
        """Draft `lookup`'s event (a looked-up subject's, while a department is asked about
        it); never raises: whatever fails here fails again, and is reported, when the event is
        built whole."""
        ref = lookup.ref
        if lookup.outcome is not LookupOutcome.LOOKED_UP or ref is None:
            return
        outcomes = ref.outcomes
        if not isinstance(outcomes, LoadingOutcomes) or context.cached(
            (d, (lookup.subject,)) for d in outcomes if d in context.sources
        ):
            return
        if self._common is None:
            principal = context.principal
            self._common = {
                **_who(principal, context.request_id),
                "via": forwarded_by(principal.via),
            }
        try:
            event = AuditEvent(
                **self._common,
                matter=lookup.matter,
                subject=lookup.subject,
                subject_kind=ref.kind.value,
                outcome=Outcome.OK,
            )
        except Exception:
            return
        self._drafts[id(lookup)] = (lookup, event)

    def of(self, lookup: Lookup) -> AuditEvent | None:
        drafted = self._drafts.get(id(lookup))
        return drafted[1] if drafted is not None and drafted[0] is lookup else None


def audit_events(
    context: RequestContext,
    plan: AccessPlan | None,
    request_id: str,
    refused: Sequence[tuple[str, str | None]] = (),
    drafts: AuditDrafts | None = None,
) -> list[AuditEvent]:
    principal = context.principal
    returned = plan.audited_returned if plan is not None else frozenset()
    denied = plan.audited_denied if plan is not None else frozenset()
    who = _who(principal, request_id)
    forwarded = forwarded_by(principal.via)
    events = [
        AuditEvent(
            **who,
            via=forwarded,
            matter=matter,
            subject=subject,
            denied=tuple(denied) or ("Query.subject",),
            outcome=Outcome.DENIED,
        )
        for subject, matter in refused
    ]
    for lookup in context.lookups:
        common = {**who, "matter": lookup.matter, "subject": lookup.subject, "via": forwarded}
        if lookup.outcome is LookupOutcome.DENIED or lookup.ref is None:
            outcome = Outcome.DENIED if lookup.outcome is LookupOutcome.DENIED else Outcome.INVALID
            events.append(AuditEvent(**common, outcome=outcome))
            continue
        ref = lookup.ref
        # Read once: a cold subject's outcomes are a view over its loads' futures.
        outcomes = dict(ref.outcomes)
        failed = any(not o.answered for o in outcomes.values())
        withheld = {f"Subject.{_FIELD_OF[d]}" for d in ref.withheld}
        pii = ref.natural_person or bool(returned & PII_COORDINATES)
        result: dict[str, Any] = {
            "returned": tuple(returned - withheld),
            "denied": tuple(denied | withheld),
            "masked": ref.mask and pii,
            "unmasked_pii": not ref.mask and pii,
            "hidden_records_shown": _hidden_shown(ref, outcomes, returned),
            "sources": {d: o.state.value for d, o in outcomes.items()},
            "outcome": Outcome.PARTIAL if failed or denied or withheld else Outcome.OK,
        }
        draft = drafts.of(lookup) if drafts is not None else None
        if draft is not None:
            events.append(draft.completed(**result))
        else:
            events.append(AuditEvent(**common, subject_kind=ref.kind.value, **result))
    for officer in context.officer_lookups:
        failed = any(not o.answered for o in officer.outcomes.values())
        events.append(
            AuditEvent(
                **who,
                matter=officer.matter,
                subject=officer.person,
                subject_kind="NATURAL_PERSON",
                returned=("Subject.jointMeasures",),
                masked=not principal.may_see_pii,
                unmasked_pii=principal.may_see_pii,
                sources={d: o.state.value for d, o in officer.outcomes.items()},
                outcome=Outcome.PARTIAL if failed else Outcome.OK,
                via=f"legal representative of {officer.company}"
                + (f"; {forwarded}" if forwarded else ""),
            )
        )
    return events


def forwarded_by(via: tuple[str, ...]) -> str | None:
    """The audit's `via` of a lookup a higher-level gateway forwarded (nearest gateway first)."""
    return " via ".join(f"gateway {gateway}" for gateway in via) or None


def _hidden_shown(
    ref: SubjectRef, outcomes: Mapping[str, SourceOutcome], returned: frozenset[str]
) -> bool:
    """An official was shown a penalty or list entry that the public may not see (by a
    department of this gateway, or by a lower-level gateway's records merged in)."""
    if ref.public_view:
        return False
    lists = "Subject.lists" in returned
    for department, outcome in outcomes.items():
        record = outcome.record
        if record is None:
            continue
        if isinstance(record, FederatedRecord):
            if lists and hides_records(record, ref.today):
                return True
            if any(
                f"Subject.{_FIELD_OF[d]}" in returned and hides_records(section, ref.today)
                for d, section in record.sections.items()
            ):
                return True
            continue
        shown = lists or f"Subject.{_FIELD_OF.get(department, department)}" in returned
        if shown and hides_records(record, ref.today):
            return True
    return False


def refused_lookups(
    plan: AccessPlan | None,
    operation: OperationDefinitionNode | None,
    variables: Mapping[str, Any] | None,
    refused_whole: bool,
) -> list[tuple[str, str | None]]:
    """(subject, matter) of every `subject`/`subjects` field that never ran because the policy
    denied it, or because the whole operation was refused before execution (strict mode, or over
    its cost budget): resolvers did not see these, but an attempt to read a profile that was
    refused is exactly what the audit must show."""
    if operation is None or plan is None:
        return []
    denied_roots = {
        d.path[0] for d in plan.denied if d.coordinate in ("Query.subject", "Query.subjects")
    }
    found: list[tuple[str, str | None]] = []
    for selection in operation.selection_set.selections:
        if not isinstance(selection, FieldNode) or selection.name.value not in _LOOKUP_FIELDS:
            continue
        key = selection.alias.value if selection.alias else selection.name.value
        if not refused_whole and key not in denied_roots:
            continue
        arguments = {
            arg.name.value: value_from_ast_untyped(arg.value, dict(variables or {}))
            for arg in selection.arguments or ()
        }
        matter = arguments.get("matter")
        ids = arguments.get("ids") if selection.name.value == "subjects" else [arguments.get("id")]
        for subject in ids if isinstance(ids, list) else []:
            if subject is not None:
                found.append((str(subject), str(matter) if matter is not None else None))
    return found


_LOOKUP_FIELDS = frozenset({"subject", "subjects"})
