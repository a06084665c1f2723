"""The PostgreSQL audit store: one chain shared by every gateway instance (`postgresql://...`).

Several processes append to the same table, so the chain's order cannot be decided in any one of
them. Each append is one transaction that first takes a transaction-scoped advisory lock derived
from the table name (`pg_advisory_xact_lock`), then reads the head, inserts the batch and commits;
the lock is released by the commit or rollback itself, so a crashed or cancelled writer can never
leave it held. The transaction runs at READ COMMITTED on purpose: each statement takes a fresh
snapshot, so the head read after the lock is granted sees the previous holder's commit (under
REPEATABLE READ the snapshot would predate the wait and two instances would fork the chain).
A unique index on `seq` backs this up: a second writer with the same head fails, it cannot fork.

The entry content is `jsonb`; `seq`, `prev_hash`, `hash`, `at`, `department`, `matter` and
`outcome` are columns so reports are plain indexed SQL.
"""

from __future__ import annotations

import hashlib
from collections.abc import AsyncGenerator, Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime
from typing import Any

import asyncpg
from asyncpg.pool import PoolConnectionProxy

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

_MAX_ID = 2**63 - 1

_DRIVER_ERRORS = (
    asyncpg.PostgresError,
    asyncpg.InterfaceError,
    OSError,
    TimeoutError,
    ValueError,  # malformed DSN
)


def advisory_lock_key(table: str) -> int:
    """The 64-bit advisory lock key of a chain. Unquoted identifiers are case-insensitive in SQL,
    so `Audit_Log` and `audit_log` are one table and must be one lock."""
    digest = hashlib.sha256(f"credit-gateway audit chain {table.lower()}".encode()).digest()
    return int.from_bytes(digest[:8], "big", signed=True)


