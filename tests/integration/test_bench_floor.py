"""The fan-out benchmark's floor (bench/floor_app.py) asks the real registries of a gateway config,
once each per request, and answers what they sent; the benchmark refuses a floor answer that is
not four 200s. The validating floor (`--validate`) really validates each record."""

from __future__ import annotations

import orjson
import pytest
from httpx import ASGITransport, AsyncClient

from bench.fanout import BenchError, floor_statuses, parse_args, profile_payload
from bench.floor_app import create_app
from gateway.settings import settings_from_dict
from registries.faults import Faults
from registries.server import RegistryServer
from tests.support import calls, gateway_config


async def _ask_floor(
    registries: dict[str, RegistryServer], subject_id: str, validate: bool
) -> tuple[int, bytes]:
    app = create_app(settings_from_dict(gateway_config(registries)), validate)
    async with (
        app.router.lifespan_context(app),
        AsyncClient(transport=ASGITransport(app=app, raise_app_exceptions=False)) as client,
    ):
        response = await client.post("http://floor/graphql", content=profile_payload(subject_id))
    return response.status_code, response.content


@pytest.mark.parametrize("validate", [False, True], ids=["plain", "validating"])
async def test_the_floor_asks_each_registry_once_and_answers_their_records(
    registries: dict[str, RegistryServer], samples: dict[str, str], validate: bool
) -> None:
    subject_id = samples["penalised"]
    status, content = await _ask_floor(registries, subject_id, validate)
    assert status == 200
    assert floor_statuses(status, content, subject_id) == [200] * 4
    records = orjson.loads(content)["records"]
    assert [record["subjectId"] for record in records] == [subject_id] * 4
    assert {
        department: calls(server) for department, server in registries.items()
    } == dict.fromkeys(registries, 1)


def test_a_floor_answer_short_of_four_200s_stops_the_benchmark() -> None:
    with pytest.raises(BenchError, match="answered HTTP 502"):
        floor_statuses(502, b"bad gateway", "X")
    with pytest.raises(BenchError, match=r"\[200, 200, 200, 404\]"):
        floor_statuses(200, b'{"statuses":[200,200,200,404],"records":[]}', "X")


async def test_the_validating_floor_refuses_a_record_of_the_wrong_shape(
    registries: dict[str, RegistryServer], samples: dict[str, str]
) -> None:
    registries["health"].state.faults.replace(Faults(wrong_schema_rate=1.0))
    plain_status, _ = await _ask_floor(registries, samples["clean"], validate=False)
    validating_status, _ = await _ask_floor(registries, samples["clean"], validate=True)
    assert plain_status == 200  # the plain floor passes the body on unread
    assert validating_status == 500


def test_the_benchmark_asks_for_the_validating_floor_on_request() -> None:
    assert parse_args([]).floor_validates is False
    assert parse_args(["--floor-validates"]).floor_validates is True
