"""Turn what one request looked up into audit events (one per subject asked for)."""

from __future__ import annotations

from connectors.errors import SourceState
from gateway.access_plan import AccessPlan
from gateway.audit import AuditEvent, Outcome
from resolvers.context import RequestContext
from resolvers.lookups import LookupOutcome
from resolvers.public_view import hides_records
from resolvers.subject import SECTION_FIELDS, SubjectRef

_SETTLED = frozenset({SourceState.OK, SourceState.NOT_FOUND, SourceState.STALE})
_FIELD_OF = {department: field for field, department in SECTION_FIELDS.items()}
PII_COORDINATES = frozenset({"Person.idNumber", "IndustryBan.person"})


def audit_events(
    context: RequestContext, plan: AccessPlan | None, request_id: str
) -> list[AuditEvent]:
    principal = context.principal
    returned = plan.returned if plan is not None else frozenset()
    denied = plan.denied_coordinates if plan is not None else frozenset()
    events: list[AuditEvent] = []
    for lookup in context.lookups:
        common = {
            "request_id": request_id,
            "principal": principal.subject,
            "principal_name": principal.name,
            "roles": tuple(sorted(principal.roles)),
            "department": principal.department,
            "region": principal.region,
            "matter": lookup.matter,
            "subject": lookup.subject,
        }
        if lookup.outcome is LookupOutcome.DENIED or lookup.ref is None:
            outcome = Outcome.DENIED if lookup.outcome is LookupOutcome.DENIED else Outcome.INVALID
            events.append(AuditEvent(**common, outcome=outcome))
            continue
        ref = lookup.ref
        failed = any(o.state not in _SETTLED for o in ref.outcomes.values())
        withheld = {f"Subject.{_FIELD_OF[d]}" for d in ref.withheld}
        events.append(
            AuditEvent(
                **common,
                subject_kind=ref.kind.value,
                returned=tuple(returned - withheld),
                denied=tuple(denied | withheld),
                masked=ref.mask,
                unmasked_pii=not ref.mask
                and (ref.natural_person or bool(returned & PII_COORDINATES)),
                hidden_records_shown=_hidden_shown(ref, returned),
                sources={d: o.state.value for d, o in ref.outcomes.items()},
                outcome=Outcome.PARTIAL if failed or denied or withheld else Outcome.OK,
            )
        )
    return events


def _hidden_shown(ref: SubjectRef, returned: frozenset[str]) -> bool:
    """An official was shown a penalty or list entry that the public may not see."""
    if ref.public_view:
        return False
    for department, outcome in ref.outcomes.items():
        shown = f"Subject.{_FIELD_OF[department]}" in returned or "Subject.lists" in returned
        if shown and outcome.record is not None and hides_records(outcome.record, ref.today):
            return True
    return False
