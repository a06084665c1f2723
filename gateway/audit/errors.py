"""The exceptions of the audit package, one per thing a caller has to react to differently."""

from __future__ import annotations


class AuditError(Exception):
    """Base of every error raised by `gateway.audit`."""


class AuditStoreError(AuditError):
    """The audit store cannot be used: a bad URL, an unreachable or unwritable database, a missing
    table, or a driver error. The message is safe to show an operator (no password, no data)."""


class AuditUnavailable(AuditError):
    """A lookup's audit entries were not committed, so the lookup must fail and return no data.

    The request path maps this to the `AUDIT_UNAVAILABLE` error code: DESIGN.md makes the audit
    entry a precondition of every response, so an unrecorded lookup is never answered.
    """


class AuditOverloaded(AuditUnavailable):
    """More entries are waiting to be committed than `max_pending` allows.

    Refusing new lookups keeps memory bounded and tells the client at once, instead of letting a
    slow or hung store grow an unbounded queue of requests that would all time out anyway.
    """
