"""GraphQL over HTTP: statuses, media types, refusals with codes, and the query limits.

Malformed, oversized and hostile requests: test_hostile_input.py; the cost budget:
test_query_cost.py; rate limits: test_rate_limits.py.
"""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from graphql import get_introspection_query
from starlette.routing import Router

from registries.server import RegistryServer
from tests.support import Gateway, calls, running_gateway

GRAPHQL_RESPONSE = "application/graphql-response+json"


def _code(body: dict[str, Any]) -> str:
    code: str = body["errors"][0]["extensions"]["code"]
    return code


async def test_get_serves_queries(gateway: Gateway) -> None:
    response = await gateway.client.get(
        "/graphql",
        params={
            "query": '{ subject(id: "91110000600037341L", matter: "CO-JOINT-REVIEW") { kind } }'
        },
    )
    assert response.status_code == 200
    assert response.json()["data"] == {"subject": {"kind": "LEGAL_PERSON"}}


async def test_graphiql_is_served_to_browsers_when_enabled(
    registries: dict[str, RegistryServer],
) -> None:
    async with running_gateway(registries, graphql={"graphiql": True}) as gateway:
        page = await gateway.client.get("/graphql", headers={"accept": "text/html"})
    assert page.status_code == 200
    assert "graphiql" in page.text.lower()
    assert "query Profile($id: ID!, $matter: ID)" in page.text


async def test_graphiql_is_off_by_default(gateway: Gateway) -> None:
    page = await gateway.client.get("/graphql", headers={"accept": "text/html"})
    assert page.status_code == 400
    assert _code(page.json()) == "BAD_REQUEST"


async def test_a_syntax_error_is_bad_request(gateway: Gateway) -> None:
    response = await gateway.post({"query": "{ subject(id: "})
    assert response.status_code == 200  # application/json clients get 200 (GraphQL over HTTP)
    body = response.json()
    assert _code(body) == "BAD_REQUEST"
    assert "data" not in body
    strict = await gateway.post({"query": "{ subject(id: "}, headers={"accept": GRAPHQL_RESPONSE})
    assert strict.status_code == 400
    assert strict.headers["content-type"].startswith(GRAPHQL_RESPONSE)
    assert _code(strict.json()) == "BAD_REQUEST"


async def test_validation_errors_are_bad_request(gateway: Gateway) -> None:
    body = (await gateway.post({"query": "{ subject(id: 1) { nope } }"})).json()
    assert _code(body) == "BAD_REQUEST"
    body = (await gateway.post({"query": "mutation { x }"})).json()
    assert _code(body) == "BAD_REQUEST"


async def test_an_unknown_operation_name_is_400(gateway: Gateway) -> None:
    response = await gateway.post(
        {"query": "query A { __typename } query B { __typename }", "operationName": "C"}
    )
    assert response.status_code == 400
    assert _code(response.json()) == "BAD_REQUEST"


async def test_request_id_is_echoed_or_made(gateway: Gateway) -> None:
    given = await gateway.post({"query": "{ __typename }"}, headers={"x-request-id": "abc-123"})
    assert given.headers["x-request-id"] == "abc-123"
    assert given.json()["extensions"]["requestId"] == "abc-123"
    hostile = await gateway.post({"query": "{ __typename }"}, headers={"x-request-id": "a\tb" * 50})
    assert hostile.headers["x-request-id"] != "a\tb" * 50
    assert len(hostile.headers["x-request-id"]) == 32


async def test_depth_limit(registries: dict[str, RegistryServer]) -> None:
    async with running_gateway(registries, graphql={"max_depth": 3}) as gateway:
        ok = await gateway.query(
            '{ subject(id: "91110000600037341L", matter: "CO-JOINT-REVIEW") { commerce { name } } }'
        )
        assert "errors" not in ok
        deep = await gateway.query(
            'query Q { subject(id: "91110000600037341L", matter: "CO-JOINT-REVIEW") { commerce '
            "{ registration { name } } } }"
        )
        assert _code(deep) == "QUERY_TOO_DEEP"
        assert "data" not in deep
        via_fragment = await gateway.query(
            'query { subject(id: "91110000600037341L", matter: "CO-JOINT-REVIEW") { ...F } } '
            "fragment F on Subject { commerce { registration { name } } }"
        )
        assert _code(via_fragment) == "QUERY_TOO_DEEP"
    assert sum(calls(s) for s in registries.values()) == 1  # only the allowed query's


