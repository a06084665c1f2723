"""The cache: hits, single-flight, cancellation, stale-if-error, as the registries count it."""

from __future__ import annotations

import asyncio

from registries.faults import Faults
from registries.server import RegistryServer
from schema.examples import PROFILE_QUERY
from tests.support import DEPARTMENTS, Gateway, calls, request_context, running_gateway

SOURCES_QUERY = """
query($id: ID!, $matter: ID) {
  subject(id: $id, matter: $matter) {
    environment { name } quality { name } health { name } commerce { name }
    sources { department status fromCache fetchedAt ageSeconds latencyMs }
  }
}
"""


async def _wait_for_calls(registries: dict[str, RegistryServer], total: int) -> None:
    for _ in range(500):
        if sum(calls(s) for s in registries.values()) >= total:
            return
        await asyncio.sleep(0.01)
    raise AssertionError("the registries were not called")


async def test_a_second_lookup_is_served_from_the_cache(
    gateway: Gateway, registries: dict[str, RegistryServer], samples: dict[str, str]
) -> None:
    first = (await gateway.query(SOURCES_QUERY, {"id": samples["clean"]}))["data"]["subject"]
    second = (await gateway.query(SOURCES_QUERY, {"id": samples["clean"]}))["data"]["subject"]
    assert {d: calls(s) for d, s in registries.items()} == dict.fromkeys(DEPARTMENTS, 1)
    for before, after in zip(first["sources"], second["sources"], strict=True):
        assert before["fromCache"] is False
        assert before["latencyMs"] is not None
        assert after["fromCache"] is True
        assert after["status"] == "OK"
        assert after["fetchedAt"] == before["fetchedAt"]
        assert after["ageSeconds"] >= before["ageSeconds"] >= 0
    assert second["environment"] == first["environment"]


async def test_a_warm_lookup_reads_what_the_loaders_would_have_loaded(
    gateway: Gateway, registries: dict[str, RegistryServer], samples: dict[str, str]
) -> None:
    """A lookup whose records are all cached fresh is read from the cache at once
    (`RequestContext.fresh_outcomes`), not through the loaders: the outcomes must be those the
    loaders give, and one record not cached (or no longer fresh) sends the lookup to them."""
    held, not_held = samples["penalised"], samples["natural_person"]
    await gateway.query(SOURCES_QUERY, {"id": held})
    await gateway.query(SOURCES_QUERY, {"id": not_held})
    wanted = [(department, [held, not_held]) for department in DEPARTMENTS]
    read = request_context(gateway).fresh_outcomes(wanted)
    loaded = await request_context(gateway).load(wanted)
    assert read is not None
    assert read.keys() == loaded.keys()
    for key, outcome in read.items():
        assert outcome == loaded[key]
        assert outcome.from_cache
    assert read[("commerce", not_held)].state.value == "NOT_FOUND"  # cached as such
    assert {d: calls(s) for d, s in registries.items()} == dict.fromkeys(DEPARTMENTS, 2)

    assert (
        request_context(gateway).fresh_outcomes([*wanted, ("health", [samples["clean"]])]) is None
    )
    gateway.services.sources["quality"].cache.clear()
    assert request_context(gateway).fresh_outcomes(wanted) is None
    again = (await gateway.query(SOURCES_QUERY, {"id": held}))["data"]["subject"]["sources"]
    assert {row["department"]: row["fromCache"] for row in again} == {
        "environment": True,
        "quality": False,
        "health": True,
        "commerce": True,
    }


async def test_not_found_is_cached_too(
    gateway: Gateway, registries: dict[str, RegistryServer], samples: dict[str, str]
) -> None:
    for _ in range(3):
        body = await gateway.query(SOURCES_QUERY, {"id": samples["natural_person"]})
        assert body["data"]["subject"]["commerce"] is None
    assert calls(registries["commerce"]) == 1


