"""Fault injection: the settings, the decisions, and what a client sees in each failure mode."""

from __future__ import annotations

import asyncio
import time
from collections import Counter

import aiohttp
import orjson
import pydantic
import pytest

from connectors.records import BatchResponse, CommerceRecord, RegistryHealth
from registries.faults import Fault, Faults, FaultSwitch
from registries.latency import sleep_precisely
from registries.server import RegistryServer

SHORT = aiohttp.ClientTimeout(total=0.5)


class FakeClock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


async def put_faults(
    server: RegistryServer, http: aiohttp.ClientSession, **settings: object
) -> None:
    async with http.put(f"{server.url}/admin/faults", json=settings) as response:
        assert response.status == 200, await response.text()


def subject_url(server: RegistryServer, samples: dict[str, str], key: str = "clean") -> str:
    return f"{server.url}/v1/subjects/{samples[key]}"


# --- settings and decisions -------------------------------------------------------------------


@pytest.mark.parametrize(
    "settings",
    [
        {"error_rate": 1.5},
        {"drop_rate": -0.1},
        {"error_rate": 0.6, "hang_rate": 0.5},
        {"latency_ms": -1},
        {"error_rte": 0.1},
        {"huge_payload_bytes": 0},
    ],
)
def test_faults_reject_impossible_settings(settings: dict[str, object]) -> None:
    with pytest.raises(pydantic.ValidationError):
        Faults.model_validate(settings)


def test_rates_are_exact_shares_of_requests() -> None:
    switch = FaultSwitch(Faults(error_rate=0.2, drop_rate=0.1, wrong_schema_rate=0.3, seed=1))
    draws = Counter(switch.draw() for _ in range(20_000))
    assert abs(draws[Fault.ERROR] / 20_000 - 0.2) < 0.02
    assert abs(draws[Fault.DROP] / 20_000 - 0.1) < 0.02
    assert abs(draws[Fault.WRONG_SCHEMA] / 20_000 - 0.3) < 0.02
    assert abs(draws[None] / 20_000 - 0.4) < 0.02


def test_seeded_decisions_are_reproducible() -> None:
    faults = Faults(error_rate=0.3, hang_rate=0.3, jitter_ms=10, seed=5)
    first, second = FaultSwitch(faults), FaultSwitch(faults)
    assert [(first.delay_s(), first.draw()) for _ in range(50)] == [
        (second.delay_s(), second.draw()) for _ in range(50)
    ]


def test_latency_and_jitter() -> None:
    switch = FaultSwitch(Faults(latency_ms=100, jitter_ms=50, seed=2))
    delays = [switch.delay_s() for _ in range(200)]
    assert all(0.1 <= delay <= 0.15 for delay in delays)
    assert max(delays) - min(delays) > 0.03
    assert FaultSwitch().delay_s() == 0


def test_flapping_starts_healthy_and_alternates() -> None:
    clock = FakeClock()
    switch = FaultSwitch(Faults(flap_period_s=2), clock=clock)
    states = []
    for _ in range(8):
        states.append(switch.draw())
        clock.now += 1
    assert states == [None, None, Fault.ERROR, Fault.ERROR, None, None, Fault.ERROR, Fault.ERROR]
    switch.replace(Faults(flap_period_s=2))  # a new setting restarts the cycle, healthy
    assert switch.draw() is None


# --- each fault over HTTP ---------------------------------------------------------------------


async def test_error_500(
    commerce: RegistryServer, http: aiohttp.ClientSession, samples10k: dict[str, str]
) -> None:
    await put_faults(commerce, http, error_rate=1)
    async with http.get(subject_url(commerce, samples10k)) as response:
        assert response.status == 500
        assert (await response.json())["error"] == "internal"


async def test_malformed_body_fails_to_parse(
    commerce: RegistryServer, http: aiohttp.ClientSession, samples10k: dict[str, str]
) -> None:
    await put_faults(commerce, http, malformed_rate=1)
    for method, url, body in (
        ("GET", subject_url(commerce, samples10k), None),
        ("POST", f"{commerce.url}/v1/subjects:batch", {"ids": [samples10k["clean"]]}),
        ("GET", f"{commerce.url}/v1/health", None),
    ):
        async with http.request(method, url, json=body) as response:
            assert response.status == 200
            assert response.content_type == "application/json"
            payload = await response.read()
        with pytest.raises(orjson.JSONDecodeError):
            orjson.loads(payload)


