"""The tourism department's record, in the gateway's terms.

It is a `SubjectRecord` like every department's: travel-agency licences are `Licence`s, penalties
`Penalty`s, the tourism market blacklist and the civilised-tourism honour roll `ListEntry`s, the
annual credit evaluation a `Grade` of scheme ``tourism``. The gateway's lists, grades and sources
read those shared parts; the one field of tourism's own (the quality guarantee deposit a travel
agency lodges) travels along for whoever reads the record.
"""

from __future__ import annotations

from decimal import Decimal
from typing import ClassVar

from pydantic import Field

from connectors.records import SubjectRecord

GRADE_SCHEME = "tourism"
GRADE_LABELS = {"A": "守信", "B": "基本守信", "C": "失信", "D": "严重失信"}
"""The tourism credit evaluation's grades, best first."""


class TourismRecord(SubjectRecord):
    """What the tourism department holds about a subject (usually a travel agency)."""

    department: ClassVar[str] = "tourism"

    guarantee_deposit: Decimal | None = Field(default=None, ge=0)
    """The travel agency's quality guarantee deposit (旅游服务质量保证金), in yuan."""
