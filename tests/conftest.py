from __future__ import annotations

import asyncio
import concurrent.futures
import getpass
import os
from collections.abc import AsyncIterator

import asyncpg
import pytest
import redis.asyncio

from registries.dataset import Dataset
from registries.server import RegistryServer
from tests.support import DEPARTMENTS, Gateway, ready, running_gateway, serving

DATASET_SIZE = 3000
DATASET_SEED = 7


@pytest.fixture(scope="session")
def dataset() -> Dataset:
    return Dataset(size=DATASET_SIZE, seed=DATASET_SEED)


@pytest.fixture(scope="session")
def samples(dataset: Dataset) -> dict[str, str]:
    return dataset.samples()


@pytest.fixture(scope="session")
async def registry_servers(dataset: Dataset) -> AsyncIterator[dict[str, RegistryServer]]:
    async with serving({d: RegistryServer(d, dataset) for d in DEPARTMENTS}) as servers:
        yield servers


@pytest.fixture
async def registries(
    registry_servers: dict[str, RegistryServer],
) -> AsyncIterator[dict[str, RegistryServer]]:
    """The four reference registries, running, with no faults and zeroed counters."""
    await ready(registry_servers)
    yield registry_servers
    for server in registry_servers.values():
        server.state.faults.reset()
        if not server.running:
            await server.start()


@pytest.fixture
async def gateway(registries: dict[str, RegistryServer]) -> AsyncIterator[Gateway]:
    async with running_gateway(registries) as running:
        yield running


REQUIRE_SERVICES = os.environ.get("CREDIT_GATEWAY_REQUIRE_SERVICES") == "1"


def _postgres_candidates() -> list[str]:
    explicit = os.environ.get("CREDIT_GATEWAY_TEST_POSTGRES_URL")
    if explicit:
        return [explicit]
    return [
        "postgresql://postgres@127.0.0.1:5432/test",
        f"postgresql://{getpass.getuser()}@127.0.0.1:5432/test",
    ]


async def _probe(url: str) -> None:
    conn = await asyncpg.connect(url, timeout=3)
    await conn.close()


@pytest.fixture(scope="session")
def postgres_url() -> str:
    """A reachable PostgreSQL URL, else skip (or fail when services are required).

    Probed on a private event loop in a worker thread, so that this plain fixture can be asked
    for from inside the async ones without running a loop within a loop.
    """
    problems: list[str] = []
    with concurrent.futures.ThreadPoolExecutor(max_workers=1) as pool:
        for url in _postgres_candidates():
            try:
                pool.submit(asyncio.run, _probe(url)).result()
            except (OSError, TimeoutError, asyncpg.PostgresError, asyncpg.InterfaceError) as exc:
                problems.append(f"{url}: {type(exc).__name__}: {exc}")
                continue
            return url
    message = "PostgreSQL not reachable for the audit tests: " + "; ".join(problems)
    if REQUIRE_SERVICES:
        pytest.fail(message + " (CREDIT_GATEWAY_REQUIRE_SERVICES=1)")
    pytest.skip(message)


def _redis_candidates() -> list[str]:
    explicit = os.environ.get("CREDIT_GATEWAY_TEST_REDIS_URL")
    return [explicit] if explicit else ["redis://127.0.0.1:6379/0"]


async def _probe_redis(url: str) -> None:
    client = redis.asyncio.Redis.from_url(url, socket_connect_timeout=3, socket_timeout=3)
    try:
        reply = client.ping()
        assert not isinstance(reply, bool)  # the asyncio client's commands are awaitables
        await reply
    finally:
        await client.aclose()


@pytest.fixture(scope="session")
def redis_url() -> str:
    """A reachable Redis URL, else skip (or fail when services are required); probed like
    `postgres_url`. Tests sharing it keep their keys apart with their own key prefix."""
    problems: list[str] = []
    with concurrent.futures.ThreadPoolExecutor(max_workers=1) as pool:
        for url in _redis_candidates():
            try:
                pool.submit(asyncio.run, _probe_redis(url)).result()
            except (OSError, TimeoutError, redis.RedisError) as exc:
                problems.append(f"{url}: {type(exc).__name__}: {exc}")
                continue
            return url
    message = "Redis not reachable for the shared rate-limit tests: " + "; ".join(problems)
    if REQUIRE_SERVICES:
        pytest.fail(message + " (CREDIT_GATEWAY_REQUIRE_SERVICES=1)")
    pytest.skip(message)