async def test_introspection_has_its_own_depth_budget(gateway: Gateway) -> None:
    body = await gateway.query(get_introspection_query(descriptions=True))
    assert "errors" not in body
    assert any(t["name"] == "Subject" for t in body["data"]["__schema"]["types"])
    nested = "{ __schema { types { " + "fields { type { " * 10 + "name" + " } }" * 10 + " } } }"
    assert _code(await gateway.query(nested)) == "QUERY_TOO_DEEP"


async def test_alias_limit(registries: dict[str, RegistryServer]) -> None:
    async with running_gateway(registries, graphql={"max_aliases": 3}) as gateway:
        fields = " ".join(
            f'a{i}: subject(id: "91110000600037341L", matter: "CO-JOINT-REVIEW") {{ id }}'
            for i in range(4)
        )
        body = await gateway.query("{ " + fields + " }")
    assert _code(body) == "QUERY_TOO_COMPLEX"
    assert sum(calls(s) for s in registries.values()) == 0


async def test_aliases_inside_a_fragment_count_each_time_it_is_spread(
    registries: dict[str, RegistryServer],
) -> None:
    async with running_gateway(registries, graphql={"max_aliases": 5}) as gateway:
        query = (
            'query { s: subject(id: "91110000600037341L", matter: "CO-JOINT-REVIEW") { ...F '
            "...F2 } } "
            "fragment F on Subject { a: id b: kind } "
            "fragment F2 on Subject { ...F c: id }"
        )
        body = await gateway.query(query)
    assert _code(body) == "QUERY_TOO_COMPLEX"  # 1 + 2 + (2 + 1) = 6 aliases


async def test_token_limit(registries: dict[str, RegistryServer]) -> None:
    async with running_gateway(registries, graphql={"max_tokens": 60}) as gateway:
        body = await gateway.query("{ " + " ".join(["__typename"] * 100) + " }")
    assert _code(body) == "QUERY_TOO_COMPLEX"


