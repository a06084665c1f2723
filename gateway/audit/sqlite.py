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
* One connection on one thread of its own, and each operation (a whole append transaction, one
  page of rows, one report) is one function run there: a transaction cannot interleave with
  another coroutine's statement, and it costs one hand-over between the event loop and the
  thread instead of one per statement (aiosqlite's model: each hand-over measured ~100 µs of
  CPU, and an append took five). A caller that stops waiting (the audit log's commit timeout)
  does not interrupt the function: its transaction commits or rolls back whole on the thread.
"""

from __future__ import annotations

import asyncio
import logging
import sqlite3
import threading
from collections.abc import AsyncGenerator, Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager, suppress
from datetime import datetime
from pathlib import Path
from typing import Any, TypeVar

from gateway.audit.entry import (
    GENESIS_HASH,
    AuditEvent,
    Link,
    SerialisedEvent,
    iso_utc,
    link_events,
    serialise,
)
from gateway.audit.errors import AuditStoreError
from gateway.audit.store import (
    DEFAULT_TABLE,
    INSERT_COLUMNS,
    BaseAuditStore,
    ChainHead,
    StoredRow,
    UsageRow,
    check_period,
    row_values,
    sort_usage,
)

log = logging.getLogger(__name__)

_MAX_ID = 2**63 - 1
_ROW_PLACEHOLDERS = "(?, ?, ?, ?, ?, ?, ?, ?)"
_ROWS_PER_INSERT = 100
"""Rows per INSERT statement: 800 bound parameters, under SQLite's limit of 999 before 3.32
(32,766 since), and few enough distinct statement texts for the connection's statement cache."""
_T = TypeVar("_T")


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
        self._db: sqlite3.Connection | None = None
        self._thread: ThreadPoolExecutor | None = None
        t = self._table
        self._insert_sql = f"INSERT INTO {t} {INSERT_COLUMNS} VALUES "
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
        thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix="audit-sqlite")
        try:
            with self._errors("open"):
                db = await _on(thread, self._connect)
        except BaseException:
            thread.shutdown(wait=False)
            raise
        self._db, self._thread = db, thread

    async def close(self) -> None:
        db, thread = self._db, self._thread
        self._db = self._thread = None
        if db is not None and thread is not None:
            try:
                await _on(thread, db.close)
            finally:
                thread.shutdown(wait=False)

    async def append_links(self, events: Sequence[AuditEvent]) -> list[Link]:
        if not events:
            return []

        # Set when the caller stops waiting (the audit log's commit timeout): its lookups are
        # refused, so a transaction still waiting for the write lock must not commit them later.
        abandoned = threading.Event()
        serialised = [serialise(event) for event in events]  # here, on the loop: see `serialise`

        def transaction(db: sqlite3.Connection) -> list[Link]:
            try:
                db.execute("BEGIN IMMEDIATE")
                head = self._read_head(db)
                links = link_events(serialised, head.seq, head.hash)
                self._insert(db, list(map(_row, serialised, links)))
                if abandoned.is_set():
                    raise AuditStoreError("append abandoned by its caller; rolled back")
                db.execute("COMMIT")
            except BaseException:
                _rollback(db)
                raise
            return links

        try:
            with self._errors("append"):
                links = await self._run(transaction)
        except asyncio.CancelledError:
            abandoned.set()
            raise
        return links

    async def head(self) -> ChainHead:
        with self._errors("read the head"):
            return await self._run(self._read_head)

    async def iter_rows(
        self, after_seq: int | None = 0, batch: int = 1000
    ) -> AsyncGenerator[StoredRow, None]:
        last: tuple[int, int] | None = None if after_seq is None else (after_seq, _MAX_ID)
        while True:
            params: tuple[int, ...]
            if last is None:
                sql, params = self._first_page_sql, (batch,)
            else:
                sql, params = self._page_sql, (last[0], last[0], last[1], batch)
            with self._errors("read"):
                page = await self._run(_fetchall(sql, params))
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
        with self._errors("report usage"):
            rows = await self._run(_fetchall(sql, params))
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

    async def _run(self, function: Callable[[sqlite3.Connection], _T]) -> _T:
        """Run `function` with the connection on the store's thread."""
        db, thread = self._db, self._thread
        if db is None or thread is None:
            raise AuditStoreError(f"audit store {self.url} is not open")
        return await _on(thread, function, db)

    def _connect(self) -> sqlite3.Connection:
        """Runs on the store's thread, which then owns the connection for its lifetime."""
        timeout_s = self._busy_timeout_ms / 1000
        db = sqlite3.connect(self._path, timeout=timeout_s, isolation_level=None)
        try:
            db.execute(f"PRAGMA busy_timeout = {self._busy_timeout_ms}")
            db.execute("PRAGMA synchronous = FULL")
            if self._create:
                self._create_schema(db)
            else:
                self._check_table(db)
        except BaseException:
            db.close()
            raise
        return db

    def _insert(self, db: sqlite3.Connection, rows: list[tuple[Any, ...]]) -> None:
        """One multi-row INSERT per chunk rather than `executemany`. The sqlite3 module releases
        the GIL around every statement step, and taking it back from a busy event loop waits for
        a forced switch (up to `sys.getswitchinterval()`, 5 ms); with one step per row a commit
        of a few dozen entries could spend a large part of its time waiting for the GIL while
        requests wait for the commit. One statement is one step for the whole batch."""
        for start in range(0, len(rows), _ROWS_PER_INSERT):
            chunk = rows[start : start + _ROWS_PER_INSERT]
            sql = self._insert_sql + ", ".join([_ROW_PLACEHOLDERS] * len(chunk))
            db.execute(sql, [value for row in chunk for value in row])

    def _read_head(self, db: sqlite3.Connection) -> ChainHead:
        row = db.execute(self._head_sql).fetchone()
        return ChainHead(0, GENESIS_HASH) if row is None else ChainHead(int(row[0]), str(row[1]))

    def _create_schema(self, db: sqlite3.Connection) -> None:
        journal = str(db.execute("PRAGMA journal_mode = WAL").fetchone()[0]).lower()
        if journal not in ("wal", "memory"):
            log.warning(
                "audit database %s: WAL not available, journal mode is %s", self._path, journal
            )
        t = self._table
        try:
            db.execute("BEGIN IMMEDIATE")
            db.execute(
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
            db.execute(f"CREATE UNIQUE INDEX IF NOT EXISTS {t}_seq ON {t} (seq)")
            db.execute(f"CREATE INDEX IF NOT EXISTS {t}_at ON {t} (at)")
            db.execute("COMMIT")
        except BaseException:
            _rollback(db)
            raise

    def _check_table(self, db: sqlite3.Connection) -> None:
        found = db.execute(
            "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?", (self._table,)
        ).fetchone()
        if found is None:
            raise AuditStoreError(f"no audit table {self._table!r} in {self._path}")

    @contextmanager
    def _errors(self, doing: str) -> Iterator[None]:
        """Driver errors become `AuditStoreError` with the database named and no data shown."""
        try:
            yield
        except sqlite3.Error as exc:
            raise AuditStoreError(f"audit store {self.url}: cannot {doing}: {exc}") from exc


def _row(event: SerialisedEvent, link: Link) -> tuple[object, ...]:
    return row_values(event, link, event.at)


def _rollback(db: sqlite3.Connection) -> None:
    """Roll back if a transaction is still open; after a failed COMMIT there may be none."""
    if db.in_transaction:
        with suppress(sqlite3.Error):
            db.execute("ROLLBACK")


def _fetchall(sql: str, params: Sequence[Any]) -> Callable[[sqlite3.Connection], list[Any]]:
    def fetch(db: sqlite3.Connection) -> list[Any]:
        return db.execute(sql, params).fetchall()

    return fetch


async def _on(thread: ThreadPoolExecutor, function: Callable[..., _T], *args: Any) -> _T:
    return await asyncio.get_running_loop().run_in_executor(thread, function, *args)
