"""Fixtures of the reference-registry tests: fixed-day datasets and registries on loopback."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import date

import aiohttp
import pytest

from connectors.records import SubjectRecord
from registries.dataset import Dataset
from registries.server import RegistryServer
from registries.subjects import SubjectSeed

TODAY = date(2025, 6, 30)
"""A fixed day, so records (and their publicity states) are the same on every run."""

StartRegistry = Callable[..., Awaitable[RegistryServer]]


@pytest.fixture(scope="session")
def ds10k() -> Dataset:
    return Dataset(size=10_000, seed=42, today=TODAY)


@pytest.fixture(scope="session")
def ds300() -> Dataset:
    return Dataset(size=300, seed=42, today=TODAY)


@pytest.fixture(scope="session")
def samples10k(ds10k: Dataset) -> dict[str, str]:
    return ds10k.samples()


Population = list[tuple[SubjectSeed, dict[str, SubjectRecord]]]

POPULATION_SIZE = 2000


@pytest.fixture(scope="session")
def population(ds10k: Dataset) -> Population:
    """The first 2,000 subjects of `ds10k` with every record they have, built once."""
    return [(ds10k.subject(index), ds10k.records_of(index)) for index in range(POPULATION_SIZE)]


@pytest.fixture
async def start_registry(ds10k: Dataset) -> AsyncIterator[StartRegistry]:
    """Start registries on ephemeral ports; all are stopped after the test."""
    started: list[RegistryServer] = []

    async def start(department: str = "commerce", dataset: Dataset | None = None) -> RegistryServer:
        server = RegistryServer(department, dataset or ds10k)
        await server.start()
        started.append(server)
        return server

    yield start
    for server in started:
        await server.stop()


@pytest.fixture
async def commerce(start_registry: StartRegistry) -> RegistryServer:
    return await start_registry("commerce")


@pytest.fixture
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as session:
        yield session
