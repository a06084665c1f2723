"""`audit verify`: walk the chain, recompute every hash, name the first broken link and why.

Each row is checked against the one before it. A row is intact when its `seq` is the previous
one's plus one, its `prev_hash` is the previous row's hash, its content parses, its report columns
agree with its content, and its hash is the hash of its content. The first row that is not intact
is classified by what a person editing the database by hand would have done:

* a field changed (content or a report column): the row is linked but its hash does not match
  -> `edited` at that seq;
* a row changed and its hash recomputed: the next row is chained to a different hash
  -> `edited` at that seq;
* a row deleted: a gap in `seq` -> `deleted` at the first missing seq;
* a row deleted and the later rows renumbered: a row whose content hashes to its hash only under
  a higher seq -> `deleted` at that seq;
* a row added with an existing seq: a repeated `seq` -> `inserted` at that seq;
* a row added and the later rows renumbered: the row after it is chained to the row before it
  -> `inserted` at that seq.

Deleting the newest rows leaves an intact, shorter chain, and a forger who recomputes every hash
after a point leaves an intact, different chain: no hash chain can show either by itself. Record
the head (`seq` and hash, printed by every verify) somewhere the database's editors cannot write,
and pass it back as `anchor`: verify then also fails if the chain no longer reaches it or no
longer has that hash there.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import aclosing
from dataclasses import dataclass
from enum import StrEnum

import orjson

from gateway.audit.entry import (
    GENESIS_HASH,
    AuditEntry,
    compute_hash,
    content_dict,
)
from gateway.audit.store import AuditStore, ChainHead, StoredRow

MAX_RENUMBER_SEARCH = 10_000
"""How far back a renumbered row's original seq is searched for (a deletion of up to this many
rows followed by renumbering is reported as `deleted`; beyond it, as `edited`)."""


class BreakKind(StrEnum):
    EDITED = "edited"
    DELETED = "deleted"
    INSERTED = "inserted"


@dataclass(frozen=True, slots=True)
class BrokenLink:
    seq: int
    kind: BreakKind
    reason: str


@dataclass(frozen=True, slots=True)
class VerifyReport:
    """`count` entries verified from the start of the chain; `head` is the last of them."""

    count: int
    head: ChainHead
    broken: BrokenLink | None = None

    @property
    def ok(self) -> bool:
        return self.broken is None

    def describe(self) -> str:
        if self.broken is None:
            return (
                f"audit chain OK: {self.count} entries; head seq {self.head.seq} "
                f"hash {self.head.hash}"
            )
        return (
            f"audit chain BROKEN at seq {self.broken.seq}: {self.broken.kind.value}: "
            f"{self.broken.reason} ({self.count} entries before it verified)"
        )


async def verify(
    store: AuditStore, *, anchor: ChainHead | None = None, batch: int = 1000
) -> VerifyReport:
    """Verify the whole chain of `store`, stopping at the first broken link."""
    prev = ChainHead(0, GENESIS_HASH)
    count = 0
    anchored: str | None = None
    async with aclosing(store.iter_rows(None, batch)) as stored:
        rows = _Rows(stored)
        while (row := await rows.next()) is not None:
            broken = await _check(store, row, prev, rows, batch)
            if broken is not None:
                return VerifyReport(count, prev, broken)
            prev = ChainHead(row.seq, row.hash)
            count += 1
            if anchor is not None and row.seq == anchor.seq:
                anchored = row.hash
    if anchor is not None and anchor.seq > 0:
        if anchored is None:
            return VerifyReport(
                count,
                prev,
                BrokenLink(
                    prev.seq + 1,
                    BreakKind.DELETED,
                    f"the chain ends at seq {prev.seq} but reached seq {anchor.seq} before",
                ),
            )
        if anchored != anchor.hash:
            return VerifyReport(
                count,
                prev,
                BrokenLink(
                    anchor.seq,
                    BreakKind.EDITED,
                    f"the chain was rewritten at or before seq {anchor.seq}: its hash is "
                    f"{anchored}, the anchor says {anchor.hash}",
                ),
            )
    return VerifyReport(count, prev)


async def _check(
    store: AuditStore, row: StoredRow, prev: ChainHead, rows: _Rows, batch: int
) -> BrokenLink | None:
    entry = _parse(row)
    columns_ok = entry is not None and row.columns_match(entry)
    consistent = entry is not None and columns_ok and entry.expected_hash() == row.hash

    if row.seq < 1:
        return BrokenLink(
            row.seq, BreakKind.EDITED, f"a row with seq {row.seq}: sequence numbers start at 1"
        )
    if row.seq <= prev.seq:
        return BrokenLink(row.seq, BreakKind.INSERTED, f"a second row with seq {row.seq}")

    expected = prev.seq + 1
    if row.seq > expected:
        if row.prev_hash == prev.hash:
            if consistent:
                return BrokenLink(
                    row.seq,
                    BreakKind.INSERTED,
                    f"a row with seq {row.seq} is chained to seq {prev.seq} and hashed with its "
                    f"seq: it was written by hand, not by the gateway",
                )
            return BrokenLink(
                expected,
                BreakKind.EDITED,
                f"the entry chained to seq {prev.seq} has seq {row.seq} instead of {expected}",
            )
        before = f"seq {prev.seq}" if prev.seq else "the start of the chain"
        return BrokenLink(
            expected,
            BreakKind.DELETED,
            f"seq {_span(expected, row.seq - 1)} missing: seq {row.seq} follows {before}",
        )

    if row.prev_hash == prev.hash and consistent:
        return None
    after = await rows.peek()
    if after is not None and after.prev_hash == prev.hash:
        return BrokenLink(
            row.seq,
            BreakKind.INSERTED,
            f"the row after seq {row.seq} is chained to seq {prev.seq}: this row was added "
            "between them",
        )
    if row.prev_hash == prev.hash:
        return BrokenLink(row.seq, BreakKind.EDITED, _edit_reason(entry, columns_ok))

    # The link to the previous entry is broken.
    earlier = await _find_hash(store, row.prev_hash, before=prev.seq, batch=batch)
    if earlier is not None:
        return BrokenLink(
            earlier + 1,
            BreakKind.INSERTED,
            f"seq {row.seq} is chained to seq {earlier}, so seq {_span(earlier + 1, prev.seq)} "
            "came in between by hand",
        )
    if consistent:
        if prev.seq == 0:
            return BrokenLink(
                row.seq, BreakKind.EDITED, "the first entry is not chained to the genesis hash"
            )
        return BrokenLink(
            prev.seq,
            BreakKind.EDITED,
            f"seq {prev.seq} was replaced (its hash recomputed): seq {row.seq} is chained "
            "to a different entry",
        )
    if entry is not None and columns_ok:
        original = _original_seq(entry)
        if original is not None:
            return BrokenLink(
                row.seq,
                BreakKind.DELETED,
                f"seq {_span(row.seq, original - 1)} deleted and the later rows renumbered "
                f"(this row was seq {original})",
            )
    return BrokenLink(
        row.seq,
        BreakKind.EDITED,
        f"seq {row.seq} is not chained to seq {prev.seq} and {_edit_reason(entry, columns_ok)}",
    )


def _span(first: int, last: int) -> str:
    return str(first) if first == last else f"{first}..{last}"


def _parse(row: StoredRow) -> AuditEntry | None:
    try:
        return row.entry()
    except ValueError:
        return None


def _edit_reason(entry: AuditEntry | None, columns_ok: bool) -> str:
    if entry is None:
        return "the row does not hold a valid audit entry"
    if not columns_ok:
        return "its report columns (at, department, matter, outcome) differ from its content"
    return "its content does not match its hash"


def _original_seq(entry: AuditEntry) -> int | None:
    """The higher seq under which this entry's content hashes to its hash, if any: the mark of
    a row renumbered after rows before it were deleted."""
    content = content_dict(entry, exclude=("hash",))
    for seq in range(entry.seq + 1, entry.seq + 1 + MAX_RENUMBER_SEARCH):
        content["seq"] = seq
        canonical = orjson.dumps(content, option=orjson.OPT_SORT_KEYS)
        if compute_hash(entry.prev_hash, canonical) == entry.hash:
            return seq
    return None


async def _find_hash(store: AuditStore, hash_: str, *, before: int, batch: int) -> int | None:
    """The seq of an entry before `before` whose hash is `hash_` (one extra pass, only ever made
    at the first broken link, so verifying an intact chain keeps no index of hashes)."""
    async with aclosing(store.iter_rows(None, batch)) as rows:
        async for row in rows:
            if row.seq >= before:
                return None
            if row.hash == hash_:
                return row.seq
    return None


class _Rows:
    """The store's rows with one row of look-ahead."""

    def __init__(self, rows: AsyncIterator[StoredRow]) -> None:
        self._rows = rows
        self._ahead: StoredRow | None = None
        self._peeked = False

    async def next(self) -> StoredRow | None:
        if self._peeked:
            self._peeked = False
            return self._ahead
        return await anext(self._rows, None)

    async def peek(self) -> StoredRow | None:
        if not self._peeked:
            self._ahead = await anext(self._rows, None)
            self._peeked = True
        return self._ahead
