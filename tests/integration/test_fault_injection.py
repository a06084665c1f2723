"""Fault injection: every way a registry fails, as a client of the gateway sees it.

For each fault the reference registries can inject (and a registry that is not there at all):
the answer arrives within the request's deadline, the failing department's section is `null`
with the right code at its path and the right `sources` row, the other three sections are
whole, the registry received exactly the calls the retry rules allow (counted at the registry,
so the assertion does not depend on timing), and the audit chain verifies afterwards. Then the
circuit breaker (opens, stops the calls, serves stale data, probes, recovers), the request
deadline, and the per-connector concurrency limit.

Timeouts, waits and open periods are small settings, so the file is fast; every latency bound
is the deadline plus a generous margin, never a speed the machine must reach.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

import pytest

from connectors.deadline import Deadline
from connectors.errors import SourceState
from gateway.audit import verify
from gateway.source import Source
from registries.dataset import Dataset
from registries.faults import Fault, Faults, FaultSwitch
from registries.server import RegistryServer
from resolvers.outcome import SourceOutcome
from schema.examples import PROFILE_QUERY
from tests.support import DEPARTMENTS, Gateway, calls, running_gateway

TIMEOUT_S = 0.5
"""Each connector's `timeout_s`; injected delays are far longer."""
DEADLINE_S = 3.0
MARGIN_S = 2.0
"""Added to the deadline in latency assertions: the machine may be slow, the deadline holds."""
RETRY = {"attempts": 3, "wait_initial_s": 0.05, "wait_max_s": 0.2, "wait_jitter_s": 0.05}
CONNECTOR: dict[str, Any] = {
    "timeout_s": TIMEOUT_S,
    "connect_timeout_s": TIMEOUT_S,
    "max_response_bytes": 1_000_000,
    "retry": RETRY,
    "breaker": {"min_calls": 1000},  # the breaker has tests of its own below
}
GRAPHQL = {"deadline_s": DEADLINE_S}
OPEN_S = 0.5
BREAKER = {"min_calls": 4, "failure_rate": 0.5, "window_s": 30, "open_s": OPEN_S}
ONE_ATTEMPT_BREAKER: dict[str, Any] = {
    **CONNECTOR,
    "retry": {"attempts": 1},
    "breaker": BREAKER,
}
"""One call per lookup, so the registry's count is the breaker's count."""

BATCH_QUERY = """
query($ids: [ID!]!, $matter: ID) {
  subjects(ids: $ids, matter: $matter) {
    environment { name } quality { name } health { name } commerce { name }
    sources { department status fromCache message }
  }
}
"""


@dataclass(frozen=True)
class Case:
    name: str
    faults: Faults | None
    """`None`: the registry is stopped (connections refused)."""
    code: str
    state: str
    calls: int | None
    """Calls the registry receives for one lookup (`None` when it is not there to count)."""
    batch_calls: int | None = None
    """...for one batch lookup, when not the same."""
    min_elapsed_s: float = 0.0
    """A lower bound the retries' waits impose (a `Retry-After` honoured)."""


CASES = [
    Case("refused connection", None, "SOURCE_UNAVAILABLE", "ERROR", None),
    Case("slow past the timeout", Faults(latency_ms=5000), "SOURCE_TIMEOUT", "TIMEOUT", 1),
    Case("hang before headers", Faults(hang_rate=1), "SOURCE_TIMEOUT", "TIMEOUT", 1),
    Case("hang mid-body", Faults(hang_body_rate=1), "SOURCE_TIMEOUT", "TIMEOUT", 1),
    # aiohttp itself sends an idempotent GET again once when the connection is reset (a pooled
    # connection the server closed), so each of the three attempts is two calls; a batch POST is
    # not resent by aiohttp.
    Case("connection reset", Faults(drop_rate=1), "SOURCE_UNAVAILABLE", "ERROR", 6, 3),
    Case("http 500", Faults(error_rate=1), "SOURCE_UNAVAILABLE", "ERROR", 3),
    Case(
        "http 429 with Retry-After",
        Faults(rate_limit_rate=1, retry_after_s=0.1),
        "SOURCE_UNAVAILABLE",
        "ERROR",
        3,
        min_elapsed_s=0.2,  # two waits of the 0.1 s the registry asked for
    ),
    Case("malformed json", Faults(malformed_rate=1), "SOURCE_BAD_RESPONSE", "BAD_RESPONSE", 1),
    Case("wrong schema", Faults(wrong_schema_rate=1), "SOURCE_BAD_RESPONSE", "BAD_RESPONSE", 1),
    Case("huge payload", Faults(huge_payload_rate=1), "SOURCE_BAD_RESPONSE", "BAD_RESPONSE", 1),
]


