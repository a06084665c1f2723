"""Group commit: what the request path awaits before it sends a response.

Every lookup's entries must be committed before its response leaves (DESIGN.md, "Audit"), and a
durable commit costs an fsync (SQLite) or a round trip plus WAL flush (PostgreSQL). One
transaction per request would cap throughput at the store's commit rate, so one writer task
commits for everybody: callers put their entries in the pending list and wait; the writer takes
everything pending, commits it in one transaction, resolves every waiter, and starts over with
whatever arrived meanwhile. The batching window is the previous commit itself, so a lone request
waits for exactly one commit and no timer adds latency.

Failure is all-or-nothing per batch: if the store raises (or exceeds `commit_timeout_s`), every
waiter of that batch gets `AuditUnavailable` and must return no data. A caller that is cancelled
(client gone) does not withdraw its entries: the lookup happened, and the batch it joined is
shared with others, so the batch is neither cancelled nor changed.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from types import TracebackType
from typing import Any, Self

from gateway.audit.entry import AuditEntry, AuditEvent, chained
from gateway.audit.errors import AuditOverloaded, AuditUnavailable
from gateway.audit.store import AuditStore

log = logging.getLogger(__name__)


@dataclass(slots=True)
class _Waiter:
    events: Sequence[AuditEvent]
    future: asyncio.Future[list[AuditEntry] | None] = field(repr=False)
    entries: bool
    """Whether the caller reads the committed entries (`record`) or only waits (`commit`)."""


class AuditLog:
    """The group-commit writer in front of one `AuditStore`.

    `max_pending` bounds the entries waiting for a commit (beyond it `record` fails at once with
    `AuditOverloaded`); `max_batch` bounds the entries of one transaction (a single `record` call
    is never split, so a batch can exceed it by one call's entries); `commit_timeout_s` bounds
    one transaction, after which its waiters get `AuditUnavailable`.
    The log does not own the store: open it before `start()`, close it after `aclose()`.
    """

    def __init__(
        self,
        store: AuditStore,
        *,
        max_pending: int = 10_000,
        max_batch: int = 1_000,
        commit_timeout_s: float = 5.0,
    ) -> None:
        if max_pending < 1 or max_batch < 1 or commit_timeout_s <= 0:
            raise ValueError("max_pending, max_batch and commit_timeout_s must be positive")
        self._store = store
        self._max_pending = max_pending
        self._max_batch = max_batch
        self._commit_timeout_s = commit_timeout_s
        self._pending: list[_Waiter] = []
        self._pending_entries = 0
        self._wakeup = asyncio.Event()
        self._writer: asyncio.Task[None] | None = None
        self._closing = False
        self._broken: BaseException | None = None
        self.commits = 0
        """Transactions committed so far (for metrics)."""
        self.failures = 0
        """Batches that failed (for metrics)."""

    @property
    def store(self) -> AuditStore:
        return self._store

    @property
    def pending(self) -> int:
        """Entries waiting for a commit, including the batch being committed."""
        return self._pending_entries

    async def start(self) -> None:
        if self._writer is not None:
            raise RuntimeError("AuditLog already started")
        self._writer = asyncio.create_task(self._run(), name="audit-log-writer")

    async def aclose(self) -> None:
        """Stop taking entries, commit everything already taken, then stop the writer."""
        self._closing = True
        self._wakeup.set()
        if self._writer is not None:
            # `wait`, not `await`: a writer that died (its failure already went to its waiters)
            # must not raise here, least of all a CancelledError that is not ours.
            await asyncio.wait({self._writer})

    async def __aenter__(self) -> Self:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    async def record(self, events: Sequence[AuditEvent]) -> list[AuditEntry]:
        """Commit `events` (one lookup's entries) and return them chained.

        Returns only once they are durably committed. Raises `AuditUnavailable` if they were not
        (store failure or timeout, log closed), `AuditOverloaded` if too many are waiting.
        """
        if not events:
            return []
        entries = await self._enqueue(events, entries=True)
        assert entries is not None
        return entries

    async def commit(self, events: Sequence[AuditEvent]) -> None:
        """`record` for a caller that does not read the entries (the request path): returns, or
        raises, exactly when `record` would, without building them."""
        if events:
            await self._enqueue(events, entries=False)

    async def _enqueue(
        self, events: Sequence[AuditEvent], *, entries: bool
    ) -> list[AuditEntry] | None:
        if self._writer is None or self._closing or self._broken is not None:
            state = "closed" if self._closing else "stopped" if self._broken else "not started"
            raise AuditUnavailable(f"the audit log is {state}; the lookup was not recorded")
        if self._pending_entries + len(events) > self._max_pending:
            raise AuditOverloaded(
                f"audit backlog full: {self._pending_entries} entries waiting to be committed, "
                f"{len(events)} more would exceed max_pending={self._max_pending}"
            )
        future: asyncio.Future[list[AuditEntry] | None] = asyncio.get_running_loop().create_future()
        self._pending.append(_Waiter(tuple(events), future, entries))
        self._pending_entries += len(events)
        self._wakeup.set()
        # No shield needed: the future is this caller's alone, so a cancelled caller cancels only
        # its own future, and the writer skips a done future when it hands out results; the
        # entries stay in the batch they joined.
        return await future

    async def _run(self) -> None:
        try:
            while True:
                await self._wakeup.wait()
                self._wakeup.clear()
                while self._pending:
                    committed = await self._commit(self._take_batch())
                    if not committed and self._closing:
                        # Shutting down with the store failing: refuse the rest now rather than
                        # holding shutdown for one timeout per remaining batch.
                        self._fail(self._pending, AuditUnavailable("audit log closing"))
                        self._pending.clear()
                        self._pending_entries = 0
                if self._closing:
                    return
        except BaseException as exc:
            # Only reachable through a bug or a cancellation of the writer itself: never leave a
            # waiter hanging, and refuse new entries from now on.
            self._broken = exc
            self._fail(self._pending, exc)
            self._pending.clear()
            self._pending_entries = 0
            raise

    def _take_batch(self) -> list[_Waiter]:
        taken = 0
        count = 0
        for waiter in self._pending:
            if taken and count + len(waiter.events) > self._max_batch:
                break
            taken += 1
            count += len(waiter.events)
        batch, self._pending = self._pending[:taken], self._pending[taken:]
        return batch

    async def _commit(self, batch: list[_Waiter]) -> bool:
        """Commit one batch and resolve its waiters; whether it was committed.

        The deadline is enforced here, not by cancelling the append and waiting for it: a store
        unwinding a cancelled transaction may itself wait (SQLite's ROLLBACK queues behind a
        BEGIN that waits for another process's lock), and the waiters' answer must not. The
        abandoned append gets one more `commit_timeout_s` to roll back before the next batch
        starts, so a waiter never waits longer than about three timeouts in all.
        """
        events = [event for waiter in batch for event in waiter.events]
        answered: list[bool] = []  # `_append` answered the waiters (and released their count)
        append = asyncio.create_task(self._append(batch, events, answered), name="audit-log-append")
        try:
            await asyncio.wait({append}, timeout=self._commit_timeout_s)
            if not append.done():
                append.cancel()
                raise TimeoutError(f"commit not done within {self._commit_timeout_s} s")
            append.result()
        except Exception as exc:
            self.failures += 1
            log.error(
                "audit commit of %d entries failed (%s: %s); their lookups are refused",
                len(events),
                type(exc).__name__,
                exc,
            )
            self._fail(batch, exc)
            if not append.done():
                await asyncio.wait({append}, timeout=self._commit_timeout_s)
                if not append.done():
                    log.warning("audit store still unwinding an abandoned commit; going on")
                    append.add_done_callback(_retrieve)
            return False
        except BaseException as exc:  # the writer itself is cancelled: nobody may hang
            append.cancel()
            append.add_done_callback(_retrieve)
            self._fail(batch, exc)
            raise
        else:
            self.commits += 1
            return True
        finally:
            if not answered:
                self._pending_entries -= len(events)

    async def _append(
        self, batch: list[_Waiter], events: list[AuditEvent], answered: list[bool]
    ) -> None:
        """Append the batch and answer its waiters as soon as the store returns, in this task:
        under load every hand-over between tasks waits for a whole turn of a busy event loop,
        and the writer, which enforces the deadline, only wakes once this task has ended. (If
        the writer cancelled it first, the cancellation arrives at the await, before any waiter
        is answered, and the writer fails them all.)"""
        links = await self._store.append_links(events)
        if len(links) != len(events):
            raise RuntimeError(f"store returned {len(links)} links for {len(events)}")
        self._pending_entries -= len(events)  # before a waiter, answered, can add more
        answered.append(True)
        start = 0
        for waiter in batch:
            end = start + len(waiter.events)
            if not waiter.future.done():
                waiter.future.set_result(
                    chained(waiter.events, links[start:end]) if waiter.entries else None
                )
            start = end

    @staticmethod
    def _fail(waiters: list[_Waiter], cause: BaseException) -> None:
        for waiter in waiters:
            if waiter.future.done():
                continue
            error = AuditUnavailable("the audit store is unavailable; the lookup was not recorded")
            error.__cause__ = cause
            waiter.future.set_exception(error)


def _retrieve(future: asyncio.Future[Any]) -> None:
    """Mark a future's outcome as seen once nobody awaits it any more (a cancelled caller's, an
    abandoned append), so asyncio does not log "exception was never retrieved" for a failure the
    writer already logged once."""
    if not future.cancelled():
        future.exception()
