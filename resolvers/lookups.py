"""What the resolvers looked up in one request, for the audit: one entry per subject asked for.

Refused and invalid lookups are recorded too: an official trying a subject without a purpose, or
probing ids, is exactly what an audit must show.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from resolvers.outcome import SourceOutcome
    from resolvers.subject import SubjectRef


class LookupOutcome(enum.Enum):
    LOOKED_UP = "LOOKED_UP"
    """Resolved; whether fully or partly is decided from the sources and the access plan."""
    DENIED = "DENIED"
    INVALID = "INVALID"


@dataclass(frozen=True, slots=True)
class Lookup:
    subject: str
    """The normalised id when valid (never masked: the audit is where reads are accounted for),
    else the id as sent."""
    matter: str | None
    outcome: LookupOutcome
    ref: SubjectRef | None = None


@dataclass(frozen=True, slots=True)
class OfficerLookup:
    """A company's legal representative, read to evaluate the company's joint measures: nobody
    asked for this person, but their records were read, so the audit records that too."""

    person: str
    company: str
    matter: str
    outcomes: Mapping[str, SourceOutcome]
