"""Hostile input: every malformed, oversized, nested or tricky request gets a clear error with its
code and the status GraphQL over HTTP gives it, and nothing internal leaks into the answer (no
traceback, no source path, no exception name, no registry host).
"""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import AsyncIterator, Mapping
from pathlib import Path
from typing import Any

import httpx
import orjson
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

import gateway
from registries.server import RegistryServer
from resolvers.errors import CodedError
from resolvers.identifiers import parse_subject_id
from tests.support import (
    PUBLIC,
    Gateway,
    GatewayServer,
    calls,
    gateway_config,
    running_gateway,
)

GRAPHQL_RESPONSE = "application/graphql-response+json"
SUBJECT = '{ subject(id: "91110000600037341L", matter: "CO-JOINT-REVIEW") { kind } }'
SOURCE_ROOT = str(Path(gateway.__file__).resolve().parent.parent)
_INTERNALS = re.compile(r'Traceback|File "|\.py\b|\b\w+(Error|Exception)\b|site-packages')


def assert_clean(response: httpx.Response, registries: Mapping[str, RegistryServer]) -> None:
    """A JSON error answer that shows nothing of the gateway's insides."""
    assert response.headers["content-type"].startswith(("application/json", GRAPHQL_RESPONSE))
    text = response.text
    assert not _INTERNALS.search(text), text[:500]
    assert SOURCE_ROOT not in text
    for server in registries.values():
        assert httpx.URL(server.url).netloc.decode() not in text


def code_of(response: httpx.Response) -> str:
    code: str = response.json()["errors"][0]["extensions"]["code"]
    return code


async def post_raw(gw: Gateway, content: bytes, content_type: str | None) -> httpx.Response:
    headers = {} if content_type is None else {"content-type": content_type}
    return await gw.client.post("/graphql", content=content, headers=headers)


# ------------------------------------------------------------------------------- the HTTP request


@pytest.mark.parametrize(
    ("content", "content_type", "status"),
    [
        (b"{not json", "application/json", 400),
        (b'{"query": "{ __typename }"', "application/json", 400),
        (b"\xff\xfe\x00garbage", "application/json", 400),
        (
            '{"query": "{ __typename }", "x": "caf\u00e9"}'.encode("latin-1"),
            "application/json",
            400,
        ),
        (b"", "application/json", 400),
        (b"null", "application/json", 400),
        (b"42", "application/json", 400),
        (b"true", "application/json", 400),
        (b'"just a string"', "application/json", 400),
        (b'[{"query": "{ __typename }"}, {"query": "{ __typename }"}]', "application/json", 400),
        (b"[1, 2]", "application/json", 400),
        (b'{"query": 42}', "application/json", 400),
        (b'{"query": ""}', "application/json", 400),
        (b'{"query": "   "}', "application/json", 400),
        (b'{"variables": {}}', "application/json", 400),
        (b'{"query": "{ __typename }", "variables": [1]}', "application/json", 400),
        (b'{"query": "{ __typename }", "variables": "{}"}', "application/json", 400),
        (b'{"query": "{ __typename }", "operationName": 5}', "application/json", 400),
        (b'{"query": "{ __typename }", "x": 1e400}', "application/json", 400),
        (b"[" * 5000 + b"]" * 5000, "application/json", 400),
        (b"query { __typename }", "text/plain", 415),
        (b"query=%7B__typename%7D", "application/x-www-form-urlencoded", 415),
        (b"--b\r\n\r\n{}\r\n--b--", "multipart/form-data; boundary=b", 415),
        (b'{"query": "{ __typename }"}', None, 415),
        (b'{"query": "{ __typename }"}', "application/jsonp", 415),
        (b"{ __typename }", "application/graphql", 415),
    ],
)
async def test_malformed_requests_are_refused_with_a_code(
    gateway: Gateway,
    registries: dict[str, RegistryServer],
    content: bytes,
    content_type: str | None,
    status: int,
) -> None:
    response = await post_raw(gateway, content, content_type)
    assert response.status_code == status
    assert code_of(response) == "BAD_REQUEST"
    assert "data" not in response.json()
    assert_clean(response, registries)
    if status == 415:
        assert response.headers["accept-post"] == "application/json"


async def test_a_json_body_with_a_charset_or_the_graphql_json_type_is_served(
    gateway: Gateway,
) -> None:
    for content_type in ("application/json; charset=utf-8", "application/graphql+json"):
        response = await post_raw(gateway, b'{"query": "{ __typename }"}', content_type)
        assert response.status_code == 200
        assert response.json()["data"] == {"__typename": "Query"}


