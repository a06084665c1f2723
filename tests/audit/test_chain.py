"""The chain on real SQLite and PostgreSQL: appends, reading back, and tamper detection.

Each tampering is done with plain SQL through the driver, as a person with write access to the
database would, and `verify` must name the first broken link and what was done to it.
"""

from __future__ import annotations

import itertools
from datetime import timedelta

import pytest

from gateway.audit.entry import GENESIS_HASH, AuditEntry, Outcome, chain_events
from gateway.audit.errors import AuditStoreError
from gateway.audit.store import AuditStore, ChainHead
from gateway.audit.verify import BreakKind, verify
from tests.audit.support import T0, Backend, event, events


async def _filled(store: AuditStore, count: int = 8) -> list[AuditEntry]:
    first = await store.append(events(3))
    rest = await store.append(events(count - 3, start=3))
    return first + rest


async def test_appends_form_one_gapless_chain(store: AuditStore) -> None:
    assert await store.head() == ChainHead(0, GENESIS_HASH)
    assert await store.append([]) == []
    entries = await _filled(store)
    assert [e.seq for e in entries] == list(range(1, 9))
    assert entries[0].prev_hash == GENESIS_HASH
    assert all(b.prev_hash == a.hash for a, b in itertools.pairwise(entries))
    assert await store.head() == ChainHead(8, entries[-1].hash)
    report = await verify(store)
    assert report.ok, report.describe()
    assert report.count == 8
    assert report.head == ChainHead(8, entries[-1].hash)


async def test_a_batch_larger_than_one_insert_statement_stays_one_chain(
    store: AuditStore,
) -> None:
    """The SQLite store inserts at most 100 rows per statement: a batch of 250 spans three."""
    entries = await store.append(events(250))
    assert [e.seq for e in entries] == list(range(1, 251))
    read = [e async for e in store.iter_entries()]
    assert read == entries
    report = await verify(store)
    assert report.ok, report.describe()
    assert report.count == 250


async def test_entries_read_back_equal_to_what_was_committed(store: AuditStore) -> None:
    written = await store.append(
        [
            event(1, principal_name="張三", unmasked_pii=True, subject_kind="NATURAL_PERSON"),
            event(2, department=None, matter=None, outcome=Outcome.PARTIAL),
            event(3, hidden_records_shown=True, sources={"environment": "STALE"}),
        ]
    )
    read = [entry async for entry in store.iter_entries()]
    assert read == written
    assert [entry async for entry in store.iter_entries(after_seq=2)] == written[2:]
    assert [row.seq async for row in store.iter_rows(batch=2)] == [1, 2, 3]


async def test_hostile_text_cannot_fail_a_batch(store: AuditStore) -> None:
    """A subject id or request id is whatever the client sent; NUL (refused by PostgreSQL) and
    lone surrogates (not UTF-8) are replaced, so they cannot fail the batch they join."""
    hostile = event(1, subject="9143\x00\ud800" + "9" * 5000, request_id="\udfff")
    entries = await store.append([event(0), hostile, event(2)])
    assert entries[1].subject.startswith("9143\ufffd\ufffd999")
    assert [entry async for entry in store.iter_entries()] == entries
    assert (await verify(store)).ok


async def test_reopened_store_continues_the_chain(backend: Backend) -> None:
    async with backend.store() as first:
        await first.append(events(2))
    async with backend.store() as second:
        [third] = await second.append(events(1, start=2))
        assert third.seq == 3
        assert (await verify(second)).ok


async def test_empty_chain_verifies(store: AuditStore) -> None:
    report = await verify(store)
    assert report.ok
    assert report.count == 0


async def test_read_only_open_requires_an_existing_table(backend: Backend) -> None:
    if backend.kind == "sqlite":
        with pytest.raises(AuditStoreError, match="no audit database"):
            await backend.store(create=False).open()
        async with backend.store(table="other_table"):
            pass
    with pytest.raises(AuditStoreError, match="no audit table"):
        await backend.store(create=False).open()


# --- edits ----------------------------------------------------------------------------------


async def test_edited_content_is_found(store: AuditStore, backend: Backend) -> None:
    await _filled(store)
    await backend.set_content_field(5, "subject", "91110000600037341L")
    report = await verify(store)
    assert report.broken is not None
    assert (report.broken.seq, report.broken.kind) == (5, BreakKind.EDITED)
    assert report.count == 4
    assert "does not match its hash" in report.broken.reason


async def test_edited_report_column_is_found(store: AuditStore, backend: Backend) -> None:
    """The outcome column is what reports count; changing it alone must not go unnoticed."""
    await _filled(store)
    await backend.execute("UPDATE {t} SET outcome = 'DENIED' WHERE seq = 2")
    report = await verify(store)
    assert report.broken is not None
    assert (report.broken.seq, report.broken.kind) == (2, BreakKind.EDITED)
    assert "report columns" in report.broken.reason


async def test_edited_row_with_recomputed_hash_is_found(
    store: AuditStore, backend: Backend
) -> None:
    """A forger who knows the algorithm rewrites row 4 consistently; row 5 still points at the
    original row 4."""
    entries = await _filled(store)
    forged = entries[3].model_copy(update={"outcome": Outcome.DENIED})
    forged = forged.model_copy(update={"hash": forged.expected_hash()})
    await backend.execute("DELETE FROM {t} WHERE seq = 4")
    await backend.insert_row(forged)
    report = await verify(store)
    assert report.broken is not None
    assert (report.broken.seq, report.broken.kind) == (4, BreakKind.EDITED)