async def test_an_unexpected_error_is_masked_as_internal(
    gateway: Gateway, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    async def broken(ids: object, deadline: object = None) -> object:
        raise RuntimeError("secret upstream host db-7.internal and id 11010519491231002X")

    def broken_start(ids: object, deadline: object = None) -> object:
        raise RuntimeError("secret upstream host db-7.internal and id 11010519491231002X")

    monkeypatch.setattr(gateway.services.sources["health"], "load_many", broken)
    monkeypatch.setattr(gateway.services.sources["health"], "start", broken_start)
    response = await gateway.post(
        {
            "query": '{ subject(id: "91110000600037341L", matter: "CO-JOINT-REVIEW") { kind '
            "health { name } } }"
        },
        headers={"x-request-id": "req-42"},
    )
    body = response.json()
    assert response.status_code == 200
    assert body["data"]["subject"] == {"kind": "LEGAL_PERSON", "health": None}
    (error,) = body["errors"]
    assert error["extensions"] == {"code": "INTERNAL"}
    assert "req-42" in error["message"]
    assert "db-7" not in response.text
    assert "11010519491231002X" not in response.text
    assert any("req-42" in record.getMessage() for record in caplog.records)


async def test_healthz(gateway: Gateway) -> None:
    response = await gateway.client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


async def test_readyz_lists_each_registry(gateway: Gateway) -> None:
    body = (await gateway.client.get("/readyz")).json()
    assert body == {
        "status": "ok",
        "sources": {"environment": "up", "quality": "up", "health": "up", "commerce": "up"},
        "breakers": dict.fromkeys(["environment", "quality", "health", "commerce"], "closed"),
    }


async def test_several_operations_need_an_operation_name(gateway: Gateway) -> None:
    query = "query A { __typename } query B { __typename }"
    response = await gateway.post({"query": query}, headers={"accept": GRAPHQL_RESPONSE})
    assert response.status_code == 400
    assert _code(response.json()) == "BAD_REQUEST"
    assert "operationName" in response.json()["errors"][0]["message"]
    chosen = await gateway.post({"query": query, "operationName": "B"})
    assert chosen.json()["data"] == {"__typename": "Query"}


async def test_an_unknown_operation_name_says_so(gateway: Gateway) -> None:
    response = await gateway.post({"query": "query A { __typename }", "operationName": "C"})
    assert response.status_code == 400
    assert response.json()["errors"][0]["message"] == 'Unknown operation named "C".'


async def test_refusals_carry_the_request_id(gateway: Gateway) -> None:
    response = await gateway.client.post(
        "/graphql", content=b"{", headers={"content-type": "application/json", "x-request-id": "r1"}
    )
    assert response.json()["extensions"] == {"requestId": "r1"}
    get = await gateway.client.get("/graphql", params={"query": "mutation { x }"})
    assert get.headers["allow"] == "POST"


async def test_a_field_error_keeps_data_and_200_under_the_strict_media_type(
    gateway: Gateway,
) -> None:
    response = await gateway.post(
        {
            "query": "query($ids: [ID!]!, $matter: ID) { subjects(ids: $ids, matter: $matter) "
            "{ id } }",
            "variables": {"ids": ["x"] * 101},
        },
        headers={"accept": GRAPHQL_RESPONSE},
    )
    assert response.status_code == 200
    body = response.json()
    assert body["data"] is None  # `subjects` is non-null, so its error nulls the data
    assert body["errors"][0]["path"] == ["subjects"]
    assert _code(body) == "BATCH_TOO_LARGE"


async def test_a_variable_error_names_the_variable(gateway: Gateway) -> None:
    body = (
        await gateway.post(
            {
                "query": "query($id: ID!, $matter: ID) "
                "{ subject(id: $id, matter: $matter) { id } }",
                "variables": {"id": [1]},
            }
        )
    ).json()
    (error,) = body["errors"]
    assert "$id" in error["message"]
    assert error["locations"]


async def test_graphql_takes_the_lane_and_everything_else_the_declared_routes(
    gateway: Gateway, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`GET`/`POST /graphql` skip starlette's router and framework middleware (`GatewayApp`);
    the rest (other paths, other methods, a root path) is routed as declared."""
    routed: list[str] = []
    original = Router.__call__

    async def counting(self: Router, scope: Any, receive: Any, send: Any) -> None:
        routed.append(f"{scope['method']} {scope['path']}")
        await original(self, scope, receive, send)

    monkeypatch.setattr(Router, "__call__", counting)
    data = await gateway.query("{ __typename }")
    assert data["data"] == {"__typename": "Query"}
    by_get = await gateway.client.get("/graphql", params={"query": "{ __typename }"})
    assert by_get.json()["data"] == {"__typename": "Query"}
    assert routed == []

    assert (await gateway.client.get("/healthz")).json() == {"status": "ok"}
    refused = await gateway.client.put("/graphql", content=b"{}")
    assert refused.status_code == 405
    assert "POST" in refused.headers["allow"]
    slash = await gateway.client.post("/graphql/", json={"query": "{ __typename }"})
    assert slash.status_code == 307
    assert slash.headers["location"].endswith("/graphql")
    assert routed == ["GET /healthz", "PUT /graphql", "POST /graphql/"]

    # Behind a proxy that mounts the gateway under a root path, the router strips it.
    mounted = httpx.AsyncClient(
        transport=httpx.ASGITransport(app=gateway.app, root_path="/credit"),
        base_url="http://gateway",
        headers=gateway.client.headers,
    )
    async with mounted:
        under_root = await mounted.post("/credit/graphql", json={"query": "{ __typename }"})
    assert under_root.json()["data"] == {"__typename": "Query"}
    assert routed[-1] == "POST /credit/graphql"