async def test_mutations_and_subscriptions_by_get_are_405_with_allow(
    gateway: Gateway, registries: dict[str, RegistryServer]
) -> None:
    for query in ("mutation { x }", "subscription { x }", "mutation M { a } query Q { b }"):
        params = {"query": query}
        if "M" in query:
            params["operationName"] = "M"
        response = await gateway.client.get("/graphql", params=params)
        assert response.status_code == 405
        assert response.headers["allow"] == "POST"
        assert code_of(response) == "BAD_REQUEST"
        assert_clean(response, registries)
    by_post = await gateway.post({"query": "mutation { x }"})
    assert by_post.status_code == 400
    assert by_post.json()["errors"][0]["message"] == "Only queries are served here."


async def test_other_methods_and_paths_are_json_refusals(
    gateway: Gateway, registries: dict[str, RegistryServer]
) -> None:
    for method in ("PUT", "DELETE", "PATCH"):
        response = await gateway.client.request(method, "/graphql", content=b"{}")
        assert response.status_code == 405
        assert "POST" in response.headers["allow"]
        assert code_of(response) == "BAD_REQUEST"
        assert response.json()["extensions"]["requestId"] == response.headers["x-request-id"]
        assert_clean(response, registries)
    missing = await gateway.client.get("/graphql/../admin")
    assert missing.status_code == 404
    assert code_of(missing) == "BAD_REQUEST"


async def test_an_oversized_body_is_413_whether_declared_or_streamed(
    registries: dict[str, RegistryServer],
) -> None:
    payload = orjson.dumps({"query": "{ __typename }", "variables": {"x": "y" * 5000}})

    async def chunks() -> AsyncIterator[bytes]:
        for start in range(0, len(payload), 1000):
            yield payload[start : start + 1000]

    async with running_gateway(registries, graphql={"max_body_bytes": 2048}) as gw:
        declared = await post_raw(gw, payload, "application/json")
        streamed = await gw.client.post(
            "/graphql", content=chunks(), headers={"content-type": "application/json"}
        )
    for response in (declared, streamed):
        assert response.status_code == 413
        assert code_of(response) == "BAD_REQUEST"
        assert_clean(response, registries)


# ---------------------------------------------------------------------------------- variables


@pytest.mark.parametrize(
    ("variables", "words"),
    [
        ({"x": [[[[[[[[["deep"]]]]]]]]]}, "nested more than 8 levels"),
        ({"x": {"a": {"b": {"c": {"d": {"e": {"f": {"g": {"h": 1}}}}}}}}}, "more than 8 levels"),
        ({"x": "y" * 40_000}, "at most 32768"),
        ({f"v{i}": i for i in range(5000)}, "at most 32768"),
    ],
    ids=["nested lists", "nested objects", "one large value", "many variables"],
)
async def test_variables_too_deep_or_too_large_are_refused(
    gateway: Gateway,
    registries: dict[str, RegistryServer],
    variables: dict[str, Any],
    words: str,
) -> None:
    responses = [await gateway.post({"query": "{ __typename }", "variables": variables})]
    if "levels" in words:  # (large ones do not fit in a URL an HTTP client builds; see below)
        get = await gateway.client.get(
            "/graphql",
            params={"query": "{ __typename }", "variables": orjson.dumps(variables).decode()},
        )
        responses.append(get)
    for response in responses:
        assert response.status_code == 400
        assert code_of(response) == "BAD_REQUEST"
        assert words in response.json()["errors"][0]["message"]
        assert_clean(response, registries)


async def test_json_nested_ten_thousand_deep_is_refused(
    gateway: Gateway, registries: dict[str, RegistryServer]
) -> None:
    deep = b"[" * 10_000 + b"]" * 10_000
    body = b'{"query": "{ __typename }", "variables": {"x": ' + deep + b"}}"
    posted = await post_raw(gateway, body, "application/json")
    got = await gateway.client.get(
        "/graphql", params={"query": "{ __typename }", "variables": '{"x": ' + deep.decode() + "}"}
    )
    for response in (posted, got):
        assert response.status_code == 400
        assert code_of(response) == "BAD_REQUEST"
        assert "nested too deeply" in response.json()["errors"][0]["message"]
        assert_clean(response, registries)