async def test_wrong_schema_fails_validation(
    commerce: RegistryServer, http: aiohttp.ClientSession, samples10k: dict[str, str]
) -> None:
    await put_faults(commerce, http, wrong_schema_rate=1)
    async with http.get(subject_url(commerce, samples10k)) as response:
        assert response.status == 200
        body = await response.json()
    assert isinstance(body["penalties"], str)
    assert "updatedAt" not in body
    with pytest.raises(pydantic.ValidationError):
        CommerceRecord.model_validate(body)

    ids = [samples10k["clean"], samples10k["dishonest"]]
    async with http.post(f"{commerce.url}/v1/subjects:batch", json={"ids": ids}) as response:
        batch = BatchResponse.model_validate_json(await response.read())
    assert list(batch.records) == ids
    for raw in batch.records.values():
        with pytest.raises(pydantic.ValidationError):
            CommerceRecord.model_validate(raw)

    async with http.post(f"{commerce.url}/v1/subjects:batch", json={"ids": []}) as response:
        with pytest.raises(pydantic.ValidationError):
            BatchResponse.model_validate_json(await response.read())
    async with http.get(f"{commerce.url}/v1/health") as response:
        with pytest.raises(pydantic.ValidationError):
            RegistryHealth.model_validate_json(await response.read())
    async with http.get(f"{commerce.url}/v1/subjects/91110000600037341L") as response:
        assert response.status == 200  # even a 404 becomes a wrong-shaped 200
        with pytest.raises(pydantic.ValidationError):
            CommerceRecord.model_validate_json(await response.read())


async def test_hang_until_the_client_times_out(
    commerce: RegistryServer, http: aiohttp.ClientSession, samples10k: dict[str, str]
) -> None:
    await put_faults(commerce, http, hang_rate=1)
    started = time.monotonic()
    with pytest.raises(TimeoutError):
        async with http.get(subject_url(commerce, samples10k), timeout=SHORT) as response:
            await response.read()
    assert time.monotonic() - started >= 0.45


async def test_hang_mid_body(
    commerce: RegistryServer, http: aiohttp.ClientSession, samples10k: dict[str, str]
) -> None:
    await put_faults(commerce, http, hang_body_rate=1)
    async with http.get(subject_url(commerce, samples10k), timeout=SHORT) as response:
        assert response.status == 200  # the status and headers arrive ...
        assert response.content_length is not None
        with pytest.raises(TimeoutError):
            await response.read()  # ... the body never completes


async def test_drop_is_a_connection_error(
    commerce: RegistryServer, http: aiohttp.ClientSession, samples10k: dict[str, str]
) -> None:
    await put_faults(commerce, http, drop_rate=1)
    with pytest.raises(aiohttp.ClientConnectionError):
        async with http.get(subject_url(commerce, samples10k)) as response:
            await response.read()


async def test_rate_limit_429_with_retry_after(
    commerce: RegistryServer, http: aiohttp.ClientSession, samples10k: dict[str, str]
) -> None:
    await put_faults(commerce, http, rate_limit_rate=1, retry_after_s=3)
    async with http.get(subject_url(commerce, samples10k)) as response:
        assert response.status == 429
        assert response.headers["Retry-After"] == "3"
        assert (await response.json())["error"] == "rate_limited"
    await put_faults(commerce, http, rate_limit_rate=1, retry_after_s=0.5)
    async with http.get(subject_url(commerce, samples10k)) as response:
        assert float(response.headers["Retry-After"]) == 0.5


async def test_huge_payload_is_valid_json(
    commerce: RegistryServer, http: aiohttp.ClientSession, samples10k: dict[str, str]
) -> None:
    await put_faults(commerce, http, huge_payload_rate=1, huge_payload_bytes=2_000_000)
    async with http.get(subject_url(commerce, samples10k)) as response:
        assert response.status == 200
        assert (response.content_length or 0) >= 2_000_000
        body = await response.read()
    assert len(body) >= 2_000_000
    record = CommerceRecord.model_validate_json(body)  # unknown fields are ignored
    assert record.subject_id == samples10k["clean"]


async def test_flapping_over_http(
    commerce: RegistryServer, http: aiohttp.ClientSession, samples10k: dict[str, str]
) -> None:
    clock = FakeClock()
    commerce.state.faults = FaultSwitch(Faults(flap_period_s=5), clock=clock)
    statuses = []
    for _ in range(4):
        async with http.get(subject_url(commerce, samples10k)) as response:
            statuses.append(response.status)
        clock.now += 5
    assert statuses == [200, 500, 200, 500]


async def test_latency_delays_every_v1_route(
    commerce: RegistryServer, http: aiohttp.ClientSession, samples10k: dict[str, str]
) -> None:
    await put_faults(commerce, http, latency_ms=150)
    for url in (subject_url(commerce, samples10k), f"{commerce.url}/v1/health"):
        started = time.monotonic()
        async with http.get(url) as response:
            assert response.status == 200
        assert time.monotonic() - started >= 0.14


async def test_precise_latency_never_answers_early(
    commerce: RegistryServer, http: aiohttp.ClientSession, samples10k: dict[str, str]
) -> None:
    """With `precise_latency` the wait ends at the delay, never before (the loop's timers can
    end one early by most of a millisecond); the admin route keeps the setting."""
    await put_faults(commerce, http, latency_ms=20, precise_latency=True)
    async with http.get(f"{commerce.url}/admin/faults") as response:
        assert (await response.json())["precise_latency"] is True
    for _ in range(10):
        started = time.perf_counter()
        async with http.get(subject_url(commerce, samples10k)) as response:
            assert response.status == 200
        assert time.perf_counter() - started >= 0.020


