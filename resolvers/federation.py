"""What lower-level gateways (cities, counties) add to a profile, merged into its parts.

A department's section shows this gateway's registry record with the records the lower gateways
hold for that department: every list (penalties, licences, inspections, list entries, grades and
the department's own lists) concatenated, each record part stamped with its `source`; a single
record part (commerce's registration) taken from the lower gateway only when this gateway's own
record has none. Records are never altered in place: cached records are shared by every request.
"""

from __future__ import annotations

from connectors.records import SubjectRecord
from connectors.upstream import FederatedRecord
from resolvers.subject import SubjectRef


def federated_records(root: SubjectRef) -> list[tuple[str, FederatedRecord]]:
    """The answers of the lower gateways consulted for this subject that gave one."""
    found: list[tuple[str, FederatedRecord]] = []
    for key in root.upstreams:
        record = root.outcomes[key].record
        if isinstance(record, FederatedRecord):
            found.append((key, record))
    return found


def upstream_sections(root: SubjectRef, department: str) -> list[SubjectRecord]:
    """The lower gateways' records of one department for this subject."""
    if department not in root.upstream_departments:
        return []
    return [
        record.sections[department]
        for _, record in federated_records(root)
        if department in record.sections
    ]


def merged_record(own: SubjectRecord | None, others: list[SubjectRecord]) -> SubjectRecord | None:
    """`own` (this gateway's registry record) with `others` appended; the first of `others`
    stands in when there is no own record. A copy whenever anything is added."""
    if not others:
        return own
    base, rest = (own, others) if own is not None else (others[0], others[1:])
    if not rest:
        return base
    update: dict[str, object] = {}
    for name in type(base).model_fields:
        value = getattr(base, name)
        if isinstance(value, list):
            added = [item for other in rest for item in getattr(other, name, None) or ()]
            if added:
                update[name] = [*value, *added]
        elif value is None:
            update[name] = next(
                (v for other in rest if (v := getattr(other, name, None)) is not None), None
            )
    update["updated_at"] = max(record.updated_at for record in (base, *rest))
    return base.model_copy(update=update)
