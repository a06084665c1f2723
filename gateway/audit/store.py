"""The audit store contract, shared row types, and `open_store(url)` choosing a backend by scheme.

A store keeps one hash chain in one table. It never caches the chain's head in memory: every
append reads the head inside the transaction that holds the chain's write lock, so any number of
gateway processes can append to one chain (SQLite file or PostgreSQL table), and a failed or
abandoned transaction leaves nothing to resynchronise.

Rows keep the entry's content as JSON plus the chain fields and the few columns reports group by
(`at`, `department`, `matter`, `outcome`). Those columns are copies of the content, so
`audit verify` also checks that they still agree with it: a report column edited by hand is an
edit like any other.
"""

from __future__ import annotations

import re
from collections.abc import AsyncGenerator, Sequence
from dataclasses import dataclass
from datetime import datetime
from types import TracebackType
from typing import NamedTuple, Protocol, Self
from urllib.parse import urlsplit, urlunsplit

from gateway.audit.entry import (
    AuditEntry,
    AuditEvent,
    Link,
    SerialisedEvent,
    chained,
    entry_from_row,
    iso_utc,
)
from gateway.audit.errors import AuditStoreError

DEFAULT_TABLE = "audit_log"

TABLE_NAME_PATTERN = r"^[A-Za-z_][A-Za-z0-9_]{0,47}$"
"""Table names are put into SQL text (identifiers cannot be bound parameters), so only plain
identifiers are accepted; 48 characters leave room for index-name suffixes within PostgreSQL's
63-character limit."""

_TABLE_NAME = re.compile(TABLE_NAME_PATTERN)


class ChainHead(NamedTuple):
    """The last entry of the chain: `(0, GENESIS_HASH)` when the chain is empty."""

    seq: int
    hash: str


@dataclass(frozen=True, slots=True)
class StoredRow:
    """One row as stored, before any trust is placed in it: what `audit verify` walks.

    `at` is the `at` column as canonical text (`iso_utc`), whatever the backend's column type.
    """

    seq: int
    prev_hash: str
    hash: str
    content: str
    at: str
    department: str | None
    matter: str | None
    outcome: str

    def entry(self) -> AuditEntry:
        """The entry this row holds; raises `ValueError` (pydantic's included) if it holds none."""
        return entry_from_row(self.seq, self.prev_hash, self.hash, self.content)

    def columns_match(self, entry: AuditEntry) -> bool:
        """Whether the report columns still say what the hashed content says."""
        return (self.at, self.department, self.matter, self.outcome) == (
            iso_utc(entry.at),
            entry.department,
            entry.matter,
            entry.outcome.value,
        )


INSERT_COLUMNS = "(seq, at, department, matter, outcome, prev_hash, hash, entry)"
"""The columns an append writes, in the order of `row_values`."""


def row_values(event: SerialisedEvent, link: Link, at: object) -> tuple[object, ...]:
    """One appended row's values, `at` as the backend's column takes it (SQLite: canonical text;
    PostgreSQL: the datetime)."""
    return (
        link.seq,
        at,
        event.event.department,
        event.event.matter,
        event.event.outcome.value,
        link.prev_hash,
        link.hash,
        event.content,
    )


@dataclass(frozen=True, slots=True)
class UsageRow:
    """Lookups by officials of one department, in one matter, with one outcome, in a period."""

    department: str | None
    matter: str | None
    outcome: str
    lookups: int


class AuditStore(Protocol):
    """Where audit entries are committed. Usable as `async with open_store(url) as store:`."""

    @property
    def table(self) -> str: ...

    @property
    def url(self) -> str:
        """The store's URL with any password replaced, for messages and logs."""
        ...

    async def open(self) -> None:
        """Connect, and create the table and indexes if missing (unless opened with
        `create=False`, when a missing database or table is an `AuditStoreError`)."""
        ...

    async def close(self) -> None: ...

    async def append(self, events: Sequence[AuditEvent]) -> list[AuditEntry]:
        """Commit `events` as the next entries of the chain, in one transaction, all or none."""
        ...

    async def append_links(self, events: Sequence[AuditEvent]) -> list[Link]:
        """Commit `events` like `append`, and return only each one's place in the chain: what
        the request path needs (building the entries costs more than the rest of an append on
        the event loop)."""
        ...

    async def head(self) -> ChainHead: ...

    def iter_rows(
        self, after_seq: int | None = 0, batch: int = 1000
    ) -> AsyncGenerator[StoredRow, None]:
        """Rows with `seq > after_seq` (every row, whatever its seq, with `None`: what verify
        reads) in chain order (`seq`, then insertion order), read in pages of `batch` so that
        neither memory nor a long read transaction grows with the log."""
        ...

    def iter_entries(
        self, after_seq: int = 0, batch: int = 1000
    ) -> AsyncGenerator[AuditEntry, None]:
        """Entries with `seq > after_seq` in seq order; `AuditStoreError` at a row that holds no
        valid entry (run `verify` to learn what happened to it)."""
        ...

    async def usage(
        self, from_: datetime, to: datetime, department: str | None = None
    ) -> list[UsageRow]:
        """Lookups in `[from_, to)` grouped by official's department, matter and outcome."""
        ...

    async def __aenter__(self) -> Self: ...

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None: ...


