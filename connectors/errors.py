"""Why a registry could not answer, in terms a resolver can act on.

Each failure knows the `SourceState` it shows in `Subject.sources` and the stable error code a
client sees at the section's path. Messages never carry the registry's host name or the upstream
body: they reach clients.
"""

from __future__ import annotations

import enum


class SourceState(enum.Enum):
    """How one department's part of a profile was obtained (the `sources` rows)."""

    OK = "OK"
    NOT_FOUND = "NOT_FOUND"
    STALE = "STALE"
    TIMEOUT = "TIMEOUT"
    ERROR = "ERROR"
    BAD_RESPONSE = "BAD_RESPONSE"
    CIRCUIT_OPEN = "CIRCUIT_OPEN"
    FORBIDDEN = "FORBIDDEN"

    @property
    def answered(self) -> bool:
        """The source said what it holds (possibly nothing, possibly from a stale cache): its
        part of the profile can be relied on; any other state means it could not say."""
        return self in _ANSWERED


_ANSWERED = frozenset({SourceState.OK, SourceState.NOT_FOUND, SourceState.STALE})


class SourceError(Exception):
    """A registry did not give a usable answer (or a lower-level gateway: `kind="gateway"`)."""

    state = SourceState.ERROR
    code = "SOURCE_UNAVAILABLE"

    def __init__(self, department: str, detail: str, *, kind: str = "registry") -> None:
        super().__init__(f"The {department} {kind} {detail}.")
        self.department = department
        self.detail = detail


class SourceUnavailable(SourceError):
    """Connection refused or dropped, or a 5xx/429 answer."""


class SourceTimeout(SourceError):
    state = SourceState.TIMEOUT
    code = "SOURCE_TIMEOUT"


class SourceBadResponse(SourceError):
    """The registry answered, but not with a valid registry-API payload."""

    state = SourceState.BAD_RESPONSE
    code = "SOURCE_BAD_RESPONSE"


class SourceForbidden(SourceError):
    """A lower-level gateway refused the lookup, or part of it, for the forwarded principal
    (its own policy or purpose check)."""

    state = SourceState.FORBIDDEN
    code = "FORBIDDEN"