async def _asgi_get(app: Any, query_string: bytes) -> tuple[int, dict[str, str], bytes]:
    """A GET straight into the ASGI app, for a query string larger than HTTP clients send."""
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "GET",
        "scheme": "http",
        "path": "/graphql",
        "raw_path": b"/graphql",
        "root_path": "",
        "query_string": query_string,
        "headers": [(b"host", b"gateway")],
        "client": ("192.0.2.1", 40000),
        "server": ("gateway", 80),
    }
    await app(scope, receive, send)
    start = next(m for m in sent if m["type"] == "http.response.start")
    headers = {k.decode(): v.decode() for k, v in start["headers"]}
    return start["status"], headers, b"".join(m.get("body", b"") for m in sent[1:])


async def test_a_megabyte_of_variables_in_a_get_query_string_is_refused(
    registries: dict[str, RegistryServer],
) -> None:
    megabyte = b"query=%7B__typename%7D&variables=%7B%22x%22%3A%22" + b"y" * 1_000_000 + b"%22%7D"
    async with running_gateway(registries) as gw:
        status, headers, body = await _asgi_get(gw.app, megabyte)
    assert status == 414
    assert headers["content-type"] == "application/json"
    assert orjson.loads(body)["errors"][0]["extensions"]["code"] == "BAD_REQUEST"
    # Served by uvicorn, a query string over the app's limit is refused by the app; one over
    # what the HTTP parser accepts at all never reaches it, and is a plain 400 from the server.
    config = gateway_config(registries, graphql={"max_body_bytes": 8192})
    async with GatewayServer(config) as server:
        over_app_limit = await _raw_http_get(server, b"y" * 20_000)
        over_server_limit = await _raw_http_get(server, b"y" * 1_000_000)
    assert over_app_limit.startswith(b"HTTP/1.1 414 ")
    assert b'"code":"BAD_REQUEST"' in over_app_limit
    assert over_server_limit.startswith(b"HTTP/1.1 400 ")
    for answer in (over_app_limit, over_server_limit):
        assert b"Traceback" not in answer


async def _raw_http_get(server: GatewayServer, filler: bytes) -> bytes:
    reader, writer = await asyncio.open_connection(server.host, server.port)
    try:
        target = b"/graphql?query=%7B__typename%7D&variables=%7B%22x%22%3A%22" + filler + b"%22%7D"
        writer.write(b"GET " + target + b" HTTP/1.1\r\nHost: gw\r\nConnection: close\r\n\r\n")
        await writer.drain()
        return await asyncio.wait_for(reader.read(), 10)
    finally:
        writer.close()


async def test_variables_of_the_wrong_type_are_bad_request(
    gateway: Gateway, registries: dict[str, RegistryServer]
) -> None:
    query = "query($ids: [ID!]!, $matter: ID) { subjects(ids: $ids, matter: $matter) { id } }"
    for ids in ({"a": 1}, [None], [[1]], True, None, [1.5]):
        loose = await gateway.post({"query": query, "variables": {"ids": ids}})
        strict = await gateway.post(
            {"query": query, "variables": {"ids": ids}}, headers={"accept": GRAPHQL_RESPONSE}
        )
        assert loose.status_code == 200
        assert strict.status_code == 400
        for response in (loose, strict):
            assert code_of(response) == "BAD_REQUEST"
            assert "data" not in response.json()
            assert_clean(response, registries)
    assert sum(calls(s) for s in registries.values()) == 0


# ---------------------------------------------------------------------------------- documents


def _deep_selection(levels: int) -> str:
    return "{" + "a{" * levels + "b" + "}" * (levels + 1)


def _fragment_bomb() -> str:
    """Fragments each spreading the previous one ten times: 10^12 paths in a few hundred tokens."""
    fragments = ["fragment F0 on Subject { a0: id }"]
    for level in range(1, 13):
        spreads = " ".join([f"...F{level - 1}"] * 10)
        fragments.append(f"fragment F{level} on Subject {{ {spreads} }}")
    return (
        'query { subject(id: "91110000600037341L", matter: "CO-JOINT-REVIEW") { ...F12 } } '
        + " ".join(fragments)
    )


def _fragment_chain(length: int) -> str:
    chain = " ".join(f"fragment F{i} on Subject {{ ...F{i + 1} }}" for i in range(length))
    return (
        'query { subject(id: "91110000600037341L", matter: "CO-JOINT-REVIEW") { ...F0 } } '
        f"{chain} fragment F{length} on Subject {{ id }}"
    )


