"""One audit entry: what one official learned about one subject, and its place in the hash chain.

The gateway builds an `AuditEvent` per subject looked up; the store turns a batch of events into
`AuditEntry`s by giving each its `seq`, the previous entry's hash and its own hash. The chain is
what makes the log tamper-evident: an entry's hash covers its content, its position and the hash
before it, so editing, deleting or inserting a row breaks a link that `audit verify` finds.

The hash is computed over a canonical serialisation that must stay byte-for-byte reproducible for
as long as the log is kept, from what the store read back:

* compact JSON, keys sorted at every level (orjson `OPT_SORT_KEYS`), UTF-8;
* datetimes in UTC as `YYYY-MM-DDTHH:MM:SS.ffffffZ` (always six fractional digits);
* fields whose value is `None` are left out. This is the rule that lets the model grow: a new
  field added later must be optional with default `None`, and every old entry then still hashes
  to what it was hashed to when it was written;
* `hash = sha256(prev_hash + canonical(entry without hash)).hexdigest()`; the first entry's
  `prev_hash` is `GENESIS_HASH` (64 zeros).

Validators normalise (UTC, sorted and de-duplicated coordinates, NUL characters replaced, very long
strings clipped) and are idempotent, so reading an entry back and validating it again yields the
same canonical bytes.
"""

from __future__ import annotations

import hashlib
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from typing import Annotated, Any, NamedTuple

import orjson
from pydantic import (
    AfterValidator,
    AwareDatetime,
    BaseModel,
    ConfigDict,
    Field,
)

GENESIS_HASH = "0" * 64
"""`prev_hash` of the first entry of every chain."""

MAX_TEXT = 256
"""Longest string kept in an entry. Subject ids and request ids can come from the client; an
audit row must not become a place to store megabytes, and 256 characters is ample for any
legitimate value (ids are 18 characters, coordinates ~40)."""

_HASH_PATTERN = r"^[0-9a-f]{64}$"
_CHAIN_FIELDS = frozenset({"seq", "prev_hash", "hash"})


class Outcome(StrEnum):
    """How the lookup of one subject ended, as the usage report counts it."""

    OK = "OK"
    """Everything requested and allowed was returned."""
    PARTIAL = "PARTIAL"
    """Returned, but some fields were denied or some sources failed."""
    DENIED = "DENIED"
    """Refused: no purpose, unknown or foreign matter, or nothing allowed."""
    INVALID = "INVALID"
    """The subject id failed its checksum; no source was consulted."""
    ERROR = "ERROR"
    """The lookup failed inside the gateway."""


def _clean_text(value: str) -> str:
    """Make client-supplied text storable everywhere, so that one hostile value cannot fail the
    group commit it joined (and with it every other lookup of that batch): NUL is rejected by
    PostgreSQL text and jsonb, a lone surrogate cannot be encoded as UTF-8 at all. Both become
    U+FFFD. Then clip to `MAX_TEXT` with a visible marker."""
    if "\x00" in value:
        value = value.replace("\x00", "\ufffd")
    if not value.isascii():
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            value = "".join("\ufffd" if "\ud800" <= c <= "\udfff" else c for c in value)
    if len(value) > MAX_TEXT:
        value = value[: MAX_TEXT - 1] + "…"  # idempotent: the clipped string is MAX_TEXT long
    return value


def _all_clean(values: Collection[str]) -> bool:
    """Whether `_clean_text` would leave every one of `values` as it is, seen in one pass in C:
    plain ASCII without NUL, none longer than `MAX_TEXT`."""
    joined = "".join(values)
    return (
        joined.isascii() and "\x00" not in joined and max(map(len, values), default=0) <= MAX_TEXT
    )


def _clean_coordinates(values: tuple[str, ...]) -> tuple[str, ...]:
    """Sorted, de-duplicated, each cleaned as `_clean_text` cleans (idempotent, like it).

    One validator for the whole tuple rather than one per item: an entry's coordinates are the
    gateway's own schema coordinates, which `_all_clean` recognises; only anything else is
    cleaned item by item. (Built for every lookup, before its answer: per-item validation was a
    third of the cost of building an entry.)"""
    if _all_clean(values):
        return tuple(sorted(set(values)))
    return tuple(sorted({_clean_text(value) for value in values}))


def _clean_mapping(values: dict[str, str]) -> dict[str, str]:
    """Keys and values cleaned as `_clean_text` cleans, in one validator (as `_clean_coordinates`):
    department keys and source states are the gateway's own."""
    if _all_clean(values) and _all_clean(values.values()):
        return values
    return {_clean_text(key): _clean_text(value) for key, value in values.items()}


def _utc(value: datetime) -> datetime:
    return value.astimezone(UTC)


Text = Annotated[str, AfterValidator(_clean_text)]
Coordinates = Annotated[tuple[str, ...], AfterValidator(_clean_coordinates)]
Sources = Annotated[dict[str, str], AfterValidator(_clean_mapping)]
UtcDatetime = Annotated[AwareDatetime, AfterValidator(_utc)]