class PostgresAuditStore(BaseAuditStore):
    """An audit chain in one PostgreSQL table, appended to through an asyncpg pool."""

    def __init__(
        self,
        url: str,
        *,
        table: str = DEFAULT_TABLE,
        create: bool = True,
        min_size: int = 1,
        max_size: int = 4,
        connect_timeout_s: float = 10.0,
    ) -> None:
        super().__init__(url, table, create)
        self._dsn = url
        self._min_size = min_size
        self._max_size = max_size
        self._connect_timeout_s = connect_timeout_s
        self._pool: asyncpg.Pool[asyncpg.Record] | None = None
        self._lock_key = advisory_lock_key(self._table)
        t = self._table
        self._insert_sql = (
            f"INSERT INTO {t} {INSERT_COLUMNS} VALUES ($1, $2, $3, $4, $5, $6, $7, $8)"
        )
        self._head_sql = f"SELECT seq, hash FROM {t} ORDER BY seq DESC, id DESC LIMIT 1"
        columns = "id, seq, prev_hash, hash, entry, at, department, matter, outcome"
        self._first_page_sql = f"SELECT {columns} FROM {t} ORDER BY seq, id LIMIT $1"
        self._page_sql = (
            f"SELECT {columns} FROM {t} "
            "WHERE seq >= $1 AND (seq > $1 OR id > $2) ORDER BY seq, id LIMIT $3"
        )

    @property
    def lock_key(self) -> int:
        return self._lock_key

    async def open(self) -> None:
        if self._pool is not None:
            return
        with self._errors("connect to"):
            pool = await asyncpg.create_pool(
                self._dsn,
                min_size=self._min_size,
                max_size=self._max_size,
                timeout=self._connect_timeout_s,
            )
        try:
            with self._errors("prepare"):
                async with pool.acquire() as conn:
                    if self._create:
                        await self._create_schema(conn)
                    else:
                        found = await conn.fetchval("SELECT to_regclass($1)", self._table)
                        if found is None:
                            raise AuditStoreError(f"no audit table {self._table!r} in {self.url}")
        except BaseException:
            await pool.close()
            raise
        self._pool = pool

    async def close(self) -> None:
        pool, self._pool = self._pool, None
        if pool is not None:
            await pool.close()

    async def append_links(self, events: Sequence[AuditEvent]) -> list[Link]:
        if not events:
            return []
        pool = self._connected()
        serialised = [serialise(event) for event in events]  # before the lock is taken
        with self._errors("append to"):
            async with pool.acquire() as conn, conn.transaction(isolation="read_committed"):
                await conn.execute("SELECT pg_advisory_xact_lock($1)", self._lock_key)
                row = await conn.fetchrow(self._head_sql)
                head = ChainHead(0, GENESIS_HASH) if row is None else ChainHead(row[0], row[1])
                links = link_events(serialised, head.seq, head.hash)
                await conn.executemany(self._insert_sql, list(map(_row, serialised, links)))
        return links

    async def head(self) -> ChainHead:
        pool = self._connected()
        with self._errors("read the head of"):
            row = await pool.fetchrow(self._head_sql)
        return ChainHead(0, GENESIS_HASH) if row is None else ChainHead(int(row[0]), str(row[1]))

    async def iter_rows(
        self, after_seq: int | None = 0, batch: int = 1000
    ) -> AsyncGenerator[StoredRow, None]:
        pool = self._connected()
        last: tuple[int, int] | None = None if after_seq is None else (after_seq, _MAX_ID)
        while True:
            with self._errors("read"):
                if last is None:
                    page = await pool.fetch(self._first_page_sql, batch)
                else:
                    page = await pool.fetch(self._page_sql, last[0], last[1], batch)
            for record in page:
                yield StoredRow(
                    seq=record["seq"],
                    prev_hash=record["prev_hash"],
                    hash=record["hash"],
                    content=record["entry"],
                    at=iso_utc(record["at"]),
                    department=record["department"],
                    matter=record["matter"],
                    outcome=record["outcome"],
                )
                last = (record["seq"], record["id"])
            if len(page) < batch:
                return

    async def usage(
        self, from_: datetime, to: datetime, department: str | None = None
    ) -> list[UsageRow]:
        check_period(from_, to)
        sql = (
            f"SELECT department, matter, outcome, count(*) AS lookups FROM {self._table} "
            "WHERE at >= $1 AND at < $2"
        )
        params: list[Any] = [from_, to]
        if department is not None:
            sql += " AND department = $3"
            params.append(department)
        sql += " GROUP BY department, matter, outcome"
        pool = self._connected()
        with self._errors("report usage from"):
            rows = await pool.fetch(sql, *params)
        return sort_usage(
            [UsageRow(r["department"], r["matter"], r["outcome"], r["lookups"]) for r in rows]
        )

    def _connected(self) -> asyncpg.Pool[asyncpg.Record]:
        if self._pool is None:
            raise AuditStoreError(f"audit store {self.url} is not open")
        return self._pool

    async def _create_schema(self, conn: PoolConnectionProxy[asyncpg.Record]) -> None:
        """Idempotent, and safe when several instances start at once: `CREATE ... IF NOT EXISTS`
        alone can still fail on a concurrent creation, so it runs under the chain's lock."""
        t = self._table
        async with conn.transaction():
            await conn.execute("SELECT pg_advisory_xact_lock($1)", self._lock_key)
            await conn.execute(
                f"CREATE TABLE IF NOT EXISTS {t} ("
                " id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,"
                " seq bigint NOT NULL,"
                " at timestamptz NOT NULL,"
                " department text,"
                " matter text,"
                " outcome text NOT NULL,"
                " prev_hash text NOT NULL,"
                " hash text NOT NULL,"
                " entry jsonb NOT NULL)"
            )
            await conn.execute(f"CREATE UNIQUE INDEX IF NOT EXISTS {t}_seq ON {t} (seq)")
            await conn.execute(f"CREATE INDEX IF NOT EXISTS {t}_at ON {t} (at)")

    @contextmanager
    def _errors(self, doing: str) -> Iterator[None]:
        """Driver errors become `AuditStoreError` naming the store (password redacted)."""
        try:
            yield
        except AuditStoreError:
            raise
        except _DRIVER_ERRORS as exc:
            detail = str(exc) or type(exc).__name__
            raise AuditStoreError(f"cannot {doing} audit store {self.url}: {detail}") from exc


def _row(event: SerialisedEvent, link: Link) -> tuple[object, ...]:
    return row_values(event, link, event.event.at)