HOSTILE_DOCUMENTS = {
    "selection sets 900 deep": (_deep_selection(900), "QUERY_TOO_DEEP"),
    "selection sets 150 deep": (_deep_selection(150), "QUERY_TOO_DEEP"),
    "a list argument 1000 deep": (
        "{ subject(id: " + "[" * 1000 + "]" * 1000 + ") { id } }",
        "QUERY_TOO_DEEP",
    ),
    "an object argument 1000 deep": (
        "{ subject(id: " + "{a: " * 1000 + "1" + "}" * 1000 + ") { id } }",
        "QUERY_TOO_DEEP",
    ),
    "alias bomb": (
        "{ " + " ".join(f"a{i}: __typename" for i in range(500)) + " }",
        "QUERY_TOO_COMPLEX",
    ),
    "aliased subject fields": (
        "{ "
        + " ".join(
            f'a{i}: subject(id: "91110000600037341L", matter: "CO-JOINT-REVIEW") {{ kind }}'
            for i in range(31)
        )
        + " }",
        "QUERY_TOO_COMPLEX",
    ),
    "fragment bomb": (_fragment_bomb(), "QUERY_TOO_COMPLEX"),
    "fragment cycle": (
        'query { subject(id: "91110000600037341L", matter: "CO-JOINT-REVIEW") { ...A } } '
        "fragment A on Subject { ...B } fragment B on Subject { ...A }",
        "BAD_REQUEST",
    ),
    "fragment self-cycle": (
        '{ subject(id: "91110000600037341L") { ...A } } fragment A on Subject { id ...A }',
        "BAD_REQUEST",
    ),
    "token flood": ("{ " + "__typename " * 4000 + "}", "QUERY_TOO_COMPLEX"),
    "repeated directives": (
        "{ __typename " + "@skip(if: false) " * 200 + "}",
        "BAD_REQUEST",
    ),
    "unknown field": ("{ secrets { password } }", "BAD_REQUEST"),
    "introspection nested too deep": (
        "{ __schema { types { " + "fields { type { " * 10 + "name" + " } }" * 10 + " } } }",
        "QUERY_TOO_DEEP",
    ),
    "syntax error": ("{ subject(id: ", "BAD_REQUEST"),
}


@pytest.mark.parametrize(
    ("query", "code"), list(HOSTILE_DOCUMENTS.values()), ids=list(HOSTILE_DOCUMENTS)
)
async def test_hostile_documents_are_refused_before_anything_runs(
    gateway: Gateway, registries: dict[str, RegistryServer], query: str, code: str
) -> None:
    loose = await gateway.post({"query": query})
    strict = await gateway.post({"query": query}, headers={"accept": GRAPHQL_RESPONSE})
    assert loose.status_code == 200  # application/json: GraphQL over HTTP's 200
    assert strict.status_code == 400
    for response in (loose, strict):
        assert code_of(response) == code
        assert "data" not in response.json()
        assert_clean(response, registries)
    assert sum(calls(s) for s in registries.values()) == 0


async def test_a_fragment_chain_longer_than_the_stack_is_refused(
    registries: dict[str, RegistryServer],
) -> None:
    """Thousands of fragments each spreading the next: the limits' own checks recurse once per
    spread, so the chain is refused as too deep rather than allowed to fail the request."""
    async with running_gateway(
        registries, graphql={"max_tokens": 100_000, "max_body_bytes": 1_000_000}
    ) as gw:
        response = await gw.post({"query": _fragment_chain(3000)})
    assert response.status_code == 200
    assert code_of(response) == "QUERY_TOO_DEEP"
    assert_clean(response, registries)


async def test_operation_names_that_do_not_pick_one_operation_are_400(
    gateway: Gateway, registries: dict[str, RegistryServer]
) -> None:
    two = "query A { __typename } query B { __typename }"
    for payload in (
        {"query": two},
        {"query": two, "operationName": "C"},
        {"query": "query A { __typename }", "operationName": "B"},
        {"query": "{ __typename }", "operationName": "A"},
        {"query": two, "operationName": "x" * 10_000},
        {"query": "fragment A on Subject { id }"},
    ):
        response = await gateway.post(payload)
        assert response.status_code == 400
        assert code_of(response) == "BAD_REQUEST"
        assert_clean(response, registries)


# ------------------------------------------------------------------------------------ subject ids

VALID_IDS = ("91110000600037341L", "92340603MA2PBN17X5", "11010519491231002X", "360426199101010071")


def _is_valid(raw: str) -> bool:
    try:
        parse_subject_id(raw)
    except CodedError:
        return False
    return True


