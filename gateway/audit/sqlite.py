"""The SQLite audit store: the default, one file next to the gateway (`sqlite:///var/audit.db`).

Durability and ordering choices, and why:

* WAL journal: readers (reports, `audit verify`) never block the writer, and the writer's commit
  is one append to the WAL instead of rewriting pages.
* `synchronous=FULL`: in WAL mode `NORMAL` may lose the last transactions on power loss. An
  audit entry whose response was sent must survive a crash, so every commit is fsynced. Group
  commit (`AuditLog`) is what keeps this affordable: one fsync per batch, not per lookup.
* `BEGIN IMMEDIATE`: the write lock is taken before the head is read, so two processes sharing
  the file cannot both read the same head and fork the chain; `busy_timeout` makes the second
  one wait instead of failing.
* One connection, guarded by an `asyncio.Lock`: aiosqlite runs one connection's statements in
  order on one thread, but between the awaits of a transaction another coroutine could issue a
  statement that would run inside it. The lock is never held across a `yield` to the caller.
"""

from __future__ import annotations

import asyncio
import logging
import sqlite3
from collections.abc import AsyncGenerator, Iterator, Sequence
from contextlib import contextmanager, suppress
from datetime import datetime
from pathlib import Path
from typing import Any

import aiosqlite

from gateway.audit.entry import (
    GENESIS_HASH,
    AuditEntry,
    AuditEvent,
    chain_events,
    event_json,
    iso_utc,
)
from gateway.audit.errors import AuditStoreError
from gateway.audit.store import (
    DEFAULT_TABLE,
    BaseAuditStore,
    ChainHead,
    StoredRow,
    UsageRow,
    check_period,
    sort_usage,
)

log = logging.getLogger(__name__)

_MAX_ID = 2**63 - 1


