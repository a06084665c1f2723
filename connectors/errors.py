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
        """The state alone says the source said what it holds (possibly nothing, possibly from a
        stale cache): its part of the profile can be relied on. `CIRCUIT_OPEN` is not in the
        set, though its outcome may carry stale data from the cache: resolvers ask
        `SourceOutcome.answered`, which knows."""
        return self in _ANSWERED


_ANSWERED = frozenset({SourceState.OK, SourceState.NOT_FOUND, SourceState.STALE})


class SourceError(Exception):
    """A registry did not give a usable answer (or a lower-level gateway: `kind="gateway"`).

    `retryable` says whether asking again may help (a refused or reset connection, a 5xx, a 429
    that says when to come back): the gateway's retries (connectors/resilience.py) only repeat
    calls that failed this way. `retry_after` is the wait the source asked for (its
    `Retry-After`, in seconds), if it asked for one. The class decides the default: only
    `SourceUnavailable` is retryable unless told otherwise, so a plug-in that raises it for a
    5xx gets retries without knowing about them.
    """

    state = SourceState.ERROR
    code = "SOURCE_UNAVAILABLE"
    retryable_by_default = False

    def __init__(
        self,
        department: str,
        detail: str,
        *,
        kind: str = "registry",
        retryable: bool | None = None,
        retry_after: float | None = None,
    ) -> None:
        super().__init__(f"The {department} {kind} {detail}.")
        self.department = department
        self.detail = detail
        self.retryable = self.retryable_by_default if retryable is None else retryable
        self.retry_after = retry_after


class SourceUnavailable(SourceError):
    """Connection refused or dropped, or a 5xx/429 answer: retryable unless said otherwise (a
    429 without `Retry-After`, a failure at the HTTP level that asking again will not cure)."""

    retryable_by_default = True


class SourceTimeout(SourceError):
    state = SourceState.TIMEOUT
    code = "SOURCE_TIMEOUT"


class SourceBadResponse(SourceError):
    """The registry answered, but not with a valid registry-API payload."""

    state = SourceState.BAD_RESPONSE
    code = "SOURCE_BAD_RESPONSE"


class SourceCircuitOpen(SourceError):
    """Not called at all: the source's circuit breaker is open after repeated failures (see
    connectors/breaker.py). The client sees `SOURCE_UNAVAILABLE`; the `sources` row says
    `CIRCUIT_OPEN`, with stale data when the cache still holds some."""

    state = SourceState.CIRCUIT_OPEN


class SourceForbidden(SourceError):
    """A lower-level gateway refused the lookup, or part of it, for the forwarded principal
    (its own policy or purpose check)."""

    state = SourceState.FORBIDDEN
    code = "FORBIDDEN"
