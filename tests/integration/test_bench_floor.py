"""The fan-out benchmark's floor (bench/floor_app.py) asks the real registries of a gateway config,
once each per request, and answers what they sent; the benchmark refuses a floor answer that is
not four 200s."""

from __future__ import annotations

import orjson
import pytest
from httpx import ASGITransport, AsyncClient

from bench.fanout import BenchError, floor_statuses, profile_payload
from bench.floor_app import create_app
from gateway.settings import settings_from_dict
from registries.server import RegistryServer
from tests.support import calls, gateway_config


async def test_the_floor_asks_each_registry_once_and_answers_their_records(
    registries: dict[str, RegistryServer], samples: dict[str, str]
) -> None:
    subject_id = samples["clean"]
    app = create_app(settings_from_dict(gateway_config(registries)))
    async with (
        app.router.lifespan_context(app),
        AsyncClient(transport=ASGITransport(app=app), base_url="http://floor") as client,
    ):
        response = await client.post("/graphql", content=profile_payload(subject_id))
    assert response.status_code == 200
    assert floor_statuses(response.status_code, response.content, subject_id) == [200] * 4
    records = orjson.loads(response.content)["records"]
    assert [record["subjectId"] for record in records] == [subject_id] * 4
    assert {
        department: calls(server) for department, server in registries.items()
    } == dict.fromkeys(registries, 1)


def test_a_floor_answer_short_of_four_200s_stops_the_benchmark() -> None:
    with pytest.raises(BenchError, match="answered HTTP 502"):
        floor_statuses(502, b"bad gateway", "X")
    with pytest.raises(BenchError, match=r"\[200, 200, 200, 404\]"):
        floor_statuses(200, b'{"statuses":[200,200,200,404],"records":[]}', "X")