@st.composite
def _mistyped(draw: st.DrawFn) -> str:
    """A real id with one character changed: what a user most often sends."""
    valid = draw(st.sampled_from(VALID_IDS))
    index = draw(st.integers(0, len(valid) - 1))
    char = draw(st.sampled_from("0123456789ABCDEFGHJKLMNPQRTUWXYIOSVZ"))
    return valid[:index] + char + valid[index + 1 :]


WRONG_IDS = st.one_of(
    _mistyped(),
    st.from_regex(r"[0-9]{17}[0-9X]", fullmatch=True),  # resident-number-shaped
    st.from_regex(r"[0-9A-Z]{18}", fullmatch=True),  # credit-code-shaped
    st.text(alphabet="0123456789", max_size=40).filter(lambda s: len(s) != 18),
    st.text(max_size=80),  # anything at all: control characters, NUL, emoji, RTL marks
    st.text(min_size=65, max_size=300),  # longer than any id could be, even with separators
).filter(lambda raw: not _is_valid(raw))


@settings(
    max_examples=40,
    derandomize=True,
    database=None,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(ids=st.lists(WRONG_IDS, min_size=1, max_size=8))
async def test_wrong_subject_ids_are_invalid_subject_id_errors(
    gateway: Gateway, registries: dict[str, RegistryServer], ids: list[str]
) -> None:
    assume(all(not _is_valid(raw) for raw in ids))
    before = sum(calls(s) for s in registries.values())
    single = await gateway.post(
        {
            "query": "query($id: ID!, $matter: ID) { subject(id: $id, matter: $matter) { id "
            "environment { name } } }",
            "variables": {"id": ids[0]},
        }
    )
    batch = await gateway.post(
        {
            "query": "query($ids: [ID!]!) { subjects(ids: $ids) { id name } }",
            "variables": {"ids": ids},
        },
        headers=PUBLIC,
    )
    assert single.status_code == batch.status_code == 200
    assert single.json()["data"] == {"subject": None}
    assert [e["extensions"]["code"] for e in single.json()["errors"]] == ["INVALID_SUBJECT_ID"]
    assert batch.json()["data"] == {"subjects": [None] * len(ids)}
    errors = batch.json()["errors"]
    assert [e["path"] for e in errors] == [["subjects", i] for i in range(len(ids))]
    assert {e["extensions"]["code"] for e in errors} == {"INVALID_SUBJECT_ID"}
    for response in (single, batch):
        assert_clean(response, registries)
    assert sum(calls(s) for s in registries.values()) == before  # no registry was asked


# ------------------------------------------------------------------------ unexpected exceptions


async def test_an_unexpected_exception_outside_graphql_is_json_internal(
    gateway: Gateway,
    registries: dict[str, RegistryServer],
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    async def broken(authorization: str | None) -> object:
        raise RuntimeError("db-7.internal refused 11010519491231002X")

    monkeypatch.setattr(gateway.services.verifier, "principal", broken)
    caplog.set_level(logging.ERROR)
    response = await gateway.post({"query": SUBJECT}, headers={"x-request-id": "req-500"})
    assert response.status_code == 500
    assert response.headers["x-request-id"] == "req-500"
    body = response.json()
    assert body["errors"][0]["extensions"] == {"code": "INTERNAL"}
    assert "req-500" in body["errors"][0]["message"]
    assert body["extensions"] == {"requestId": "req-500"}
    assert "db-7" not in response.text
    assert_clean(response, registries)
    logged = [r for r in caplog.records if "req-500" in r.getMessage()]
    assert logged
    assert all("db-7" not in r.getMessage() and "1101051949" not in r.getMessage() for r in logged)
    assert all(r.exc_info is None for r in caplog.records)  # no traceback in any log line


async def test_an_unexpected_exception_under_uvicorn_leaves_no_traceback_in_the_log(
    registries: dict[str, RegistryServer],
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    async with GatewayServer(gateway_config(registries)) as server, httpx.AsyncClient() as client:

        async def broken(*args: object, **kwargs: object) -> object:
            raise KeyError("registry at db-7.internal")

        monkeypatch.setattr(server.services.executor, "run", broken)
        response = await client.post(server.url, json={"query": SUBJECT})
    assert response.status_code == 500
    assert response.json()["errors"][0]["extensions"] == {"code": "INTERNAL"}
    assert response.json()["extensions"]["requestId"] == response.headers["x-request-id"]
    assert_clean(response, registries)
    assert not [r for r in caplog.records if r.exc_info is not None]
    assert not any("db-7" in r.getMessage() for r in caplog.records)