@pytest.mark.parametrize("delay_s", [0.0005, 0.0015, 0.0021, 0.02])
async def test_sleeping_precisely_never_ends_early(delay_s: float) -> None:
    for _ in range(5):
        started = time.perf_counter()
        await sleep_precisely(delay_s)
        elapsed = time.perf_counter() - started
        assert elapsed >= delay_s
        assert elapsed < delay_s + 0.5  # generous: a noisy machine, not a speed


async def test_faults_apply_to_health_but_never_to_admin(
    commerce: RegistryServer, http: aiohttp.ClientSession
) -> None:
    await put_faults(commerce, http, error_rate=1)
    async with http.get(f"{commerce.url}/v1/health") as response:
        assert response.status == 500
    for path in ("/admin/faults", "/admin/stats"):
        async with http.get(f"{commerce.url}{path}") as response:
            assert response.status == 200


# --- admin ------------------------------------------------------------------------------------


async def test_admin_faults_put_get_delete(
    commerce: RegistryServer, http: aiohttp.ClientSession
) -> None:
    async with http.get(f"{commerce.url}/admin/faults") as response:
        assert Faults.model_validate(await response.json()) == Faults()
    await put_faults(commerce, http, error_rate=0.25, latency_ms=5, seed=9)
    async with http.get(f"{commerce.url}/admin/faults") as response:
        current = Faults.model_validate(await response.json())
    assert current == Faults(error_rate=0.25, latency_ms=5, seed=9)
    assert commerce.state.faults.faults == current
    async with http.delete(f"{commerce.url}/admin/faults") as response:
        assert Faults.model_validate(await response.json()) == Faults()
    assert commerce.state.faults.faults == Faults()


@pytest.mark.parametrize(
    "body",
    [b"{not json", b'{"error_rate": 2}', b'{"error_rate": 0.7, "drop_rate": 0.7}', b'{"x": 1}'],
)
async def test_admin_faults_rejects_bad_settings(
    commerce: RegistryServer, http: aiohttp.ClientSession, body: bytes
) -> None:
    await put_faults(commerce, http, latency_ms=1)
    async with http.put(f"{commerce.url}/admin/faults", data=body) as response:
        assert response.status == 400
        assert (await response.json())["error"] == "bad_request"
    assert commerce.state.faults.faults == Faults(latency_ms=1)


async def test_stats_count_every_request_that_reached_a_route(
    commerce: RegistryServer, http: aiohttp.ClientSession, samples10k: dict[str, str]
) -> None:
    ids = [samples10k["clean"], samples10k["red"], samples10k["natural_person"]]
    async with http.get(subject_url(commerce, samples10k)):
        pass
    async with http.post(f"{commerce.url}/v1/subjects:batch", json={"ids": ids}):
        pass
    async with http.post(f"{commerce.url}/v1/subjects:batch", data=b"junk"):
        pass
    async with http.get(f"{commerce.url}/v1/subjects?limit=3"):
        pass
    await put_faults(commerce, http, error_rate=1)
    async with http.get(f"{commerce.url}/v1/health") as response:
        assert response.status == 500
    async with http.post(f"{commerce.url}/v1/subjects:batch", json={"ids": ids[:2]}) as response:
        assert response.status == 500
    async with http.get(f"{commerce.url}/admin/stats") as response:
        stats = await response.json()
    assert stats == {
        "single": 1,
        "batch": 3,
        "list": 1,
        "health": 1,
        "ids_requested": 6,
        "batch_sizes": [3, 2],
    }
    assert commerce.state.stats.calls("batch") == 3
    async with http.delete(f"{commerce.url}/admin/stats") as response:
        assert (await response.json())["batch"] == 0
    assert commerce.state.stats.snapshot()["single"] == 0


async def test_stop_refuses_connections_and_restart_reuses_the_port(
    commerce: RegistryServer, http: aiohttp.ClientSession, samples10k: dict[str, str]
) -> None:
    url, port = commerce.url, commerce.port
    await put_faults(commerce, http, latency_ms=1)
    async with http.get(f"{url}/v1/health") as response:
        assert response.status == 200
    await commerce.stop()
    assert not commerce.running
    with pytest.raises(aiohttp.ClientConnectorError):
        async with http.get(f"{url}/v1/health"):
            pass
    await commerce.start()
    assert (commerce.url, commerce.port) == (url, port)
    async with http.get(subject_url(commerce, samples10k)) as response:
        assert response.status == 200
    assert commerce.state.faults.faults == Faults(latency_ms=1)  # state survives a restart
    assert commerce.state.stats.calls("health") == 1


async def test_stop_does_not_wait_for_hung_requests(
    commerce: RegistryServer, samples10k: dict[str, str]
) -> None:
    commerce.state.faults.replace(Faults(hang_rate=1))
    async with aiohttp.ClientSession() as http:
        pending = asyncio.ensure_future(http.get(subject_url(commerce, samples10k)))
        await asyncio.sleep(0.1)
        started = time.monotonic()
        await commerce.stop()
        assert time.monotonic() - started < 2
        with pytest.raises(aiohttp.ClientError):
            await pending
