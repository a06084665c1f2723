"""Group commit on real stores: many lookups, few transactions, nothing lost, nothing half-done."""

from __future__ import annotations

import asyncio
import contextlib
import sqlite3
from collections.abc import AsyncGenerator, Awaitable, Callable, Sequence
from datetime import datetime
from types import TracebackType
from typing import Self

import asyncpg
import pytest

from gateway.audit.entry import AuditEntry, AuditEvent, Link, chained
from gateway.audit.errors import AuditOverloaded, AuditStoreError, AuditUnavailable
from gateway.audit.log import AuditLog
from gateway.audit.postgres import advisory_lock_key
from gateway.audit.runtime import running_audit_log
from gateway.audit.settings import AuditSettings
from gateway.audit.store import AuditStore, ChainHead, StoredRow, UsageRow
from gateway.audit.verify import verify
from tests.audit.support import Backend, event, events


class Instrumented:
    """A real store that counts its transactions and can be held or made to fail."""

    def __init__(self, inner: AuditStore) -> None:
        self.inner = inner
        self.batches: list[int] = []
        self.gate = asyncio.Event()
        self.gate.set()
        self.entered = asyncio.Event()
        self.fail_next = 0
        self.delay_s = 0.0

    @property
    def table(self) -> str:
        return self.inner.table

    @property
    def url(self) -> str:
        return self.inner.url

    async def open(self) -> None:
        await self.inner.open()

    async def close(self) -> None:
        await self.inner.close()

    async def append(self, events: Sequence[AuditEvent]) -> list[AuditEntry]:
        return chained(events, await self.append_links(events))

    async def append_links(self, events: Sequence[AuditEvent]) -> list[Link]:
        self.batches.append(len(events))
        self.entered.set()
        await self.gate.wait()
        if self.delay_s:
            await asyncio.sleep(self.delay_s)
        if self.fail_next:
            self.fail_next -= 1
            raise ConnectionResetError("connection to the audit database lost")
        return await self.inner.append_links(events)

    async def head(self) -> ChainHead:
        return await self.inner.head()

    def iter_rows(
        self, after_seq: int | None = 0, batch: int = 1000
    ) -> AsyncGenerator[StoredRow, None]:
        return self.inner.iter_rows(after_seq, batch)

    def iter_entries(
        self, after_seq: int = 0, batch: int = 1000
    ) -> AsyncGenerator[AuditEntry, None]:
        return self.inner.iter_entries(after_seq, batch)

    async def usage(
        self, from_: datetime, to: datetime, department: str | None = None
    ) -> list[UsageRow]:
        return await self.inner.usage(from_, to, department)

    async def __aenter__(self) -> Self:
        await self.open()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()


@pytest.fixture
def counted(store: AuditStore) -> Instrumented:
    return Instrumented(store)


async def _seqs(store: AuditStore) -> list[int]:
    return [entry.seq async for entry in store.iter_entries()]


async def test_concurrent_lookups_share_few_transactions(counted: Instrumented) -> None:
    async with AuditLog(counted) as log:
        results = await asyncio.gather(*(log.record([event(i)]) for i in range(200)))
    assert sum(counted.batches) == 200
    assert len(counted.batches) <= 5, counted.batches
    assert [r[0].request_id for r in results] == [f"req-{i:05d}" for i in range(200)]
    assert sorted(r[0].seq for r in results) == list(range(1, 201))
    assert await _seqs(counted) == list(range(1, 201))
    report = await verify(counted)
    assert report.ok
    assert report.count == 200
    assert log.commits == len(counted.batches)


async def test_commit_shares_batches_with_record_and_builds_no_entries(
    counted: Instrumented,
) -> None:
    """The request path's `commit` waits for the same durable commit as `record`, in the same
    batches, and the entries it skips building are in the chain all the same."""
    async with AuditLog(counted) as log:
        counted.gate.clear()
        held = asyncio.create_task(log.record([event(0)]))
        await counted.entered.wait()
        committed = [asyncio.create_task(log.commit([event(i)])) for i in range(1, 6)]
        recorded = asyncio.create_task(log.record(events(2, start=6)))
        await asyncio.sleep(0.01)
        assert not any(task.done() for task in committed)  # waiting for their commit
        counted.gate.set()
        await asyncio.gather(*committed)
        assert all(task.result() is None for task in committed)
        assert [e.seq for e in await recorded] == [7, 8]
        await held
        await log.commit([])  # nothing to wait for
    assert counted.batches == [1, 7]
    assert await _seqs(counted) == list(range(1, 9))
    assert (await verify(counted)).ok


async def test_commit_fails_like_record_when_the_store_fails(counted: Instrumented) -> None:
    async with AuditLog(counted) as log:
        counted.fail_next = 1
        with pytest.raises(AuditUnavailable):
            await log.commit([event(1)])
        await log.commit([event(2)])
    assert [e.request_id async for e in counted.iter_entries()] == ["req-00002"]


