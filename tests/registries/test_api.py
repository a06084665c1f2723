"""The registry HTTP API over real loopback HTTP."""

from __future__ import annotations

import aiohttp
import orjson
import pytest

from connectors.records import (
    RECORD_MODELS,
    BatchResponse,
    CommerceRecord,
    RegistryHealth,
    SubjectPage,
)
from registries.app import STATE_KEY, create_registry_app
from registries.dataset import Dataset
from registries.departments import DEPARTMENTS, UnknownDepartment
from registries.server import RegistryServer

from .conftest import StartRegistry


async def test_single_record_with_etag_and_revalidation(
    commerce: RegistryServer, http: aiohttp.ClientSession, samples10k: dict[str, str]
) -> None:
    url = f"{commerce.url}/v1/subjects/{samples10k['penalised']}"
    async with http.get(url) as response:
        assert response.status == 200
        assert response.content_type == "application/json"
        assert response.headers["Cache-Control"] == "max-age=60"
        etag = response.headers["ETag"]
        record = CommerceRecord.model_validate_json(await response.read())
    assert etag.startswith('"')
    assert etag.endswith('"')
    assert record.subject_id == samples10k["penalised"]
    assert record.penalties
    async with http.get(url, headers={"If-None-Match": etag}) as response:
        assert response.status == 304
        assert response.headers["ETag"] == etag
        assert await response.read() == b""
    async with http.get(url, headers={"If-None-Match": f'"other", W/{etag}'}) as response:
        assert response.status == 304
    async with http.get(url, headers={"If-None-Match": '"other"'}) as response:
        assert response.status == 200


async def test_single_record_id_is_normalised(
    commerce: RegistryServer, http: aiohttp.ClientSession, samples10k: dict[str, str]
) -> None:
    code = samples10k["clean"]
    async with http.get(f"{commerce.url}/v1/subjects/{code[:8].lower()}-{code[8:].lower()}") as r:
        assert r.status == 200
        assert (await r.json())["subjectId"] == code


async def test_unknown_and_unheld_subjects_are_404(
    commerce: RegistryServer, http: aiohttp.ClientSession, samples10k: dict[str, str]
) -> None:
    for code in (samples10k["natural_person"], "91110000600037341L", "garbage"):
        async with http.get(f"{commerce.url}/v1/subjects/{code}") as response:
            assert response.status == 404
            body = await response.json()
            assert body["error"] == "not_found"
            assert body["message"]


@pytest.mark.parametrize("department", DEPARTMENTS)
async def test_each_department_serves_its_own_model(
    department: str,
    start_registry: StartRegistry,
    http: aiohttp.ClientSession,
    samples10k: dict[str, str],
) -> None:
    server = await start_registry(department)
    async with http.get(f"{server.url}/v1/subjects/{samples10k['clean']}") as response:
        assert response.status == 200
        RECORD_MODELS[department].model_validate_json(await response.read())


async def test_batch_returns_found_and_missing(
    commerce: RegistryServer, http: aiohttp.ClientSession, samples10k: dict[str, str]
) -> None:
    found = [samples10k["clean"], samples10k["dishonest"], samples10k["individual_business"]]
    missing = [samples10k["natural_person"], "91110000600037341L"]
    ids = [*found, *missing, found[0], found[1].lower()]
    async with http.post(f"{commerce.url}/v1/subjects:batch", json={"ids": ids}) as response:
        assert response.status == 200
        batch = BatchResponse.model_validate_json(await response.read())
    assert list(batch.records) == found
    assert batch.missing == missing
    for code, raw in batch.records.items():
        assert CommerceRecord.model_validate(raw).subject_id == code


async def test_empty_batch(commerce: RegistryServer, http: aiohttp.ClientSession) -> None:
    async with http.post(f"{commerce.url}/v1/subjects:batch", json={"ids": []}) as response:
        assert await response.json() == {"records": {}, "missing": []}


@pytest.mark.parametrize(
    "body",
    [
        b"not json",
        b"[]",
        b"{}",
        b'{"ids": "91110000600037341L"}',
        b'{"ids": [1, 2]}',
        orjson.dumps({"ids": ["91110000600037341L"] * 1001}),
    ],
)
async def test_bad_batch_body_is_400(
    commerce: RegistryServer, http: aiohttp.ClientSession, body: bytes
) -> None:
    headers = {"Content-Type": "application/json"}
    async with http.post(f"{commerce.url}/v1/subjects:batch", data=body, headers=headers) as r:
        assert r.status == 400
        error = await r.json()
        assert error["error"] == "bad_request"
        assert error["details"]


async def test_paging_returns_every_held_id_once(
    start_registry: StartRegistry, http: aiohttp.ClientSession, ds300: Dataset
) -> None:
    for department in ("environment", "health"):
        server = await start_registry(department, ds300)
        expected = [
            ds300.subject(index).id for index in range(300) if ds300.holds(department, index)
        ]
        seen: list[str] = []
        params = {"limit": "25"}
        while True:
            async with http.get(f"{server.url}/v1/subjects", params=params) as response:
                assert response.status == 200
                page = SubjectPage.model_validate_json(await response.read())
            seen.extend(page.ids)
            if page.next is None:
                break
            params = {"limit": "25", "after": page.next}
        assert seen == expected
        assert len(set(seen)) == len(seen)


async def test_paging_defaults_and_bounds(
    commerce: RegistryServer, http: aiohttp.ClientSession
) -> None:
    async with http.get(f"{commerce.url}/v1/subjects") as response:
        page = SubjectPage.model_validate_json(await response.read())
    assert len(page.ids) == 100
    assert page.next == page.ids[-1]
    for query in ("limit=0", "limit=1001", "limit=ten", "after=91110000600037341L"):
        async with http.get(f"{commerce.url}/v1/subjects?{query}") as response:
            assert response.status == 400, query
            assert (await response.json())["error"] == "bad_request"


async def test_health(commerce: RegistryServer, http: aiohttp.ClientSession) -> None:
    async with http.get(f"{commerce.url}/v1/health") as response:
        health = RegistryHealth.model_validate_json(await response.read())
    assert health == RegistryHealth(status="ok", department="commerce", subjects=10_000)


def test_app_exposes_its_state_and_rejects_unknown_departments(ds300: Dataset) -> None:
    app = create_registry_app("quality", ds300)
    assert app[STATE_KEY].department == "quality"
    assert app[STATE_KEY].dataset is ds300
    with pytest.raises(UnknownDepartment, match="tourism"):
        create_registry_app("tourism", ds300)
