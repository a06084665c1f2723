from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from registries.dataset import Dataset
from registries.server import RegistryServer
from tests.support import DEPARTMENTS, Gateway, running_gateway

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
    servers = {department: RegistryServer(department, dataset) for department in DEPARTMENTS}
    for server in servers.values():
        await server.start()
    yield servers
    for server in servers.values():
        await server.stop()


@pytest.fixture
async def registries(
    registry_servers: dict[str, RegistryServer],
) -> AsyncIterator[dict[str, RegistryServer]]:
    """The four reference registries, running, with no faults and zeroed counters."""
    for server in registry_servers.values():
        if not server.running:
            await server.start()
        server.state.faults.reset()
        server.state.stats.reset()
    yield registry_servers
    for server in registry_servers.values():
        server.state.faults.reset()
        if not server.running:
            await server.start()


@pytest.fixture
async def gateway(registries: dict[str, RegistryServer]) -> AsyncIterator[Gateway]:
    async with running_gateway(registries) as running:
        yield running