async def test_lookups_arriving_during_a_commit_form_the_next_batch(
    counted: Instrumented,
) -> None:
    async with AuditLog(counted) as log:
        counted.gate.clear()
        first = asyncio.create_task(log.record(events(2)))
        await counted.entered.wait()
        later = [asyncio.create_task(log.record([event(10 + i)])) for i in range(30)]
        await asyncio.sleep(0.01)
        assert log.pending == 32
        counted.gate.set()
        await asyncio.gather(first, *later)
    assert counted.batches == [2, 30]


async def test_a_multi_subject_lookup_gets_its_own_entries_in_order(
    counted: Instrumented,
) -> None:
    async with AuditLog(counted) as log:
        a, b = await asyncio.gather(log.record(events(3)), log.record(events(2, start=10)))
    assert [e.request_id for e in a] == ["req-00000", "req-00001", "req-00002"]
    assert [e.request_id for e in b] == ["req-00010", "req-00011"]
    assert [e.seq for e in a + b] == [1, 2, 3, 4, 5]


async def test_cancelled_caller_does_not_cancel_its_batch(counted: Instrumented) -> None:
    """Client gone mid-commit: its entries are still written, the batch-mates are unaffected."""
    async with AuditLog(counted) as log:
        counted.gate.clear()
        in_flight = asyncio.create_task(log.record([event(1)]))
        mate = asyncio.create_task(log.record([event(2)]))
        await counted.entered.wait()
        queued = asyncio.create_task(log.record([event(3)]))  # waits for the next batch
        await asyncio.sleep(0.01)
        in_flight.cancel()
        queued.cancel()
        await asyncio.sleep(0.01)
        counted.gate.set()
        [mate_entry] = await mate
        for task in (in_flight, queued):
            with pytest.raises(asyncio.CancelledError):
                await task
    assert mate_entry.seq == 2
    assert [e.request_id async for e in counted.iter_entries()] == [
        "req-00001",
        "req-00002",
        "req-00003",
    ]
    assert (await verify(counted)).ok


async def test_store_failure_refuses_every_lookup_of_the_batch(counted: Instrumented) -> None:
    async with AuditLog(counted) as log:
        counted.fail_next = 1
        outcomes = await asyncio.gather(
            *(log.record([event(i)]) for i in range(5)), return_exceptions=True
        )
        assert counted.batches == [5]
        assert all(isinstance(o, AuditUnavailable) for o in outcomes), outcomes
        assert isinstance(outcomes[0], AuditUnavailable)
        assert isinstance(outcomes[0].__cause__, ConnectionResetError)
        assert log.failures == 1
        # The store is back: later lookups are recorded, the chain has no trace of the failure.
        [after] = await log.record([event(9)])
    assert after.seq == 1
    report = await verify(counted)
    assert report.ok
    assert report.count == 1


async def test_failure_inside_the_transaction_commits_nothing(
    store: AuditStore, backend: Backend
) -> None:
    """A real database error in the middle of a batch (a trigger added by hand refuses seq 3,
    the batch's second row): none of the batch may remain, and the chain continues cleanly."""
    [first] = await store.append([event(0)])
    await backend.refuse_insert_of(3)
    try:
        async with AuditLog(store) as log:
            with pytest.raises(AuditUnavailable) as refused:
                await log.record(events(3, start=1))
            assert isinstance(refused.value.__cause__, AuditStoreError)
            assert (await store.head()).seq == 1
            await backend.allow_inserts()
            entries = await log.record(events(3, start=1))
    finally:
        with contextlib.suppress(Exception):
            await backend.allow_inserts()
    assert [e.seq for e in entries] == [2, 3, 4]
    assert entries[0].prev_hash == first.hash
    assert (await verify(store)).ok


async def test_slow_store_times_out_into_audit_unavailable(counted: Instrumented) -> None:
    # The deadline must leave a real commit (SQLite, PostgreSQL on a busy CI machine) a wide
    # margin: CI once took more than 50 ms for the second, undelayed commit. The delay is far
    # past the deadline, so the first commit cannot squeeze in under it either.
    counted.delay_s = 60.0
    async with AuditLog(counted, commit_timeout_s=1.0) as log:
        with pytest.raises(AuditUnavailable):
            await log.record([event(1)])
        counted.delay_s = 0
        [entry] = await log.record([event(2)])
    assert entry.seq == 1
    assert counted.batches == [1, 1]


async def test_backlog_is_bounded(counted: Instrumented) -> None:
    async with AuditLog(counted, max_pending=3) as log:
        counted.gate.clear()
        held = asyncio.create_task(log.record(events(2)))
        await counted.entered.wait()
        with pytest.raises(AuditOverloaded, match="max_pending=3"):
            await log.record(events(2, start=5))
        counted.gate.set()
        await held
        assert len(await log.record(events(3, start=10))) == 3