async def test_edited_first_row_is_found(store: AuditStore, backend: Backend) -> None:
    await _filled(store)
    await backend.execute("UPDATE {t} SET hash = $1 WHERE seq = 1", "f" * 64)
    report = await verify(store)
    assert report.broken is not None
    assert (report.broken.seq, report.broken.kind) == (1, BreakKind.EDITED)
    assert report.count == 0


async def test_garbage_content_is_an_edit(store: AuditStore, backend: Backend) -> None:
    await _filled(store)
    if backend.kind == "sqlite":
        await backend.execute("UPDATE {t} SET entry = 'not json' WHERE seq = 6")
    else:
        await backend.execute("""UPDATE {t} SET entry = '{{"hello": 1}}' WHERE seq = 6""")
    report = await verify(store)
    assert report.broken is not None
    assert (report.broken.seq, report.broken.kind) == (6, BreakKind.EDITED)
    with pytest.raises(AuditStoreError, match="seq 6"):
        _ = [entry async for entry in store.iter_entries()]


# --- deletions ------------------------------------------------------------------------------


async def test_deleted_row_is_found(store: AuditStore, backend: Backend) -> None:
    await _filled(store)
    await backend.execute("DELETE FROM {t} WHERE seq = 5")
    report = await verify(store)
    assert report.broken is not None
    assert (report.broken.seq, report.broken.kind) == (5, BreakKind.DELETED)
    assert report.count == 4


async def test_deleted_first_rows_are_found(store: AuditStore, backend: Backend) -> None:
    await _filled(store)
    await backend.execute("DELETE FROM {t} WHERE seq <= 2")
    report = await verify(store)
    assert report.broken is not None
    assert (report.broken.seq, report.broken.kind) == (1, BreakKind.DELETED)
    assert "1..2" in report.broken.reason


async def test_deleted_row_with_later_rows_renumbered_is_found(
    store: AuditStore, backend: Backend
) -> None:
    await _filled(store)
    await backend.execute("DELETE FROM {t} WHERE seq = 3")
    await backend.renumber(4, -1)
    assert [row[0] for row in await backend.fetch("SELECT seq FROM {t} ORDER BY seq")] == list(
        range(1, 8)
    )
    report = await verify(store)
    assert report.broken is not None
    assert (report.broken.seq, report.broken.kind) == (3, BreakKind.DELETED)
    assert "was seq 4" in report.broken.reason


async def test_deleted_newest_rows_need_an_anchor(store: AuditStore, backend: Backend) -> None:
    """No chain shows its own truncation; a head recorded elsewhere does."""
    await _filled(store)
    anchor = (await verify(store)).head
    await backend.execute("DELETE FROM {t} WHERE seq >= 7")
    assert (await verify(store)).ok
    report = await verify(store, anchor=anchor)
    assert report.broken is not None
    assert (report.broken.seq, report.broken.kind) == (7, BreakKind.DELETED)
    assert (await verify(store, anchor=ChainHead(5, anchor.hash))).broken is not None
    assert (await verify(store, anchor=ChainHead(0, GENESIS_HASH))).ok


# --- insertions -----------------------------------------------------------------------------


async def test_inserted_row_with_an_existing_seq_is_found(
    store: AuditStore, backend: Backend
) -> None:
    """The unique index stops a duplicate seq; someone who drops it first is still caught."""
    entries = await _filled(store)
    await backend.execute(f"DROP INDEX {backend.table}_seq")
    extra = entries[3].model_copy(update={"subject": "91110000600037341L"})
    await backend.insert_row(extra.model_copy(update={"hash": extra.expected_hash()}))
    report = await verify(store)
    assert report.broken is not None
    assert (report.broken.seq, report.broken.kind) == (4, BreakKind.INSERTED)
    assert report.count == 4


async def test_inserted_row_with_later_rows_renumbered_is_found(
    store: AuditStore, backend: Backend
) -> None:
    """A well-formed forged row (right prev_hash, right hash) slipped in at seq 4."""
    entries = await _filled(store)
    await backend.renumber(4, +1)
    [forged] = chain_events(
        [event(99, at=T0 + timedelta(seconds=3, milliseconds=500))], 3, entries[2].hash
    )
    await backend.insert_row(forged)
    report = await verify(store)
    assert report.broken is not None
    assert (report.broken.seq, report.broken.kind) == (4, BreakKind.INSERTED)


async def test_inserted_garbage_row_is_found(store: AuditStore, backend: Backend) -> None:
    """A row made up by hand, chained to nothing, with the later rows renumbered."""
    await _filled(store)
    await backend.renumber(6, +1)
    [made_up] = chain_events([event(50)], 5, "e" * 64)
    await backend.insert_row(made_up.model_copy(update={"seq": 6, "hash": "d" * 64}))
    report = await verify(store)
    assert report.broken is not None
    assert (report.broken.seq, report.broken.kind) == (6, BreakKind.INSERTED)


async def test_appends_after_tampering_do_not_hide_it(store: AuditStore, backend: Backend) -> None:
    await _filled(store)
    await backend.set_content_field(2, "matter", "HEALTH-MED-SUPERVISION")
    await store.append(events(5, start=20))
    report = await verify(store)
    assert report.broken is not None
    assert report.broken.seq == 2


async def test_renumbering_left_half_done_is_an_edit(store: AuditStore, backend: Backend) -> None:
    await _filled(store)
    await backend.execute("UPDATE {t} SET seq = -seq WHERE seq >= 6")
    report = await verify(store)
    assert report.broken is not None
    assert (report.broken.seq, report.broken.kind) == (-8, BreakKind.EDITED)