async def test_fifty_concurrent_lookups_make_one_call_per_department(
    registries: dict[str, RegistryServer], samples: dict[str, str]
) -> None:
    for server in registries.values():
        server.state.faults.replace(Faults(latency_ms=300))
    async with running_gateway(registries, connector={"timeout_s": 10}) as gateway:
        bodies = await asyncio.gather(
            *(gateway.query(PROFILE_QUERY, {"id": samples["penalised"]}) for _ in range(50))
        )
    assert all("errors" not in body for body in bodies)
    assert {d: calls(s) for d, s in registries.items()} == dict.fromkeys(DEPARTMENTS, 1)
    profiles = [
        {k: v for k, v in body["data"]["subject"].items() if k != "sources"} for body in bodies
    ]
    assert all(profile == profiles[0] for profile in profiles)


async def test_a_cancelled_client_does_not_cancel_the_others(
    registries: dict[str, RegistryServer], samples: dict[str, str]
) -> None:
    for server in registries.values():
        server.state.faults.replace(Faults(latency_ms=500))
    async with running_gateway(registries, connector={"timeout_s": 10}) as gateway:
        leaver = asyncio.create_task(gateway.query(PROFILE_QUERY, {"id": samples["red"]}))
        await _wait_for_calls(registries, 4)
        stayer = asyncio.create_task(gateway.query(PROFILE_QUERY, {"id": samples["red"]}))
        await asyncio.sleep(0.05)
        leaver.cancel()
        body = await stayer
    assert leaver.cancelled()
    assert "errors" not in body
    assert all(s["status"] == "OK" for s in body["data"]["subject"]["sources"])
    assert {d: calls(s) for d, s in registries.items()} == dict.fromkeys(DEPARTMENTS, 1)


async def test_stale_if_error_serves_an_expired_entry_when_the_registry_fails(
    registries: dict[str, RegistryServer], samples: dict[str, str]
) -> None:
    async with running_gateway(
        registries, connector={"cache_ttl_s": 0.2, "stale_ttl_s": 600, "timeout_s": 1}
    ) as gateway:
        fresh = (await gateway.query(SOURCES_QUERY, {"id": samples["clean"]}))["data"]["subject"]
        await asyncio.sleep(0.3)  # let the entries expire (TTL 0.2 s)
        registries["environment"].state.faults.replace(Faults(error_rate=1))
        await registries["quality"].stop()
        body = await gateway.query(SOURCES_QUERY, {"id": samples["clean"]})
    assert "errors" not in body
    subject = body["data"]["subject"]
    rows = {s["department"]: s for s in subject["sources"]}
    for department in ("environment", "quality"):
        assert rows[department]["status"] == "STALE"
        assert rows[department]["fromCache"] is True
        assert (
            rows[department]["fetchedAt"]
            == fresh["sources"][DEPARTMENTS.index(department)]["fetchedAt"]
        )
        assert subject[department] == fresh[department]
    assert rows["health"]["status"] == "OK"
    assert rows["health"]["fromCache"] is False  # expired, so asked again


async def test_without_a_stale_window_a_failure_is_an_error(
    registries: dict[str, RegistryServer], samples: dict[str, str]
) -> None:
    async with running_gateway(
        registries, connector={"cache_ttl_s": 0.2, "stale_ttl_s": 0}
    ) as gateway:
        await gateway.query(SOURCES_QUERY, {"id": samples["clean"]})
        await asyncio.sleep(0.3)
        registries["environment"].state.faults.replace(Faults(error_rate=1))
        body = await gateway.query(SOURCES_QUERY, {"id": samples["clean"]})
    assert body["data"]["subject"]["environment"] is None
    assert body["errors"][0]["extensions"]["code"] == "SOURCE_UNAVAILABLE"


async def test_failures_are_not_cached(
    registries: dict[str, RegistryServer], samples: dict[str, str]
) -> None:
    # One attempt per lookup, so the count is about caching, not retries.
    async with running_gateway(registries, connector={"retry": {"attempts": 1}}) as gateway:
        registries["environment"].state.faults.replace(Faults(error_rate=1))
        failed = await gateway.query(SOURCES_QUERY, {"id": samples["clean"]})
        assert failed["data"]["subject"]["environment"] is None
        registries["environment"].state.faults.reset()
        healed = await gateway.query(SOURCES_QUERY, {"id": samples["clean"]})
    assert healed["data"]["subject"]["environment"] is not None
    assert calls(registries["environment"]) == 2