class SqliteAuditStore(BaseAuditStore):
    """An audit chain in one table of one SQLite database file."""

    def __init__(
        self,
        url: str,
        *,
        table: str = DEFAULT_TABLE,
        create: bool = True,
        busy_timeout_s: float = 5.0,
    ) -> None:
        super().__init__(url, table, create)
        if not url.startswith("sqlite:///"):
            raise AuditStoreError(f"not a SQLite URL: {url!r}")
        self._path = url[len("sqlite:///") :]
        if not self._path:
            raise AuditStoreError(f"SQLite URL without a path: {url!r}")
        self._busy_timeout_ms = int(busy_timeout_s * 1000)
        self._db: aiosqlite.Connection | None = None
        self._lock = asyncio.Lock()
        t = self._table
        self._insert_sql = (
            f"INSERT INTO {t} (seq, at, department, matter, outcome, prev_hash, hash, entry) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?)"
        )
        self._head_sql = f"SELECT seq, hash FROM {t} ORDER BY seq DESC, id DESC LIMIT 1"
        columns = "id, seq, prev_hash, hash, entry, at, department, matter, outcome"
        self._first_page_sql = f"SELECT {columns} FROM {t} ORDER BY seq, id LIMIT ?"
        self._page_sql = (
            f"SELECT {columns} FROM {t} "
            "WHERE seq >= ? AND (seq > ? OR id > ?) ORDER BY seq, id LIMIT ?"
        )

    @property
    def path(self) -> str:
        return self._path

    async def open(self) -> None:
        if self._db is not None:
            return
        self._prepare_path()
        with self._errors("open"):
            db = await aiosqlite.connect(self._path, isolation_level=None)
        try:
            with self._errors("open"):
                await db.execute(f"PRAGMA busy_timeout = {self._busy_timeout_ms}")
                await db.execute("PRAGMA synchronous = FULL")
                if self._create:
                    await self._create_schema(db)
                else:
                    await self._check_table(db)
        except BaseException:
            await db.close()
            raise
        self._db = db

    async def close(self) -> None:
        async with self._lock:
            db, self._db = self._db, None
            if db is not None:
                await db.close()

    async def append(self, events: Sequence[AuditEvent]) -> list[AuditEntry]:
        if not events:
            return []
        db = self._connection()
        async with self._lock:
            with self._errors("append"):
                try:
                    # Inside the `try`: if we are cancelled while BEGIN waits for another
                    # process's lock, BEGIN still completes on aiosqlite's thread later, and the
                    # ROLLBACK queued behind it must end that transaction.
                    await db.execute("BEGIN IMMEDIATE")
                    head = await self._read_head(db)
                    entries = chain_events(events, head.seq, head.hash)
                    await db.executemany(self._insert_sql, [_row(e) for e in entries])
                    await db.execute("COMMIT")
                except BaseException:
                    await _rollback(db)
                    raise
        return entries

    async def head(self) -> ChainHead:
        db = self._connection()
        async with self._lock:
            with self._errors("read the head"):
                return await self._read_head(db)

    async def iter_rows(
        self, after_seq: int | None = 0, batch: int = 1000
    ) -> AsyncGenerator[StoredRow, None]:
        db = self._connection()
        last: tuple[int, int] | None = None if after_seq is None else (after_seq, _MAX_ID)
        while True:
            params: tuple[int, ...]
            if last is None:
                sql, params = self._first_page_sql, (batch,)
            else:
                sql, params = self._page_sql, (last[0], last[0], last[1], batch)
            async with self._lock:
                with self._errors("read"):
                    page = list(await db.execute_fetchall(sql, params))
            for id_, seq, prev_hash, hash_, content, at, department, matter, outcome in page:
                yield StoredRow(
                    seq=seq,
                    prev_hash=prev_hash,
                    hash=hash_,
                    content=content,
                    at=str(at),
                    department=department,
                    matter=matter,
                    outcome=outcome,
                )
                last = (seq, id_)
            if len(page) < batch:
                return

    async def usage(
        self, from_: datetime, to: datetime, department: str | None = None
    ) -> list[UsageRow]:
        check_period(from_, to)
        sql = (
            f"SELECT department, matter, outcome, count(*) FROM {self._table} "
            "WHERE at >= ? AND at < ?"
        )
        params: list[Any] = [iso_utc(from_), iso_utc(to)]
        if department is not None:
            sql += " AND department = ?"
            params.append(department)
        sql += " GROUP BY department, matter, outcome"
        db = self._connection()
        async with self._lock:
            with self._errors("report usage"):
                rows = await db.execute_fetchall(sql, params)
        return sort_usage([UsageRow(d, m, o, n) for d, m, o, n in rows])

    def _prepare_path(self) -> None:
        """Create the database's directory (the demo's `./var/`), or, for read-only tools,
        insist the database exists: SQLite would otherwise create an empty one that verifies.
        Synchronous on purpose: it runs once at start-up and is one stat or mkdir."""
        if self._path == ":memory:":
            return
        path = Path(self._path)
        if not self._create:
            if not path.is_file():
                raise AuditStoreError(f"no audit database at {path}")
            return
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise AuditStoreError(
                f"cannot create the directory of the audit database {path}: {exc.strerror}"
            ) from exc

    def _connection(self) -> aiosqlite.Connection:
        if self._db is None:
            raise AuditStoreError(f"audit store {self.url} is not open")
        return self._db

    async def _read_head(self, db: aiosqlite.Connection) -> ChainHead:
        async with db.execute(self._head_sql) as cursor:
            row = await cursor.fetchone()
        return ChainHead(0, GENESIS_HASH) if row is None else ChainHead(int(row[0]), str(row[1]))

    async def _create_schema(self, db: aiosqlite.Connection) -> None:
        mode = await db.execute_fetchall("PRAGMA journal_mode = WAL")
        journal = str(next(iter(mode))[0]).lower()
        if journal not in ("wal", "memory"):
            log.warning(
                "audit database %s: WAL not available, journal mode is %s", self._path, journal
            )
        t = self._table
        try:
            await db.execute("BEGIN IMMEDIATE")
            await db.execute(
                f"CREATE TABLE IF NOT EXISTS {t} ("
                " id INTEGER PRIMARY KEY,"
                " seq INTEGER NOT NULL,"
                " at TEXT NOT NULL,"
                " department TEXT,"
                " matter TEXT,"
                " outcome TEXT NOT NULL,"
                " prev_hash TEXT NOT NULL,"
                " hash TEXT NOT NULL,"
                " entry TEXT NOT NULL)"
            )
            await db.execute(f"CREATE UNIQUE INDEX IF NOT EXISTS {t}_seq ON {t} (seq)")
            await db.execute(f"CREATE INDEX IF NOT EXISTS {t}_at ON {t} (at)")
            await db.execute("COMMIT")
        except BaseException:
            await _rollback(db)
            raise

    async def _check_table(self, db: aiosqlite.Connection) -> None:
        found = await db.execute_fetchall(
            "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?", (self._table,)
        )
        if not list(found):
            raise AuditStoreError(f"no audit table {self._table!r} in {self._path}")

    @contextmanager
    def _errors(self, doing: str) -> Iterator[None]:
        """Driver errors become `AuditStoreError` with the database named and no data shown."""
        try:
            yield
        except sqlite3.Error as exc:
            raise AuditStoreError(f"audit store {self.url}: cannot {doing}: {exc}") from exc


def _row(entry: AuditEntry) -> tuple[Any, ...]:
    return (
        entry.seq,
        iso_utc(entry.at),
        entry.department,
        entry.matter,
        entry.outcome.value,
        entry.prev_hash,
        entry.hash,
        event_json(entry),
    )


async def _rollback(db: aiosqlite.Connection) -> None:
    """Roll back if a transaction is still open; after a failed COMMIT there may be none."""
    with suppress(sqlite3.Error):
        await db.execute("ROLLBACK")
