"""Rate limits per principal and per client address: 429 `RATE_LIMITED` with `Retry-After`.

Client addresses are chosen per client (the ASGI transport's `client`); the shared-counter tests
run two gateways on loopback HTTP against the Redis of `redis_url`.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from typing import Any

import httpx
import pytest

from gateway.config_files import ConfigError
from gateway.settings import settings_from_dict
from registries.server import RegistryServer
from tests.support import (
    PUBLIC,
    Gateway,
    GatewayServer,
    bearer,
    calls,
    configured_gateway,
    gateway_config,
)

QUERY = {"query": "{ __typename }"}
LOOKUP = {
    "query": '{ subject(id: "91110000600037341L", matter: "CO-JOINT-REVIEW") { kind commerce '
    "{ name } } }"
}
OFFICE = bearer("credit_office", department="credit_office", subject="official-1")
OTHER_OFFICIAL = bearer("credit_office", department="credit_office", subject="official-2")


@asynccontextmanager
async def limited_gateway(
    registries: Mapping[str, RegistryServer], **rate_limits: Any
) -> AsyncIterator[Gateway]:
    config = {**gateway_config(registries), "rate_limits": rate_limits}
    async with configured_gateway(config) as gateway:
        yield gateway


@asynccontextmanager
async def client_at(gateway: Gateway, address: str) -> AsyncIterator[httpx.AsyncClient]:
    """A client of `gateway` whose connection comes from `address`."""
    transport = httpx.ASGITransport(app=gateway.app, client=(address, 40000))
    async with httpx.AsyncClient(transport=transport, base_url="http://gateway") as client:
        yield client


async def _statuses(
    client: httpx.AsyncClient, count: int, headers: Mapping[str, str], payload: object = QUERY
) -> list[int]:
    return [
        (await client.post("/graphql", json=payload, headers=dict(headers))).status_code
        for _ in range(count)
    ]


def _assert_rate_limited(response: httpx.Response, window_s: int) -> int:
    assert response.status_code == 429
    assert response.headers["content-type"] == "application/json"
    body = response.json()
    assert "data" not in body
    (error,) = body["errors"]
    assert error["extensions"]["code"] == "RATE_LIMITED"
    retry_after = int(response.headers["retry-after"])
    assert 1 <= retry_after <= window_s
    assert error["extensions"]["retryAfter"] == retry_after
    assert body["extensions"]["requestId"] == response.headers["x-request-id"]
    return retry_after


async def test_each_official_has_an_allowance(registries: dict[str, RegistryServer]) -> None:
    async with (
        limited_gateway(registries, per_principal="3/minute", per_address="") as gateway,
        client_at(gateway, "192.0.2.10") as client,
    ):
        assert await _statuses(client, 3, OFFICE) == [200, 200, 200]
        refused = await client.post("/graphql", json=LOOKUP, headers=OFFICE)
        _assert_rate_limited(refused, 60)
        assert await _statuses(client, 1, OTHER_OFFICIAL) == [200]  # same address, own count
    assert sum(calls(s) for s in registries.values()) == 0  # the refused lookup fetched nothing


async def test_each_client_address_has_an_allowance_counted_before_the_body_is_read(
    registries: dict[str, RegistryServer],
) -> None:
    async with (
        limited_gateway(registries, per_principal="", per_address="3/minute") as gateway,
        client_at(gateway, "192.0.2.10") as first,
        client_at(gateway, "192.0.2.11") as second,
    ):
        garbage = await first.post(
            "/graphql", content=b"{not json", headers={"content-type": "application/json"}
        )
        assert garbage.status_code == 400  # counted all the same
        bad_token = await first.post("/graphql", json=QUERY, headers={"authorization": "Bearer x"})
        assert bad_token.status_code == 401
        assert await _statuses(first, 1, OTHER_OFFICIAL) == [200]
        refused = await first.post(
            "/graphql", content=b"{not json", headers={"content-type": "application/json"}
        )
        _assert_rate_limited(refused, 60)  # 429 before the body is even parsed
        assert await _statuses(second, 1, OFFICE) == [200]
        assert (await first.get("/healthz")).status_code == 200  # probes are not limited


async def test_the_public_is_counted_per_client_address(
    registries: dict[str, RegistryServer],
) -> None:
    async with (
        limited_gateway(registries, per_principal="2/minute", per_address="") as gateway,
        client_at(gateway, "192.0.2.10") as first,
        client_at(gateway, "2001:db8::7") as second,
    ):
        assert await _statuses(first, 3, PUBLIC) == [200, 200, 429]
        assert await _statuses(second, 2, PUBLIC) == [200, 200]
        assert await _statuses(first, 1, OFFICE) == [200]  # an official from there is not


async def test_a_role_can_have_its_own_rate_and_the_most_generous_applies(
    registries: dict[str, RegistryServer],
) -> None:
    async with (
        limited_gateway(
            registries,
            per_principal="5/minute",
            per_address="",
            roles={"public": "1/minute", "tax_official": "2/minute", "court_official": "4/minute"},
        ) as gateway,
        client_at(gateway, "192.0.2.10") as client,
    ):
        assert await _statuses(client, 2, PUBLIC) == [200, 429]
        tax = bearer("tax_official", department="tax", subject="tax-1")
        assert await _statuses(client, 3, tax) == [200, 200, 429]
        both = bearer("tax_official", "court_official", department="tax", subject="tax-2")
        assert await _statuses(client, 5, both) == [200] * 4 + [429]
        assert await _statuses(client, 6, OFFICE) == [200] * 5 + [429]  # per_principal


async def test_retry_after_is_when_a_slot_frees(registries: dict[str, RegistryServer]) -> None:
    async with (
        limited_gateway(registries, per_principal="2/second", per_address="") as gateway,
        client_at(gateway, "192.0.2.10") as client,
    ):
        assert await _statuses(client, 2, OFFICE) == [200, 200]
        retry_after = _assert_rate_limited(
            await client.post("/graphql", json=QUERY, headers=OFFICE), 1
        )
        await asyncio.sleep(retry_after + 0.05)
        assert await _statuses(client, 1, OFFICE) == [200]


async def test_rate_limiting_can_be_turned_off(registries: dict[str, RegistryServer]) -> None:
    async with (
        limited_gateway(
            registries, enabled=False, per_principal="1/minute", per_address="1/minute"
        ) as gateway,
        client_at(gateway, "192.0.2.10") as client,
    ):
        assert await _statuses(client, 5, PUBLIC) == [200] * 5


async def test_forwarded_for_is_believed_only_from_trusted_proxies(
    registries: dict[str, RegistryServer],
) -> None:
    async with (
        limited_gateway(
            registries,
            per_principal="",
            per_address="2/minute",
            trusted_proxies=["10.0.0.0/8", "2001:db8:1::/48"],
        ) as gateway,
        client_at(gateway, "10.1.2.3") as proxy,
        client_at(gateway, "192.0.2.50") as direct,
    ):

        def via(*hops: str) -> dict[str, str]:
            return {**OFFICE, "x-forwarded-for": ", ".join(hops)}

        assert await _statuses(proxy, 3, via("203.0.113.7")) == [200, 200, 429]
        assert await _statuses(proxy, 1, via("203.0.113.8")) == [200]
        # A client's own claim (leftmost) is not believed past the first untrusted hop.
        assert await _statuses(proxy, 1, via("203.0.113.8", "203.0.113.7")) == [429]
        # Chains of trusted proxies are walked; garbage stops the walk at the last trusted one.
        assert await _statuses(proxy, 1, via("203.0.113.9", "10.9.9.9")) == [200]
        assert await _statuses(proxy, 2, via("not-an-address")) == [200, 200]
        assert await _statuses(proxy, 1, via("also-garbage")) == [429]  # both counted on 10.1.2.3
        # From an untrusted peer, X-Forwarded-For is ignored: every claim is the peer's count.
        assert await _statuses(direct, 3, via("198.51.100.1")) == [200, 200, 429]


async def test_counters_in_redis_are_shared_by_instances(
    registries: dict[str, RegistryServer], redis_url: str
) -> None:
    prefix = f"test-{uuid.uuid4().hex[:12]}"
    rate_limits = {
        "storage": redis_url,
        "key_prefix": prefix,
        "per_principal": "3/minute",
        "per_address": "",
    }
    config = {**gateway_config(registries), "rate_limits": rate_limits}
    other_prefix = {**config, "rate_limits": {**rate_limits, "key_prefix": prefix + "-other"}}
    async with (
        GatewayServer(config) as first,
        GatewayServer(config) as second,
        GatewayServer(other_prefix) as apart,
        httpx.AsyncClient() as client,
    ):

        async def status(server: GatewayServer) -> int:
            response = await client.post(server.url, json=QUERY, headers=OFFICE)
            return response.status_code

        assert [await status(first), await status(second), await status(first)] == [200] * 3
        refused = await client.post(second.url, json=QUERY, headers=OFFICE)
        _assert_rate_limited(refused, 60)
        assert await status(first) == 429
        assert await status(apart) == 200  # another key prefix, other counters


async def test_an_unreachable_redis_lets_requests_through_with_a_warning(
    registries: dict[str, RegistryServer], caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, logger="gateway.rate_limits")
    async with (
        limited_gateway(
            registries,
            storage="redis://127.0.0.1:1/0",
            storage_timeout_s=0.2,
            per_principal="1/minute",
            per_address="1/minute",
        ) as gateway,
        client_at(gateway, "192.0.2.10") as client,
    ):
        assert await _statuses(client, 3, OFFICE) == [200, 200, 200]
    warnings = [r.getMessage() for r in caplog.records if r.name == "gateway.rate_limits"]
    assert any("let through" in message for message in warnings)
    assert len(warnings) <= 2  # at start, and once for the failing calls: not once per request
    assert not any("127.0.0.1:1" in message for message in warnings)


@pytest.mark.parametrize(
    ("rate_limits", "problem"),
    [
        ({"per_principal": "lots"}, "rate_limits.per_principal"),
        ({"per_address": "10 per fortnight"}, "rate_limits.per_address"),
        ({"roles": {"public": ""}}, "rate_limits.roles"),
        ({"storage": "memcached://127.0.0.1:11211"}, "rate_limits.storage"),
        ({"trusted_proxies": ["10.0.0.0/33"]}, "rate_limits.trusted_proxies"),
        ({"per_minute": "5/minute"}, "rate_limits.per_minute"),
    ],
)
def test_bad_rate_limit_settings_fail_the_start(rate_limits: dict[str, Any], problem: str) -> None:
    with pytest.raises(ConfigError, match=problem.replace(".", r"\.")):
        settings_from_dict({"rate_limits": rate_limits})
