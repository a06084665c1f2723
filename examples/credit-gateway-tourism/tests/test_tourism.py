"""The tourism connector against its registry simulator, and against registries that misbehave.

Everything runs over real HTTP on loopback, with the gateway's own types: this is how a department
tests its plug-in before the gateway ever loads it. Run with the package installed:

    pip install -e 'examples/credit-gateway-tourism[test]' && pytest examples/credit-gateway-tourism
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import date
from decimal import Decimal
from typing import Any

import aiohttp
import orjson
import pytest
from aiohttp import web
from credit_gateway_tourism import TourismRecord, plugin
from credit_gateway_tourism.registry import RECORDS, SAMPLES, create_app

from connectors.errors import SourceBadResponse, SourceTimeout, SourceUnavailable
from connectors.plugins import check_plugin
from connectors.protocol import Connector
from connectors.records import ListCategory, PenaltyKind, PublicityState, Severity
from connectors.settings import ConnectorSettings

Serve = Callable[[web.Application], Awaitable[str]]
KEY = "test-app-key"


@pytest.fixture
async def serve() -> AsyncIterator[Serve]:
    """Serve aiohttp apps on ephemeral loopback ports; each is stopped after the test."""
    runners: list[web.AppRunner] = []

    async def start(app: web.Application) -> str:
        runner = web.AppRunner(app, shutdown_timeout=0.1, handler_cancellation=True)
        await runner.setup()
        runners.append(runner)
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        return f"http://127.0.0.1:{runner.addresses[0][1]}"

    yield start
    for runner in runners:
        await runner.cleanup()


@pytest.fixture
async def session() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as client:
        yield client


def connect(
    url: str, session: aiohttp.ClientSession, app_key: str | None = KEY, **settings: Any
) -> Connector:
    options = {} if app_key is None else {"app_key": app_key}
    config = ConnectorSettings.model_validate(
        {"base_url": url, "plugin": "tourism", "options": options, **settings}
    )
    return plugin.build("tourism", config, session)


def test_the_entry_point_object_is_a_plugin() -> None:
    assert check_plugin(plugin, "tourism") is plugin
    assert plugin.record_model is TourismRecord


async def test_records_are_adapted_to_the_gateway_types(
    serve: Serve, session: aiohttp.ClientSession
) -> None:
    connector = connect(await serve(create_app(KEY)), session)
    answers = await connector.fetch_many(list(SAMPLES.values()))
    assert set(answers) == set(SAMPLES.values())
    assert all(isinstance(answer, TourismRecord) for answer in answers.values())

    black = answers[SAMPLES["blacklisted"]]
    assert isinstance(black, TourismRecord)
    assert black.subject_id == SAMPLES["blacklisted"]
    assert black.updated_at.utcoffset() is not None
    (entry,) = black.list_entries
    assert (entry.department, entry.category, entry.list_type) == (
        "tourism",
        ListCategory.BLACK,
        "SERIOUS_DISHONEST",
    )
    assert entry.list_name == "全国旅游市场黑名单"
    (penalty,) = black.penalties
    assert penalty.severity is Severity.SERIOUS
    assert penalty.kinds == [
        PenaltyKind.CONFISCATION,
        PenaltyKind.FINE,
        PenaltyKind.LICENCE_REVOCATION,
    ]
    assert (penalty.fine_amount, penalty.confiscated_amount) == (
        Decimal("300000.00"),
        Decimal("42000.00"),
    )
    # Only the end was missing: the window follows the rules for a serious penalty.
    assert penalty.publicity.minimum_until == date(2025, 11, 20)
    assert penalty.publicity.until == date(2027, 11, 20)
    assert black.grades[0].scheme == "tourism"
    assert (black.grades[0].value, black.grades[0].label) == ("D", "严重失信")
    assert black.guarantee_deposit is None

    honoured = answers[SAMPLES["honoured"]]
    assert isinstance(honoured, TourismRecord)
    assert [(e.category, e.list_type) for e in honoured.list_entries] == [
        (ListCategory.RED, "HONOUR")
    ]
    assert honoured.guarantee_deposit == Decimal("200000.00")
    (licence,) = honoured.licences
    assert licence.certificate_name == "旅行社业务经营许可证"
    assert licence.valid_from == date(2019, 5, 12)

    penalised = answers[SAMPLES["penalised"]]
    assert isinstance(penalised, TourismRecord)
    assert penalised.penalties[0].publicity.state_on(date(2025, 6, 30)) is PublicityState.PUBLIC
    assert penalised.penalties[0].fine_amount == Decimal("25000.00")


async def test_unknown_subjects_and_health(serve: Serve, session: aiohttp.ClientSession) -> None:
    connector = connect(await serve(create_app(KEY)), session)
    assert await connector.fetch_many(["91430100MA4PXL0T3X"]) == {"91430100MA4PXL0T3X": None}
    assert await connector.fetch_many([]) == {}
    assert await connector.check_health()


async def test_a_refused_app_key_is_an_unavailable_source(
    serve: Serve, session: aiohttp.ClientSession
) -> None:
    connector = connect(await serve(create_app(KEY)), session, app_key="wrong")
    (answer,) = (await connector.fetch_many([SAMPLES["honoured"]])).values()
    assert isinstance(answer, SourceUnavailable)
    assert "application key" in str(answer)


def test_invalid_options_are_refused(session: aiohttp.ClientSession) -> None:
    config = ConnectorSettings.model_validate(
        {"base_url": "http://127.0.0.1:9", "plugin": "tourism", "options": {"appkey": "x"}}
    )
    with pytest.raises(ValueError, match="appkey"):
        plugin.build("tourism", config, session)


def _legacy_app(handler: Callable[[web.Request], Awaitable[web.StreamResponse]]) -> web.Application:
    app = web.Application()
    app.router.add_get("/api/credit-records", handler)
    app.router.add_get("/api/ping", handler)
    return app


def _json(payload: object, status: int = 200) -> web.Response:
    return web.Response(status=status, body=orjson.dumps(payload), content_type="text/plain")


async def _crash(request: web.Request) -> web.StreamResponse:
    return _json({"error": "boom"}, status=500)


async def _not_json(request: web.Request) -> web.StreamResponse:
    return web.Response(body=b"<html>maintenance</html>", content_type="text/html")


async def _busy(request: web.Request) -> web.StreamResponse:
    return _json({"返回码": "9999", "返回信息": "系统繁忙"})


async def _odd_code(request: web.Request) -> web.StreamResponse:
    return _json({"返回码": "7777", "返回信息": "?"})


async def _broken_record(request: web.Request) -> web.StreamResponse:
    record = dict(RECORDS[SAMPLES["penalised"]])
    record["行政处罚"] = [{**record["行政处罚"][0], "处罚决定日期": "last spring"}]  # type: ignore[index]
    return _json({"返回码": "0000", "数据": record})


async def _another_subject(request: web.Request) -> web.StreamResponse:
    return _json({"返回码": "0000", "数据": RECORDS[SAMPLES["licensed"]]})


async def _hang(request: web.Request) -> web.StreamResponse:
    await asyncio.sleep(30)
    return _json({})


@pytest.mark.parametrize(
    ("handler", "error", "detail"),
    [
        (_crash, SourceUnavailable, "HTTP 500"),
        (_not_json, SourceBadResponse, "not JSON"),
        (_busy, SourceUnavailable, "reported a failure"),
        (_odd_code, SourceBadResponse, "unknown return code"),
        (_broken_record, SourceBadResponse, "does not match"),
        (_another_subject, SourceBadResponse, "different subject"),
        (_hang, SourceTimeout, "within 0.3 s"),
    ],
)
async def test_every_failure_is_a_source_error(
    serve: Serve,
    session: aiohttp.ClientSession,
    handler: Callable[[web.Request], Awaitable[web.StreamResponse]],
    error: type[Exception],
    detail: str,
) -> None:
    connector = connect(await serve(_legacy_app(handler)), session, timeout_s=0.3)
    subject = SAMPLES["penalised"]
    (answer,) = (await connector.fetch_many([subject])).values()
    assert isinstance(answer, error)
    assert detail in str(answer)
    # The ping answers the same way, except for the faults that only damage records.
    healthy = handler in (_broken_record, _another_subject)
    assert await connector.check_health() is healthy


async def test_an_unreachable_registry_is_unavailable(session: aiohttp.ClientSession) -> None:
    connector = connect("http://127.0.0.1:9", session)
    (answer,) = (await connector.fetch_many([SAMPLES["honoured"]])).values()
    assert isinstance(answer, SourceUnavailable)
    assert not await connector.check_health()
