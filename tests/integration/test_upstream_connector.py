"""The upstream-gateway connector against a lower gateway that misbehaves in every way: each
failure of the call is a `SourceError` with the right state, a failed part is a partial answer."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import aiohttp
import orjson
import pytest
from aiohttp import web

from connectors.errors import SourceError, SourceState
from connectors.settings import UpstreamSettings
from connectors.upstream import FederatedRecord, UpstreamConnector, UpstreamParts
from gateway.federation import upstream_selections
from schema import build_schema

SUBJECT = "91430111MA75AQYY4R"
OTHER = "91110000600037341L"
PARTS = UpstreamParts(("environment", "commerce"), lists=True, grades=True, name=True)
AUTHORITY = {"name": "长沙市生态环境局", "code": None, "source": "furong"}
ENVIRONMENT = {
    "name": "湖南某公司",
    "updatedAt": "2025-01-02T03:04:05+00:00",
    "grades": [],
    "penalties": [],
    "licences": [],
    "listEntries": [],
    "inspections": [],
    "eiaReviews": [],
}
ENTRY = {
    "department": "environment",
    "listType": "SERIOUS_DISHONEST",
    "listName": "严重失信主体名单",
    "category": "BLACK",
    "enteredOn": "2024-01-01",
    "exitedOn": None,
    "expiresOn": None,
    "reason": "r",
    "basis": "b",
    "documentNumber": None,
    "authority": {"name": "a", "code": None},
    "source": "furong",
}

Reply = Callable[[web.Request], Awaitable[web.StreamResponse]]


class FakeCity:
    def __init__(self) -> None:
        self.reply: Reply = self.ok
        self.requests: list[dict[str, Any]] = []

    async def handle(self, request: web.Request) -> web.StreamResponse:
        self.requests.append(
            {"headers": request.headers.copy(), "body": orjson.loads(await request.read())}
        )
        return await self.reply(request)

    @staticmethod
    async def ok(request: web.Request) -> web.StreamResponse:
        return _json({"data": {"subjects": [_subject()]}})


def _subject(**changes: Any) -> dict[str, Any]:
    subject = {
        "id": SUBJECT,
        "name": "湖南某公司",
        "environment": ENVIRONMENT,
        "commerce": None,
        "lists": [ENTRY],
        "grades": [],
        "sources": [
            {"department": "environment", "status": "OK", "message": None},
            {"department": "commerce", "status": "NOT_FOUND", "message": None},
        ],
    }
    subject.update(changes)
    return subject


def _json(body: object, status: int = 200) -> web.Response:
    return web.Response(body=orjson.dumps(body), status=status, content_type="application/json")


@pytest.fixture
async def fake_city() -> AsyncIterator[tuple[FakeCity, str]]:
    city = FakeCity()
    app = web.Application()
    app.router.add_post("/graphql", city.handle)

    async def healthz(request: web.Request) -> web.Response:
        return _json({"status": "ok"})

    app.router.add_get("/healthz", healthz)
    runner = web.AppRunner(app, shutdown_timeout=0.1)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    yield city, f"http://127.0.0.1:{port}/graphql"
    await runner.cleanup()


@pytest.fixture
async def connect(
    fake_city: tuple[FakeCity, str],
) -> AsyncIterator[Callable[..., UpstreamConnector]]:
    selections = upstream_selections(build_schema()._schema)
    async with aiohttp.ClientSession() as session:

        def make(**settings: Any) -> UpstreamConnector:
            options = {
                "url": fake_city[1],
                "region": "430100",
                "audience": "city",
                "timeout_s": 0.5,
                **settings,
            }
            return UpstreamConnector(
                "changsha", UpstreamSettings.model_validate(options), session, selections
            )

        yield make


async def _fetch(connector: UpstreamConnector) -> Any:
    """The answer for SUBJECT, or the `SourceError` the call as a whole raised."""
    try:
        answers = await connector.fetch_many(
            [SUBJECT], token="t0ken", matter="CO-JOINT-REVIEW", parts=PARTS, request_id="r-1"
        )
    except SourceError as exc:
        return exc
    return answers[SUBJECT]


async def test_a_good_answer_becomes_a_federated_record(
    fake_city: tuple[FakeCity, str], connect: Callable[..., UpstreamConnector]
) -> None:
    city, _ = fake_city
    record = await _fetch(connect())
    assert isinstance(record, FederatedRecord)
    assert record.name == "湖南某公司"
    assert set(record.sections) == {"environment"}
    assert record.sections["environment"].subject_id == SUBJECT
    assert not record.failures
    (entry,) = record.list_entries
    assert entry.source == "changsha/furong"  # a county's record the city relayed
    assert entry.department == "environment"
    (request,) = city.requests
    assert request["headers"]["Authorization"] == "Bearer t0ken"
    assert request["headers"]["X-Request-Id"] == "r-1"
    assert request["body"]["variables"] == {"ids": [SUBJECT], "matter": "CO-JOINT-REVIEW"}
    assert "subjects(ids: $ids, matter: $matter)" in request["body"]["query"]
    assert await connect().check_health()


async def test_lists_of_departments_not_asked_about_are_left_out(
    connect: Callable[..., UpstreamConnector],
) -> None:
    record = await _fetch(connect(departments=["commerce"]))
    assert isinstance(record, FederatedRecord)
    assert record.list_entries == []


def _reply(status: int, body: bytes | object, delay: float = 0) -> Reply:
    async def reply(request: web.Request) -> web.StreamResponse:
        if delay:
            await asyncio.sleep(delay)
        raw = body if isinstance(body, bytes) else orjson.dumps(body)
        return web.Response(body=raw, status=status, content_type="application/json")

    return reply


def _refusal(code: str, message: str, path: list[Any] | None = None) -> dict[str, Any]:
    error: dict[str, Any] = {"message": message, "extensions": {"code": code}}
    if path is not None:
        error["path"] = path
    return error


CALL_FAILURES = {
    "http 500": (_reply(500, b"oops"), SourceState.ERROR, "answered HTTP 500"),
    "not json": (_reply(200, b'{"data": '), SourceState.BAD_RESPONSE, "is not JSON"),
    "a list": (_reply(200, [1, 2]), SourceState.BAD_RESPONSE, "wrong shape"),
    "too few subjects": (
        _reply(200, {"data": {"subjects": []}}),
        SourceState.BAD_RESPONSE,
        "wrong shape",
    ),
    "subjects not a list": (
        _reply(200, {"data": {"subjects": {"a": 1}}}),
        SourceState.BAD_RESPONSE,
        "wrong shape",
    ),
    "unauthenticated": (
        _reply(401, {"errors": [_refusal("UNAUTHENTICATED", "The token has expired.")]}),
        SourceState.ERROR,
        "refused the service token (UNAUTHENTICATED: The token has expired.)",
    ),
    "purpose": (
        _reply(
            200,
            {
                "data": {"subjects": None},
                "errors": [
                    _refusal("UNKNOWN_MATTER", "'X' is not in the catalogue.", ["subjects"])
                ],
            },
        ),
        SourceState.FORBIDDEN,
        "refused the lookup (UNKNOWN_MATTER",
    ),
    "strict refusal": (
        _reply(403, {"errors": [_refusal("FORBIDDEN", "Your role may not read …")]}),
        SourceState.FORBIDDEN,
        "refused the lookup",
    ),
    "audit down": (
        _reply(503, {"errors": [_refusal("AUDIT_UNAVAILABLE", "…")]}),
        SourceState.ERROR,
        "could not answer (AUDIT_UNAVAILABLE",
    ),
    "query rejected": (
        _reply(200, {"errors": [_refusal("BAD_REQUEST", "Cannot query field 'x'.")]}),
        SourceState.ERROR,
        "rejected the query",
    ),
    "hang": (_reply(200, {}, delay=2), SourceState.TIMEOUT, "did not answer within 0.5 s"),
    "huge": (
        _reply(200, {"pad": "x" * 5000}),
        SourceState.BAD_RESPONSE,
        "larger than allowed",
    ),
}


@pytest.mark.parametrize(
    ("reply", "state", "message"), CALL_FAILURES.values(), ids=list(CALL_FAILURES)
)
async def test_every_failure_of_the_call_is_a_source_error(
    fake_city: tuple[FakeCity, str],
    connect: Callable[..., UpstreamConnector],
    reply: Reply,
    state: SourceState,
    message: str,
) -> None:
    fake_city[0].reply = reply
    answer = await _fetch(connect(max_response_bytes=2048))
    assert isinstance(answer, SourceError)
    assert answer.state is state
    assert message in str(answer)
    assert str(answer).startswith("The changsha gateway ")


async def test_a_refused_section_or_subject_is_a_partial_answer(
    fake_city: tuple[FakeCity, str], connect: Callable[..., UpstreamConnector]
) -> None:
    subject = _subject(
        environment=None,
        sources=[
            {"department": "environment", "status": "OK", "message": None},
            {"department": "commerce", "status": "TIMEOUT", "message": "too slow"},
        ],
    )
    fake_city[0].reply = _reply(
        200,
        {
            "data": {"subjects": [subject, None]},
            "errors": [
                _refusal(
                    "FORBIDDEN",
                    "Your role may not read Subject.environment.",
                    ["subjects", 0, "environment"],
                ),
                _refusal("INVALID_SUBJECT_ID", "bad id", ["subjects", 1]),
            ],
        },
    )
    answers = await connect().fetch_many(
        [SUBJECT, OTHER], token="t", matter=None, parts=PARTS, request_id=None
    )
    record = answers[SUBJECT]
    assert isinstance(record, FederatedRecord)
    assert record.sections == {}
    assert [(f.part, f.state) for f in record.failures] == [
        ("environment", SourceState.FORBIDDEN),
        ("commerce", SourceState.TIMEOUT),
    ]
    assert record.failed_sources == ("commerce",)  # environment was only withheld
    assert record.list_entries  # the rest of the answer is kept
    other = answers[OTHER]
    assert isinstance(other, SourceError)
    assert "INVALID_SUBJECT_ID" in str(other)


async def test_a_section_that_does_not_validate_fails_alone(
    fake_city: tuple[FakeCity, str], connect: Callable[..., UpstreamConnector]
) -> None:
    broken = {**ENVIRONMENT, "penalties": "none"}
    fake_city[0].reply = _reply(200, {"data": {"subjects": [_subject(environment=broken)]}})
    record = await _fetch(connect())
    assert isinstance(record, FederatedRecord)
    assert [(f.part, f.state) for f in record.failures] == [
        ("environment", SourceState.BAD_RESPONSE)
    ]
    assert record.name == "湖南某公司"


async def test_a_subject_the_city_does_not_hold_is_none(
    fake_city: tuple[FakeCity, str], connect: Callable[..., UpstreamConnector]
) -> None:
    nothing = _subject(
        name=None,
        environment=None,
        lists=[],
        sources=[{"department": "environment", "status": "NOT_FOUND", "message": None}],
    )
    fake_city[0].reply = _reply(200, {"data": {"subjects": [nothing]}})
    assert await _fetch(connect()) is None


async def test_a_refused_connection_is_unavailable(
    connect: Callable[..., UpstreamConnector],
) -> None:
    connector = connect(url="http://127.0.0.1:9/graphql")
    answer = await _fetch(connector)
    assert isinstance(answer, SourceError)
    assert answer.state is SourceState.ERROR
    assert str(answer) == "The changsha gateway could not be reached."
    assert not await connector.check_health()
