"""Audit stores for the tests: a SQLite file and a PostgreSQL table, each test its own chain.

Every store test runs on both backends (the `backend` fixture is parametrised). PostgreSQL is
`postgresql://postgres@127.0.0.1:5432/test` (or the OS user, or `CREDIT_GATEWAY_TEST_POSTGRES_URL`);
if none answers the PostgreSQL half is skipped, unless `CREDIT_GATEWAY_REQUIRE_SERVICES=1` (CI),
where a missing service is a failure: a green run must mean both stores were tested.

Tampering goes through the plain drivers (sqlite3, asyncpg) with hand-written SQL, as a person
editing the database would, never through the store under test.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from gateway.audit.store import AuditStore
from tests.audit.support import Backend


@pytest.fixture
def backend_spec(request: pytest.FixtureRequest, tmp_path: Path) -> Backend:
    table = f"audit_test_{uuid.uuid4().hex[:16]}"
    if request.param == "sqlite":
        path = tmp_path / "audit.db"
        return Backend("sqlite", f"sqlite:///{path}", table, sqlite_path=path)
    url: str = request.getfixturevalue("postgres_url")
    return Backend("postgres", url, table)


@pytest.fixture
async def backend(backend_spec: Backend) -> AsyncIterator[Backend]:
    yield backend_spec
    if backend_spec.kind == "postgres":
        await backend_spec.execute("DROP TABLE IF EXISTS {t}")


@pytest.fixture
async def store(backend: Backend) -> AsyncIterator[AuditStore]:
    async with backend.store() as opened:
        yield opened


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """Every test that uses a store runs once per backend."""
    if "backend_spec" in metafunc.fixturenames:
        metafunc.parametrize("backend_spec", ["sqlite", "postgres"], indirect=True)
