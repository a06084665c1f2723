"""The tamper-evident audit log: one hash-chained entry per subject looked up.

The request path builds `AuditEvent`s and awaits `AuditLog.commit(events)` before it answers;
`AuditUnavailable` means the lookup must fail with `AUDIT_UNAVAILABLE` and return no data.
`verify` walks the chain; `usage_report` aggregates it; `cli` mounts both on the console script.
"""

from gateway.audit.entry import GENESIS_HASH, AuditEntry, AuditEvent, Outcome
from gateway.audit.errors import AuditError, AuditOverloaded, AuditStoreError, AuditUnavailable
from gateway.audit.log import AuditLog
from gateway.audit.report import UsageReport, render_csv, render_json, usage_report
from gateway.audit.runtime import running_audit_log, start_audit_log, stop_audit_log
from gateway.audit.settings import AuditSettings
from gateway.audit.store import AuditStore, ChainHead, UsageRow, open_store
from gateway.audit.verify import BreakKind, BrokenLink, VerifyReport, verify

__all__ = [
    "GENESIS_HASH",
    "AuditEntry",
    "AuditError",
    "AuditEvent",
    "AuditLog",
    "AuditOverloaded",
    "AuditSettings",
    "AuditStore",
    "AuditStoreError",
    "AuditUnavailable",
    "BreakKind",
    "BrokenLink",
    "ChainHead",
    "Outcome",
    "UsageReport",
    "UsageRow",
    "VerifyReport",
    "open_store",
    "render_csv",
    "render_json",
    "running_audit_log",
    "start_audit_log",
    "stop_audit_log",
    "usage_report",
    "verify",
]