async def _lookup(gateway: Gateway, subject_id: str) -> tuple[dict[str, Any], float]:
    """One lookup with the example profile query (every section, lists, grades, sources): the
    body as answered, and how long it took."""
    started = time.monotonic()
    response = await gateway.post({"query": PROFILE_QUERY, "variables": {"id": subject_id}})
    elapsed = time.monotonic() - started
    assert response.status_code == 200, response.text
    assert "127.0.0.1" not in response.text
    assert "Traceback" not in response.text
    body: dict[str, Any] = response.json()
    return body, elapsed


def _rows(subject: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
    return {row["department"]: row for row in subject["sources"]}


def _assert_only_environment_failed(
    subject: Mapping[str, Any], errors: list[dict[str, Any]], path: list[Any], code: str, state: str
) -> None:
    assert subject["environment"] is None
    for department in DEPARTMENTS[1:]:
        assert subject[department] is not None, department
    env_errors = [e for e in errors if e["path"] == [*path, "environment"]]
    assert len(env_errors) == 1, errors
    assert env_errors[0]["extensions"]["code"] == code
    assert env_errors[0]["extensions"]["department"] == "environment"
    rows = {d: row["status"] for d, row in _rows(subject).items()}
    assert rows == {"environment": state, "quality": "OK", "health": "OK", "commerce": "OK"}


async def _assert_audit_verifies(gateway: Gateway, lookups: int, environment: str) -> None:
    """The chain verifies, holds one entry per lookup, and the last shows the department's state."""
    store = gateway.services.audit.store
    report = await verify(store)
    assert report.ok, report.describe()
    assert report.count == lookups
    entries = [entry async for entry in store.iter_entries()]
    assert entries[-1].sources["environment"] == environment


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
async def test_a_fault_costs_its_section_only_within_the_deadline(
    registries: dict[str, RegistryServer], samples: dict[str, str], case: Case
) -> None:
    environment = registries["environment"]
    if case.faults is None:
        await environment.stop()
    else:
        environment.state.faults.replace(case.faults)
    async with running_gateway(registries, connector=CONNECTOR, graphql=GRAPHQL) as gateway:
        body, elapsed = await _lookup(gateway, samples["clean"])
        assert case.min_elapsed_s <= elapsed < DEADLINE_S + MARGIN_S
        _assert_only_environment_failed(
            body["data"]["subject"], body["errors"], ["subject"], case.code, case.state
        )
        if case.calls is not None:
            assert calls(environment) == case.calls

        # The batch path: one batch call (retried as one), every subject of it failing alike.
        ids = [samples["clean"], samples["penalised"]]
        started = time.monotonic()
        batch = (await gateway.post({"query": BATCH_QUERY, "variables": {"ids": ids}})).json()
        assert time.monotonic() - started < DEADLINE_S + MARGIN_S
        for position, subject in enumerate(batch["data"]["subjects"]):
            _assert_only_environment_failed(
                subject, batch["errors"], ["subjects", position], case.code, case.state
            )
        if case.calls is not None:
            batch_calls = case.batch_calls if case.batch_calls is not None else case.calls
            assert calls(environment) == case.calls + batch_calls
        await _assert_audit_verifies(gateway, lookups=3, environment=case.state)


def _seed_failing_once() -> int:
    """A seed with which a registry at `error_rate=0.5` fails its first call and answers the
    second (found with the registry's own dice, so it stays right if they change)."""
    for seed in range(1000):
        switch = FaultSwitch(Faults(error_rate=0.5, seed=seed))
        if [switch.draw(), switch.draw()] == [Fault.ERROR, None]:
            return seed
    raise AssertionError("no seed fails once, then answers")


async def test_a_500_then_an_answer_is_two_calls_and_a_whole_profile(
    registries: dict[str, RegistryServer], samples: dict[str, str]
) -> None:
    environment = registries["environment"]
    environment.state.faults.replace(Faults(error_rate=0.5, seed=_seed_failing_once()))
    async with running_gateway(registries, connector=CONNECTOR, graphql=GRAPHQL) as gateway:
        body, elapsed = await _lookup(gateway, samples["clean"])
        assert elapsed < DEADLINE_S + MARGIN_S
        assert "errors" not in body
        subject = body["data"]["subject"]
        assert subject["environment"] is not None
        assert {row["status"] for row in _rows(subject).values()} == {"OK"}
        assert calls(environment) == 2
        await _assert_audit_verifies(gateway, lookups=1, environment="OK")


async def test_a_retry_after_longer_than_the_deadline_is_not_waited_for(
    registries: dict[str, RegistryServer], samples: dict[str, str]
) -> None:
    environment = registries["environment"]
    environment.state.faults.replace(Faults(rate_limit_rate=1, retry_after_s=60))
    async with running_gateway(registries, connector=CONNECTOR, graphql=GRAPHQL) as gateway:
        body, elapsed = await _lookup(gateway, samples["clean"])
        assert elapsed < DEADLINE_S + MARGIN_S
        _assert_only_environment_failed(
            body["data"]["subject"], body["errors"], ["subject"], "SOURCE_UNAVAILABLE", "ERROR"
        )
        assert calls(environment) == 1
        await _assert_audit_verifies(gateway, lookups=1, environment="ERROR")


async def _until(condition: Any, limit_s: float = 10.0) -> None:
    """Poll `condition()` every 10 ms until it holds (failing the test after `limit_s`)."""
    stop = time.monotonic() + limit_s
    while not condition():
        assert time.monotonic() < stop, "condition never held"
        await asyncio.sleep(0.01)


async def test_a_flapping_registry_fails_in_its_down_half_and_answers_in_its_up_half(
    registries: dict[str, RegistryServer], samples: dict[str, str]
) -> None:
    """Halves of 1.5 s: a lookup with its three attempts fits well inside one."""
    environment = registries["environment"]
    switch = environment.state.faults
    switch.replace(Faults(flap_period_s=1.5))
    async with running_gateway(registries, connector=CONNECTOR, graphql=GRAPHQL) as gateway:
        await _until(switch.flapping_down)
        body, elapsed = await _lookup(gateway, samples["clean"])
        assert elapsed < DEADLINE_S + MARGIN_S
        _assert_only_environment_failed(
            body["data"]["subject"], body["errors"], ["subject"], "SOURCE_UNAVAILABLE", "ERROR"
        )
        assert calls(environment) == 3  # retried within the down half

        await _until(lambda: not switch.flapping_down())
        body, elapsed = await _lookup(gateway, samples["penalised"])
        assert elapsed < DEADLINE_S + MARGIN_S
        assert "errors" not in body
        assert calls(environment) == 4
        await _assert_audit_verifies(gateway, lookups=2, environment="OK")


# --- the request deadline ------------------------------------------------------------------


async def test_the_deadline_cuts_a_call_its_own_timeout_would_still_wait_for(
    registries: dict[str, RegistryServer], samples: dict[str, str]
) -> None:
    """`timeout_s` 10, deadline 1 s: the department is given up at the deadline, and that says
    nothing against the registry (its breaker stays closed)."""
    deadline_s = 1.0
    environment = registries["environment"]
    environment.state.faults.replace(Faults(latency_ms=4000))
    connector = {**CONNECTOR, "timeout_s": 10, "breaker": {"min_calls": 1, "failure_rate": 1}}
    async with running_gateway(
        registries, connector=connector, graphql={"deadline_s": deadline_s}
    ) as gateway:
        body, elapsed = await _lookup(gateway, samples["clean"])
        assert elapsed < deadline_s + MARGIN_S
        _assert_only_environment_failed(
            body["data"]["subject"], body["errors"], ["subject"], "SOURCE_TIMEOUT", "TIMEOUT"
        )
        (error,) = body["errors"]
        assert "deadline (1 s)" in error["message"]
        assert calls(environment) == 1
        environment.state.faults.reset()  # so that /readyz's health check answers at once
        ready = (await gateway.client.get("/readyz")).json()
        assert ready["breakers"]["environment"] == "closed"
        await _assert_audit_verifies(gateway, lookups=1, environment="TIMEOUT")


@asynccontextmanager
async def _one_slow_call_in_flight(
    registries: dict[str, RegistryServer], subject: str
) -> AsyncIterator[tuple[Source, asyncio.Task[list[SourceOutcome]]]]:
    """The environment registry answering in 1 s, and a patient load of `subject` (deadline 8 s)
    whose call has reached it: the one call later waiters join."""
    environment = registries["environment"]
    environment.state.faults.replace(Faults(latency_ms=1000))
    async with running_gateway(registries, connector={**CONNECTOR, "timeout_s": 5}) as gateway:
        source = gateway.services.sources["environment"]
        patient = asyncio.create_task(source.load_many([subject], Deadline.after(8)))
        await _until(lambda: calls(environment) == 1)
        yield source, patient


async def test_a_waiter_past_its_deadline_leaves_the_shared_call_to_the_others(
    registries: dict[str, RegistryServer], samples: dict[str, str]
) -> None:
    """Two requests share one fetch (single-flight): the one whose deadline comes first gets
    `TIMEOUT` then; the fetch goes on, and the other gets the record from the one call."""
    environment = registries["environment"]
    subject = samples["clean"]
    async with _one_slow_call_in_flight(registries, subject) as (source, patient):
        (hurried,) = await source.load_many([subject], Deadline.after(0.2))
        assert hurried.state is SourceState.TIMEOUT
        assert "deadline" in str(hurried.error)
        (answered,) = await patient
        assert answered.state is SourceState.OK
        assert answered.record is not None
        assert calls(environment) == 1


async def test_started_outcomes_end_at_their_deadline_and_leave_the_fetch_to_the_others(
    registries: dict[str, RegistryServer], samples: dict[str, str]
) -> None:
    """`Source.start` (fetching ahead) joins the call in flight: its future ends `TIMEOUT` at
    its deadline, or when cancelled, while the call goes on for the others; a started fetch is
    shared the same way; once cached, a started outcome is complete at once, nothing asked."""
    environment = registries["environment"]
    subject, other = samples["clean"], samples["penalised"]
    async with _one_slow_call_in_flight(registries, subject) as (source, patient):
        hurried, again = source.start([subject, subject], Deadline.after(0.2))
        assert hurried is again
        abandoned = source.start([subject], Deadline.after(8))[0]
        abandoned.cancel()
        timed_out = await hurried
        assert timed_out.state is SourceState.TIMEOUT
        assert "deadline" in str(timed_out.error)
        (answered,) = await patient
        assert answered.state is SourceState.OK
        assert answered.record is not None
        assert calls(environment) == 1

        (started,) = source.start([other], Deadline.after(8))
        (joined,) = await source.load_many([other], Deadline.after(8))
        assert (await started).state is SourceState.OK
        assert joined.state is SourceState.OK
        assert calls(environment) == 2

        (cached,) = source.start([subject], Deadline.after(8))
        assert cached.done()
        assert cached.result().from_cache
        assert calls(environment) == 2


async def test_a_start_past_its_deadline_asks_nothing(
    registries: dict[str, RegistryServer], samples: dict[str, str]
) -> None:
    async with running_gateway(registries) as gateway:
        source = gateway.services.sources["quality"]
        (outcome,) = source.start([samples["clean"]], Deadline.after(0))
        assert (await outcome).state is SourceState.TIMEOUT
        await asyncio.sleep(0.05)
        assert calls(registries["quality"]) == 0


# --- the circuit breaker -------------------------------------------------------------------


def _subject_ids(dataset: Dataset, count: int, start: int = 100) -> list[str]:
    return [dataset.subject(i).id for i in range(start, start + count)]


async def _open_the_breaker(gateway: Gateway, ids: list[str]) -> list[str]:
    """Look up `ids` one by one (the registry failing) until the environment row reads
    CIRCUIT_OPEN; the environment states seen, in order."""
    states: list[str] = []
    for subject_id in ids:
        body, _ = await _lookup(gateway, subject_id)
        states.append(_rows(body["data"]["subject"])["environment"]["status"])
        if states[-1] == "CIRCUIT_OPEN":
            return states
    raise AssertionError(f"the breaker never opened: {states}")


async def test_the_breaker_opens_after_failures_and_the_calls_stop(
    registries: dict[str, RegistryServer], dataset: Dataset
) -> None:
    environment = registries["environment"]
    environment.state.faults.replace(Faults(error_rate=1))
    async with running_gateway(
        registries, connector=ONE_ATTEMPT_BREAKER, graphql=GRAPHQL
    ) as gateway:
        ids = _subject_ids(dataset, 8)
        assert await _open_the_breaker(gateway, ids) == ["ERROR"] * 4 + ["CIRCUIT_OPEN"]
        assert calls(environment) == 4
        for subject_id in ids[5:]:
            body, elapsed = await _lookup(gateway, subject_id)
            assert elapsed < DEADLINE_S + MARGIN_S
            subject = body["data"]["subject"]
            assert subject["environment"] is None
            (error,) = [e for e in body["errors"] if e["path"] == ["subject", "environment"]]
            assert error["extensions"]["code"] == "SOURCE_UNAVAILABLE"
            assert "circuit is open" in error["message"]
            row = _rows(subject)["environment"]
            assert row["status"] == "CIRCUIT_OPEN"
            assert not row["fromCache"]
            assert {_rows(subject)[d]["status"] for d in DEPARTMENTS[1:]} <= {"OK", "NOT_FOUND"}
        assert calls(environment) == 4  # nothing went out while open
        ready = (await gateway.client.get("/readyz")).json()
        assert ready["status"] == "degraded"
        assert ready["breakers"]["environment"] == "open"
        assert ready["breakers"]["quality"] == "closed"
        assert ready["sources"]["environment"] == "down"  # its health check fails too
        await _assert_audit_verifies(gateway, lookups=8, environment="CIRCUIT_OPEN")


async def test_half_open_lets_one_probe_out_and_its_success_closes_the_breaker(
    registries: dict[str, RegistryServer], dataset: Dataset
) -> None:
    environment = registries["environment"]
    environment.state.faults.replace(Faults(error_rate=1))
    connector = {**ONE_ATTEMPT_BREAKER, "timeout_s": 2.5}
    async with running_gateway(registries, connector=connector, graphql=GRAPHQL) as gateway:
        await _open_the_breaker(gateway, _subject_ids(dataset, 8))
        opened_after = calls(environment)

        # Healthy again, but slow enough that the probe is still out while the others ask.
        environment.state.faults.replace(Faults(latency_ms=1000))
        breaker = gateway.services.sources["environment"].resilience.breaker
        await _until(lambda: breaker.state.value == "HALF_OPEN")
        ids = _subject_ids(dataset, 5, start=200)
        results = await asyncio.gather(*(_lookup(gateway, i) for i in ids))
        states = [_rows(b["data"]["subject"])["environment"]["status"] for b, _ in results]
        assert calls(environment) == opened_after + 1  # one probe, the others not sent
        assert states.count("CIRCUIT_OPEN") == 4
        (probe,) = [state for state in states if state != "CIRCUIT_OPEN"]
        assert probe in ("NOT_FOUND", "OK")
        assert all(elapsed < DEADLINE_S + MARGIN_S for _, elapsed in results)

        environment.state.faults.reset()
        body, _ = await _lookup(gateway, ids[1])
        assert _rows(body["data"]["subject"])["environment"]["status"] in ("OK", "NOT_FOUND")
        assert calls(environment) == opened_after + 2
        ready = (await gateway.client.get("/readyz")).json()
        assert ready["breakers"]["environment"] == "closed"
        assert ready["status"] == "ok"
        report = await verify(gateway.services.audit.store)
        assert report.ok, report.describe()


async def test_a_failed_probe_opens_the_breaker_again(
    registries: dict[str, RegistryServer], dataset: Dataset
) -> None:
    environment = registries["environment"]
    environment.state.faults.replace(Faults(error_rate=1))
    async with running_gateway(
        registries, connector=ONE_ATTEMPT_BREAKER, graphql=GRAPHQL
    ) as gateway:
        ids = _subject_ids(dataset, 10)
        await _open_the_breaker(gateway, ids)
        opened_after = calls(environment)
        breaker = gateway.services.sources["environment"].resilience.breaker
        await _until(lambda: breaker.state.value == "HALF_OPEN")
        body, _ = await _lookup(gateway, ids[-1])
        assert _rows(body["data"]["subject"])["environment"]["status"] == "ERROR"  # the probe
        body, _ = await _lookup(gateway, ids[-2])
        assert _rows(body["data"]["subject"])["environment"]["status"] == "CIRCUIT_OPEN"
        assert calls(environment) == opened_after + 1
        assert breaker.opened == 2


async def test_stale_data_is_served_while_the_circuit_is_open(
    registries: dict[str, RegistryServer], samples: dict[str, str], dataset: Dataset
) -> None:
    environment = registries["environment"]
    connector = {**ONE_ATTEMPT_BREAKER, "cache_ttl_s": 0.2, "stale_ttl_s": 600}
    async with running_gateway(registries, connector=connector, graphql=GRAPHQL) as gateway:
        fresh, _ = await _lookup(gateway, samples["clean"])
        cached_section = fresh["data"]["subject"]["environment"]
        assert cached_section is not None
        await asyncio.sleep(0.3)  # past cache_ttl_s: only the stale window keeps it now

        environment.state.faults.replace(Faults(error_rate=1))
        await _open_the_breaker(gateway, _subject_ids(dataset, 10))
        before = calls(environment)

        body, elapsed = await _lookup(gateway, samples["clean"])
        assert elapsed < DEADLINE_S + MARGIN_S
        subject = body["data"]["subject"]
        assert subject["environment"] == cached_section
        assert not any(e["path"] == ["subject", "environment"] for e in body.get("errors", []))
        row = _rows(subject)["environment"]
        assert row["status"] == "CIRCUIT_OPEN"
        assert row["fromCache"] is True
        assert "circuit is open" in row["message"]
        assert calls(environment) == before

        # A subject the cache never held: no data, and the client is told when to try again.
        never_cached = dataset.subject(300).id
        body, _ = await _lookup(gateway, never_cached)
        assert body["data"]["subject"]["environment"] is None
        (error,) = [e for e in body["errors"] if e["path"] == ["subject", "environment"]]
        assert error["extensions"]["code"] == "SOURCE_UNAVAILABLE"
        assert "the next try is in" in error["message"]

        store = gateway.services.audit.store
        entries = [entry async for entry in store.iter_entries()]
        stale_entry = entries[-2]
        assert stale_entry.subject == samples["clean"]
        assert stale_entry.sources["environment"] == "CIRCUIT_OPEN"
        assert stale_entry.outcome == "OK"  # the section was shown, from the cache
        assert entries[-1].outcome == "PARTIAL"
        report = await verify(store)
        assert report.ok, report.describe()


async def test_a_registry_killed_under_load_reads_circuit_open_then_recovers(
    registries: dict[str, RegistryServer], dataset: Dataset
) -> None:
    """The issue's walk-through: kill one registry and hammer the gateway. Answers keep coming
    within the deadline, that section reads CIRCUIT_OPEN, and it recovers when the registry is
    back (after the open period, the next probe closes the breaker)."""
    environment = registries["environment"]
    connector = {**CONNECTOR, "breaker": BREAKER}
    async with running_gateway(registries, connector=connector, graphql=GRAPHQL) as gateway:
        await environment.stop()
        ids = iter(_subject_ids(dataset, 40, start=400))
        seen: list[str] = []
        for _ in range(4):
            results = await asyncio.gather(*(_lookup(gateway, next(ids)) for _ in range(5)))
            for body, elapsed in results:
                assert elapsed < DEADLINE_S + MARGIN_S
                rows = _rows(body["data"]["subject"])
                seen.append(rows["environment"]["status"])
                assert {rows[d]["status"] for d in DEPARTMENTS[1:]} <= {"OK", "NOT_FOUND"}
        assert set(seen) <= {"ERROR", "CIRCUIT_OPEN"}
        assert seen.count("CIRCUIT_OPEN") >= 10  # at most one probe per open period went out
        ready = (await gateway.client.get("/readyz")).json()
        assert ready["status"] == "degraded"
        assert ready["sources"]["environment"] == "down"
        assert ready["sources"]["quality"] == "up"

        await environment.start()
        recovered = None
        for subject_id in ids:
            body, _ = await _lookup(gateway, subject_id)
            status = _rows(body["data"]["subject"])["environment"]["status"]
            if status in ("OK", "NOT_FOUND"):
                recovered = status
                break
            assert status in ("CIRCUIT_OPEN", "ERROR")
            await asyncio.sleep(OPEN_S / 5)
        assert recovered is not None, "the section never recovered"
        ready = (await gateway.client.get("/readyz")).json()
        assert ready["breakers"]["environment"] == "closed"
        report = await verify(gateway.services.audit.store)
        assert report.ok, report.describe()


# --- the per-connector concurrency limit ---------------------------------------------------


async def test_a_hanging_registry_does_not_hold_up_the_other_departments_calls(
    registries: dict[str, RegistryServer], dataset: Dataset
) -> None:
    """Eight lookups at once, environment hanging with two slots: quality receives all eight
    calls while every lookup is still waiting on environment, and environment only two."""
    environment, quality = registries["environment"], registries["quality"]
    environment.state.faults.replace(Faults(hang_rate=1))
    connector = {**CONNECTOR, "max_connections": 2, "timeout_s": 5}
    async with running_gateway(
        registries, connector=connector, graphql={"deadline_s": 8}
    ) as gateway:
        ids = _subject_ids(dataset, 8, start=500)
        tasks = [asyncio.create_task(_lookup(gateway, i)) for i in ids]
        await _until(lambda: calls(quality) == 8 and calls(environment) >= 2)
        assert not any(task.done() for task in tasks)
        await asyncio.sleep(0.1)
        assert calls(environment) == 2  # the others wait for a slot of their own connector

        await environment.stop()  # ends the hang at once (the fixture restarts it)
        results = await asyncio.gather(*tasks)
        for body, _ in results:
            rows = _rows(body["data"]["subject"])
            assert rows["quality"]["status"] in ("OK", "NOT_FOUND")
            assert rows["environment"]["status"] in ("ERROR", "TIMEOUT")
