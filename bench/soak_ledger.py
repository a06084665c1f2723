"""What the soak sent and got back, and the reconciliation of that with the audit file.

The accounting rule, from the request path (gateway/graphql_http.py): a request whose operation
was executed records one audit entry per subject id it asked for (valid or not, answered, partly
denied or refused for want of a purpose or a right) and commits them before it answers; a request
refused before execution (bad token, bad request, rate limit, the concurrency limit's 503) records
none; a request whose audit commit failed answers 503 `AUDIT_UNAVAILABLE` with no data and its
entries were not committed. So, for every answered request, the entries carrying its request id
must be exactly its ids when the answer holds `data` (or is a strict-mode 403), and none otherwise.

A request the client gave up on (timeout, reset) may or may not have been audited: the lookup can
have happened with nobody left to receive it. Those are counted apart and never called an error.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import orjson

from bench.soak_mix import Call

MAX_EXAMPLES = 20


@dataclass(frozen=True, slots=True)
class Answered:
    kind: str
    status: int
    ids: tuple[str, ...]
    """The ids whose entries the audit must hold for this request (empty: none)."""


@dataclass(frozen=True, slots=True)
class Sample:
    """One answered request: when it started (seconds into the load), its latency, its kind."""

    started_s: float
    latency_ms: float
    kind: str
    status: int
    step: int
    """The index of the fault step the request started in (-1: before the load)."""


@dataclass
class Ledger:
    answered: dict[str, Answered] = field(default_factory=dict)
    unanswered: dict[str, str] = field(default_factory=dict)
    """Request id -> kind of the requests the client got no answer to."""
    samples: list[Sample] = field(default_factory=list)
    statuses: Counter[int] = field(default_factory=Counter)
    statuses_by_kind: dict[str, Counter[int]] = field(default_factory=dict)
    error_codes: Counter[str] = field(default_factory=Counter)
    source_states: Counter[str] = field(default_factory=Counter)
    source_states_by_department: dict[str, Counter[str]] = field(default_factory=dict)
    source_states_by_step: dict[int, Counter[tuple[str, str]]] = field(default_factory=dict)
    client_failures: Counter[str] = field(default_factory=Counter)
    not_json: int = 0

    def record(
        self,
        request_id: str,
        call: Call,
        status: int,
        body: bytes,
        started_s: float,
        latency_ms: float,
        step: int,
    ) -> None:
        """Account one answer."""
        self.statuses[status] += 1
        self.statuses_by_kind.setdefault(call.kind, Counter())[status] += 1
        self.samples.append(Sample(started_s, latency_ms, call.kind, status, step))
        try:
            document = orjson.loads(body)
        except orjson.JSONDecodeError:
            document = None
        if not isinstance(document, dict):
            # Not the gateway's JSON: uvicorn's own 503 at the concurrency limit, or a 500.
            self.not_json += 1
            self.error_codes[f"(no JSON body, HTTP {status})"] += 1
            self.answered[request_id] = Answered(call.kind, status, ())
            return
        for error in document.get("errors") or ():
            code = (error.get("extensions") or {}).get("code") if isinstance(error, dict) else None
            self.error_codes[str(code or "(no code)")] += 1
        executed = "data" in document or status == 403
        self.answered[request_id] = Answered(call.kind, status, call.ids if executed else ())
        by_step = self.source_states_by_step.setdefault(step, Counter())
        for department, state in _source_rows(document.get("data")):
            self.source_states[state] += 1
            self.source_states_by_department.setdefault(department, Counter())[state] += 1
            by_step[(department, state)] += 1

    def failed(self, request_id: str, call: Call, reason: str) -> None:
        self.unanswered[request_id] = call.kind
        self.client_failures[reason] += 1

    @property
    def lookups_answered(self) -> int:
        """Subject lookups the gateway executed and answered (each must have one entry)."""
        return sum(len(answer.ids) for answer in self.answered.values())

    @property
    def lookups_in_200(self) -> int:
        return sum(len(a.ids) for a in self.answered.values() if a.status == 200)


def _source_rows(data: Any) -> Iterable[tuple[str, str]]:
    if not isinstance(data, dict):
        return
    subjects = [data.get("subject"), *(data.get("subjects") or ())]
    for subject in subjects:
        if not isinstance(subject, dict):
            continue
        for row in subject.get("sources") or ():
            yield str(row.get("department")), str(row.get("status"))


@dataclass
class AuditTally:
    """The audit file as read back: entries per request id, outcomes, and the chain's verdict."""

    entries: int
    verified: bool
    verified_count: int
    head_seq: int
    broken: str | None
    subjects_by_request: dict[str, Counter[str]]
    outcomes: Counter[str]


def reconcile(ledgers: Iterable[Ledger], audit: AuditTally) -> dict[str, Any]:
    """Compare what the soak knows was looked up with what the audit holds, request by request."""
    ledger = Ledger()
    for part in ledgers:
        ledger.answered |= part.answered
        ledger.unanswered |= part.unanswered
    mismatches: list[dict[str, Any]] = []
    mismatched = 0
    matched_entries = 0
    for request_id, answer in ledger.answered.items():
        found = audit.subjects_by_request.get(request_id, Counter())
        expected = Counter(answer.ids)
        if found == expected:
            matched_entries += sum(found.values())
            continue
        mismatched += 1
        if len(mismatches) < MAX_EXAMPLES:
            mismatches.append(
                {
                    "request_id": request_id,
                    "kind": answer.kind,
                    "status": answer.status,
                    "expected": sum(expected.values()),
                    "found": sum(found.values()),
                    "same_count_other_subjects": sum(found.values()) == sum(expected.values()),
                }
            )
    unanswered_entries = sum(
        sum(audit.subjects_by_request.get(request_id, Counter()).values())
        for request_id in ledger.unanswered
    )
    known = ledger.answered.keys() | ledger.unanswered.keys()
    unknown = {
        request_id: sum(subjects.values())
        for request_id, subjects in audit.subjects_by_request.items()
        if request_id not in known
    }
    ok = (
        mismatched == 0
        and not unknown
        and audit.verified
        and audit.verified_count == audit.entries
        and audit.entries == ledger.lookups_answered + unanswered_entries
    )
    return {
        "entries": audit.entries,
        "chain_verified": audit.verified,
        "verified_entries": audit.verified_count,
        "head_seq": audit.head_seq,
        "broken": audit.broken,
        "lookups_answered": ledger.lookups_answered,
        "lookups_in_200_answers": ledger.lookups_in_200,
        "answered_requests": len(ledger.answered),
        "answered_requests_matching": len(ledger.answered) - mismatched,
        "entries_of_answered_requests": matched_entries,
        "mismatched_requests": mismatched,
        "mismatch_examples": mismatches,
        "unanswered_requests": len(ledger.unanswered),
        "entries_of_unanswered_requests": unanswered_entries,
        "entries_of_unknown_requests": sum(unknown.values()),
        "outcomes": dict(audit.outcomes.most_common()),
        "ok": ok,
    }
