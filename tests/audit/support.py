"""Helpers of the audit tests: raw database access for tampering, and realistic events."""

from __future__ import annotations

import re
import sqlite3
from collections.abc import Sequence
from contextlib import closing
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, Literal

import asyncpg

from gateway.audit.entry import AuditEntry, AuditEvent, Outcome, event_json, iso_utc
from gateway.audit.store import AuditStore, open_store

BackendKind = Literal["sqlite", "postgres"]

T0 = datetime(2025, 3, 1, 9, 30, 0, 123456, tzinfo=UTC)


@dataclass(frozen=True)
class Backend:
    """One database holding one test's chain, plus raw access to it for tampering."""

    kind: BackendKind
    url: str
    table: str
    sqlite_path: Path | None = None

    def store(self, **options: Any) -> AuditStore:
        return open_store(self.url, **{"table": self.table, **options})

    async def execute(self, sql: str, *args: Any) -> None:
        """Run hand-written SQL: `{t}` is the table, `$1`... the parameters (both backends)."""
        await self.fetch(sql, *args)

    async def fetch(self, sql: str, *args: Any) -> list[tuple[Any, ...]]:
        text = sql.format(t=self.table)
        if self.sqlite_path is not None:
            with closing(sqlite3.connect(self.sqlite_path, isolation_level=None)) as db:
                return db.execute(re.sub(r"\$(\d+)", r"?\1", text), args).fetchall()
        pg = await asyncpg.connect(self.url)
        try:
            return [tuple(record) for record in await pg.fetch(text, *args)]
        finally:
            await pg.close()

    async def set_content_field(self, seq: int, field: str, value: str) -> None:
        """Change one field inside the stored JSON of an entry, as a DBA would."""
        if self.kind == "sqlite":
            sql = f"UPDATE {{t}} SET entry = json_set(entry, '$.{field}', $1) WHERE seq = $2"
        else:
            path = "{{" + field + "}}"  # a jsonb path `{field}`, braces doubled for .format
            sql = f"UPDATE {{t}} SET entry = jsonb_set(entry, '{path}', to_jsonb($1::text)) "
            sql += "WHERE seq = $2"
        await self.execute(sql, value, seq)

    async def insert_row(self, entry: AuditEntry) -> None:
        """Add a row by hand with every column the gateway would have written."""
        at: object = iso_utc(entry.at) if self.kind == "sqlite" else entry.at
        await self.execute(
            "INSERT INTO {t} (seq, at, department, matter, outcome, prev_hash, hash, entry) "
            "VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
            entry.seq,
            at,
            entry.department,
            entry.matter,
            entry.outcome.value,
            entry.prev_hash,
            entry.hash,
            event_json(entry),
        )

    async def refuse_insert_of(self, seq: int) -> None:
        """A trigger that makes the insert of row `seq` fail: a real error mid-transaction."""
        if self.kind == "sqlite":
            await self.execute(
                "CREATE TRIGGER {t}_refuse BEFORE INSERT ON {t} "
                f"WHEN NEW.seq = {int(seq)} BEGIN SELECT RAISE(ABORT, 'refused'); END"
            )
            return
        await self.execute(
            "CREATE FUNCTION {t}_refuse() RETURNS trigger LANGUAGE plpgsql AS $body$ "
            f"BEGIN IF NEW.seq = {int(seq)} THEN RAISE EXCEPTION 'refused'; END IF; "
            "RETURN NEW; END $body$"
        )
        await self.execute(
            "CREATE TRIGGER {t}_refuse BEFORE INSERT ON {t} "
            "FOR EACH ROW EXECUTE FUNCTION {t}_refuse()"
        )

    async def allow_inserts(self) -> None:
        if self.kind == "sqlite":
            await self.execute("DROP TRIGGER {t}_refuse")
        else:
            await self.execute("DROP TRIGGER {t}_refuse ON {t}")
            await self.execute("DROP FUNCTION {t}_refuse()")

    async def renumber(self, from_seq: int, delta: int) -> None:
        """Shift `seq` of every row at or after `from_seq` by `delta`, around the unique index
        (through negative numbers, as one would by hand)."""
        await self.execute("UPDATE {t} SET seq = -(seq + $1) WHERE seq >= $2", delta, from_seq)
        await self.execute("UPDATE {t} SET seq = -seq WHERE seq < 0")


def event(
    n: int = 0,
    *,
    department: str | None = "environment",
    matter: str | None = "ENV-EIA-REVIEW",
    outcome: Outcome = Outcome.OK,
    at: datetime | None = None,
    **fields: Any,
) -> AuditEvent:
    """A realistic lookup by an environment official; `n` varies the request and the time."""
    values: dict[str, Any] = {
        "at": at or T0 + timedelta(seconds=n),
        "request_id": f"req-{n:05d}",
        "principal": "env-official-17" if department else "anonymous",
        "principal_name": "王**" if department else None,
        "roles": ["environment_official"] if department else ["public"],
        "department": department,
        "region": "430100",
        "matter": matter,
        "subject": "91430100MA4L1B2C3X",
        "subject_kind": "LEGAL_PERSON",
        "returned": ["Subject.environment", "Subject.lists", "Penalty.fineAmount"],
        "denied": ["Subject.health"],
        "masked": False,
        "sources": {"environment": "OK", "health": "FORBIDDEN"},
        "outcome": outcome,
    }
    values.update(fields)
    return AuditEvent.model_validate(values)


def events(count: int, start: int = 0) -> Sequence[AuditEvent]:
    return [event(start + i) for i in range(count)]