class BaseAuditStore:
    """What both backends share: naming, the context-manager protocol, entries from rows."""

    def __init__(self, url: str, table: str, create: bool) -> None:
        self._url = redact_url(url)
        self._table = check_table_name(table)
        self._create = create

    @property
    def table(self) -> str:
        return self._table

    @property
    def url(self) -> str:
        return self._url

    async def open(self) -> None:
        raise NotImplementedError

    async def close(self) -> None:
        raise NotImplementedError

    async def append_links(self, events: Sequence[AuditEvent]) -> list[Link]:
        raise NotImplementedError

    async def append(self, events: Sequence[AuditEvent]) -> list[AuditEntry]:
        return chained(events, await self.append_links(events))

    def iter_rows(
        self, after_seq: int | None = 0, batch: int = 1000
    ) -> AsyncGenerator[StoredRow, None]:
        raise NotImplementedError

    async def iter_entries(
        self, after_seq: int = 0, batch: int = 1000
    ) -> AsyncGenerator[AuditEntry, None]:
        async for row in self.iter_rows(after_seq, batch):
            try:
                yield row.entry()
            except ValueError as exc:
                raise AuditStoreError(
                    f"row seq {row.seq} of {self._table} holds no valid audit entry; "
                    "run `credit-gateway audit verify`"
                ) from exc

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


def check_table_name(table: str) -> str:
    if not _TABLE_NAME.fullmatch(table):
        raise AuditStoreError(
            f"invalid audit table name {table!r}: use letters, digits and underscores "
            "(at most 48, not starting with a digit)"
        )
    return table


def check_period(from_: datetime, to: datetime) -> None:
    if from_.tzinfo is None or to.tzinfo is None:
        raise ValueError("usage period bounds must be timezone-aware datetimes")
    if not from_ < to:
        raise ValueError(f"usage period is empty: from {from_.isoformat()} is not before to")


def sort_usage(rows: list[UsageRow]) -> list[UsageRow]:
    """One order for both backends (they sort NULLs differently): public lookups last."""
    return sorted(
        rows,
        key=lambda r: (
            r.department is None,
            r.department or "",
            r.matter is None,
            r.matter or "",
            r.outcome,
        ),
    )


SUPPORTED_SCHEMES = ("sqlite", "postgresql", "postgres")


def store_scheme(url: str) -> str:
    """The backend a URL names; `AuditStoreError` for anything else."""
    scheme = url.split(":", 1)[0].lower() if ":" in url else ""
    if scheme not in SUPPORTED_SCHEMES:
        raise AuditStoreError(
            f"unsupported audit store URL {redact_url(url)!r}: expected "
            "sqlite:///path/to/audit.db, sqlite:///:memory: or postgresql://user@host:port/db"
        )
    if scheme == "sqlite" and not url.startswith("sqlite:///"):
        raise AuditStoreError(
            f"invalid SQLite URL {url!r}: use sqlite:///relative/path.db, "
            "sqlite:////absolute/path.db or sqlite:///:memory:"
        )
    return scheme


def redact_url(url: str) -> str:
    """The URL with its password (if any) replaced by `***`."""
    try:
        parts = urlsplit(url)
        if parts.password is None:
            return url
        host = parts.hostname or ""
        port = f":{parts.port}" if parts.port is not None else ""
        netloc = f"{parts.username or ''}:***@{host}{port}"
        return urlunsplit(parts._replace(netloc=netloc))
    except ValueError:
        return "<unparsable URL>"


def open_store(url: str, *, table: str = DEFAULT_TABLE, create: bool = True) -> AuditStore:
    """A store for `url`, not yet connected: `await store.open()`, or `async with` it.

    `sqlite:///var/audit.db` (relative to the working directory), `sqlite:////abs/audit.db`,
    `sqlite:///:memory:` (tests), `postgresql://user@host:5432/db` (or `postgres://`).
    `create=False` is for read-only tools such as `audit verify`: a missing database or table is
    then an error instead of being created empty (which would "verify" an empty chain).
    The backend modules are imported here so that a SQLite deployment never imports asyncpg.
    """
    scheme = store_scheme(url)
    if scheme == "sqlite":
        from gateway.audit.sqlite import SqliteAuditStore

        return SqliteAuditStore(url, table=table, create=create)
    from gateway.audit.postgres import PostgresAuditStore

    return PostgresAuditStore(url, table=table, create=create)