def utc_now() -> datetime:
    return datetime.now(UTC)


class AuditEvent(BaseModel):
    """One lookup of one subject, as the gateway saw it; not yet in the chain.

    `subject` is stored exactly as the gateway gives it: the gateway decides whether the audit
    keeps a natural person's full id number (the audit is where an unmasked read is accounted for)
    or a masked one. Coordinates are schema coordinates (`Subject.environment`,
    `Penalty.fineAmount`). Tuples rather than lists keep a frozen entry actually immutable; lists
    are accepted on input.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    at: UtcDatetime = Field(default_factory=utc_now)
    request_id: Text
    principal: Text = Field(min_length=1)
    """The official's id; `"anonymous"` for a public caller."""
    principal_name: Text | None = None
    roles: tuple[Text, ...] = ()
    department: Text | None = None
    """The official's department (what the usage report groups by), not the data's."""
    region: Annotated[str, Field(pattern=r"^[0-9]{6}$")] | None = None
    matter: Text | None = None
    subject: Text
    subject_kind: Text | None = None
    returned: Coordinates = ()
    denied: Coordinates = ()
    masked: bool = False
    """Some PII leaf was returned masked."""
    unmasked_pii: bool = False
    """A natural person's id number or other PII was returned unmasked (DOMAIN.md: every such read
    is audited)."""
    hidden_records_shown: bool = False
    """Records hidden from the public (past their publicity window, or repaired) were shown."""
    sources: Sources = Field(default_factory=dict)
    """Department consulted -> its `SourceState` (`OK`, `TIMEOUT`, ...)."""
    outcome: Outcome
    via: Text | None = None
    """Why a subject nobody named was read: a company's legal representative, consulted for the
    company's joint measures, names the company here. (Optional and left out when `None`, so
    entries written before it existed keep their hashes.)"""

    def completed(
        self,
        *,
        returned: Iterable[str],
        denied: Iterable[str],
        masked: bool,
        unmasked_pii: bool,
        hidden_records_shown: bool,
        sources: Mapping[str, str],
        outcome: Outcome,
    ) -> AuditEvent:
        """This event, drafted while its lookup's loads were in flight, with what the lookup
        returned, stamped now.

        The draft's fields (who asked, and the subject and matter as the client sent them) were
        validated when it was drafted. What is added here is the gateway's own values (schema
        coordinates, department names and states, flags, an outcome), given the normal form the
        validators give them, without validating the whole event a second time on the way back.
        The result equals what validating all of it at once gives
        (tests/integration/test_audit_drafts.py).
        """
        return self.model_copy(
            update={
                "at": utc_now(),
                "returned": _clean_coordinates(tuple(returned)),
                "denied": _clean_coordinates(tuple(denied)),
                "masked": bool(masked),
                "unmasked_pii": bool(unmasked_pii),
                "hidden_records_shown": bool(hidden_records_shown),
                "sources": _clean_mapping(dict(sources)),
                "outcome": Outcome(outcome),
            }
        )


class AuditEntry(AuditEvent):
    """An event in the chain: the store assigned `seq`, `prev_hash` and `hash` when it committed."""

    seq: int = Field(ge=1)
    prev_hash: str = Field(pattern=_HASH_PATTERN)
    hash: str = Field(pattern=_HASH_PATTERN)

    def expected_hash(self) -> str:
        """The hash this entry's content and position call for; differs from `hash` if edited."""
        return compute_hash(self.prev_hash, canonical_bytes(self))


def iso_utc(value: datetime) -> str:
    """The canonical text of a datetime: UTC, microseconds, `Z`; sorts lexically in time order.

    (`isoformat` rather than `strftime`: same text for the years an audit covers, 4x cheaper, and
    it runs several times per lookup.)"""
    text = value.astimezone(UTC).isoformat(timespec="microseconds")
    return text[:-6] + "Z"  # "+00:00" -> "Z"


def content_dict(event: AuditEvent, *, exclude: Iterable[str] = ()) -> dict[str, Any]:
    """The fields to serialise: `None` left out, `at` as canonical text. (Read from `__dict__`:
    this runs for every lookup, and pydantic's iteration protocol costs several times more;
    orjson writes the `Outcome` enum as its value and tuples as arrays by itself.)"""
    skip = frozenset(exclude)
    data = {
        name: value
        for name, value in event.__dict__.items()
        if value is not None and name not in skip
    }
    if "at" in data:
        data["at"] = iso_utc(data["at"])
    return data


def canonical_bytes(entry: AuditEvent) -> bytes:
    """The bytes an entry's hash covers: everything but `hash` itself (so `seq` and `prev_hash`
    are covered: renumbering a row changes its hash too)."""
    return orjson.dumps(content_dict(entry, exclude=("hash",)), option=orjson.OPT_SORT_KEYS)