async def test_batches_are_capped_without_splitting_a_lookup(counted: Instrumented) -> None:
    async with AuditLog(counted, max_batch=10) as log:
        counted.gate.clear()
        first = asyncio.create_task(log.record([event(0)]))
        await counted.entered.wait()
        rest = [asyncio.create_task(log.record(events(4, start=10 * i))) for i in range(1, 6)]
        await asyncio.sleep(0.01)
        counted.gate.set()
        await asyncio.gather(first, *rest)
    assert counted.batches == [1, 8, 8, 4]
    assert (await verify(counted)).count == 21


async def test_close_commits_what_is_pending_then_refuses(counted: Instrumented) -> None:
    log = AuditLog(counted)
    with pytest.raises(AuditUnavailable, match="not started"):
        await log.record([event(0)])
    await log.start()
    counted.gate.clear()
    tasks = [asyncio.create_task(log.record([event(i)])) for i in range(10)]
    await counted.entered.wait()
    closing = asyncio.create_task(log.aclose())
    await asyncio.sleep(0.01)
    counted.gate.set()
    await closing
    assert len(await asyncio.gather(*tasks)) == 10
    assert (await counted.head()).seq == 10
    with pytest.raises(AuditUnavailable, match="closed"):
        await log.record([event(11)])


async def test_running_audit_log_from_settings(backend: Backend) -> None:
    settings = AuditSettings(url=backend.url, table=backend.table, commit_timeout_s=2.0)
    async with running_audit_log(settings) as log:
        await asyncio.gather(*(log.record([event(i)]) for i in range(20)))
        assert (await verify(log.store)).count == 20


async def test_instances_sharing_one_chain_stay_gapless(backend: Backend) -> None:
    """Two gateway instances (two pools, or two SQLite connections) append to one table at
    once, each with several transactions in flight: still one gapless, verifiable chain."""
    stores = [backend.store(), backend.store()]
    for store in stores:
        await store.open()
    try:
        appends = [stores[i % 2].append(events(3, start=10 * i)) for i in range(60)]
        results = await asyncio.gather(*appends)
        seqs = sorted(entry.seq for result in results for entry in result)
        assert seqs == list(range(1, 181))
        for result in results:  # each transaction's entries are consecutive
            assert [e.seq for e in result] == list(range(result[0].seq, result[0].seq + 3))
        report = await verify(stores[1])
        assert report.ok, report.describe()
        assert report.count == 180
    finally:
        for store in stores:
            await store.close()


async def test_close_with_a_failing_store_refuses_the_rest_at_once(
    counted: Instrumented,
) -> None:
    log = AuditLog(counted, max_batch=1, commit_timeout_s=5.0)
    await log.start()
    counted.gate.clear()
    counted.fail_next = 100
    tasks = [asyncio.create_task(log.record([event(i)])) for i in range(20)]
    await counted.entered.wait()
    closing = asyncio.create_task(log.aclose())
    await asyncio.sleep(0.01)
    counted.gate.set()
    await asyncio.wait_for(closing, timeout=1.0)
    outcomes = await asyncio.gather(*tasks, return_exceptions=True)
    assert all(isinstance(o, AuditUnavailable) for o in outcomes)
    assert counted.batches == [1]


async def test_a_dead_writer_leaves_nobody_waiting(counted: Instrumented) -> None:
    log = AuditLog(counted)
    await log.start()
    counted.gate.clear()
    waiting = asyncio.create_task(log.record([event(1)]))
    await counted.entered.wait()
    assert log._writer is not None
    log._writer.cancel()  # e.g. the loop tearing tasks down
    with pytest.raises(AuditUnavailable):
        await waiting
    with pytest.raises(AuditUnavailable, match="stopped"):
        await log.record([event(2)])
    await log.aclose()


async def test_chain_lock_held_elsewhere_times_out_then_recovers(
    store: AuditStore, backend: Backend
) -> None:
    """Another instance holds the chain's write lock past the commit timeout: the waiting
    lookups are refused, the abandoned transaction leaves nothing behind, and appends resume
    once the lock is released."""
    release: Callable[[], Awaitable[None]]
    if backend.sqlite_path is not None:
        other = sqlite3.connect(backend.sqlite_path, isolation_level=None)
        other.execute("BEGIN IMMEDIATE")

        async def release_sqlite() -> None:
            other.execute("COMMIT")
            other.close()

        release = release_sqlite
    else:
        holder = await asyncpg.connect(backend.url)
        transaction = holder.transaction()
        await transaction.start()
        await holder.execute("SELECT pg_advisory_xact_lock($1)", advisory_lock_key(store.table))

        async def release_postgres() -> None:
            await transaction.commit()
            await holder.close()

        release = release_postgres
    try:
        async with AuditLog(store, commit_timeout_s=1.0) as log:
            with pytest.raises(AuditUnavailable):
                await log.record(events(2))
            await release()
            entries = await log.record(events(2, start=5))
    finally:
        with contextlib.suppress(Exception):
            await release()
    assert [e.seq for e in entries] == [1, 2]
    report = await verify(store)
    assert report.ok
    assert report.count == 2