def event_json(event: AuditEvent) -> str:
    """The stored form of an entry's content, without the chain fields (they are columns)."""
    data = content_dict(event, exclude=_CHAIN_FIELDS)
    return orjson.dumps(data, option=orjson.OPT_SORT_KEYS).decode("utf-8")


def compute_hash(prev_hash: str, canonical: bytes) -> str:
    return hashlib.sha256(prev_hash.encode("ascii") + canonical).hexdigest()


class Link(NamedTuple):
    """An entry's place in the chain, as a store assigns it inside its transaction."""

    seq: int
    prev_hash: str
    hash: str


@dataclass(frozen=True, slots=True)
class SerialisedEvent:
    """An event serialised once for the chain, before its place in it is known.

    The store's transaction only has to splice `prev_hash` and `seq` into the canonical bytes and
    hash them (`link`): the serialisation, which is most of the work, happens before, on the event
    loop, instead of on the SQLite store's thread, where it would also hold the GIL the loop needs
    and cost about twice as much. The canonical bytes are cut where the two chain fields fall in
    sorted key order, so `head + prev_hash + middle + seq + tail` is byte for byte what
    `canonical_bytes` gives the chained entry (a test checks that for arbitrary content).
    """

    event: AuditEvent
    content: str
    """The stored form (`event_json`)."""
    at: str
    """`at` as canonical text, for the store's report column."""
    _head: bytes
    _middle: bytes
    _tail: bytes

    def link(self, seq: int, prev_hash: str) -> Link:
        prev = prev_hash.encode("ascii")
        canonical = b"".join((self._head, prev, self._middle, str(seq).encode(), self._tail))
        return Link(seq, prev_hash, hashlib.sha256(prev + canonical).hexdigest())


def serialise(event: AuditEvent) -> SerialisedEvent:
    content = content_dict(event, exclude=_CHAIN_FIELDS)
    stored = orjson.dumps(content, option=orjson.OPT_SORT_KEYS)
    # The canonical form with a marker in place of each chain field's value, cut at the markers.
    # The first occurrence of a marker is the one put there: a quote inside a string is escaped,
    # so `"seq":"\u0000"` is never part of a string, and the only object-valued field (`sources`)
    # sorts after both (and no validated text holds a NUL anyway, `_clean_text`).
    marked = orjson.dumps(
        {**content, "prev_hash": "\x00", "seq": "\x00"}, option=orjson.OPT_SORT_KEYS
    )
    head, _, rest = marked.partition(_PREV_HASH_MARK)
    middle, _, tail = rest.partition(_SEQ_MARK)
    return SerialisedEvent(
        event=event,
        content=stored.decode("utf-8"),
        at=content["at"],
        _head=head + b'"prev_hash":"',
        _middle=b'"' + middle + b'"seq":',
        _tail=tail,
    )


_PREV_HASH_MARK = b'"prev_hash":"\\u0000"'
_SEQ_MARK = b'"seq":"\\u0000"'


def link_events(events: Sequence[SerialisedEvent], head_seq: int, head_hash: str) -> list[Link]:
    """Give each event its place after the chain's head. Called by a store inside the transaction
    that holds the chain's write lock, with the head it read in that transaction."""
    links: list[Link] = []
    seq, prev_hash = head_seq, head_hash
    for event in events:
        seq += 1
        link = event.link(seq, prev_hash)
        links.append(link)
        prev_hash = link.hash
    return links


def chained(events: Sequence[AuditEvent], links: Sequence[Link]) -> list[AuditEntry]:
    """The committed entries (`model_construct`: the events were validated when they were made,
    and the links computed from them). Built only for callers that read them: at ~15 us each,
    more than the rest of an append costs on the event loop."""
    return [
        AuditEntry.model_construct(
            **event.__dict__, seq=link.seq, prev_hash=link.prev_hash, hash=link.hash
        )
        for event, link in zip(events, links, strict=True)
    ]


def chain_events(events: Sequence[AuditEvent], head_seq: int, head_hash: str) -> list[AuditEntry]:
    """The entries `events` become after the chain's head (serialise, link, build)."""
    serialised = [serialise(event) for event in events]
    return chained(events, link_events(serialised, head_seq, head_hash))


def entry_from_row(seq: int, prev_hash: str, hash_: str, content: str | bytes) -> AuditEntry:
    """Rebuild an entry from a stored row (raises pydantic's `ValidationError` if it is not one)."""
    data: Mapping[str, Any] = orjson.loads(content)
    if not isinstance(data, dict):
        raise ValueError("stored entry is not a JSON object")
    if _CHAIN_FIELDS & data.keys():
        # The chain fields live in their own columns; a copy inside the content is not hashed
        # against them, so it can only be something added by hand.
        raise ValueError("stored entry content carries chain fields")
    return AuditEntry.model_validate({**data, "seq": seq, "prev_hash": prev_hash, "hash": hash_})
