"""Graceful shutdown of `credit-gateway serve`, as an operator's SIGTERM meets lookups in flight.

The promise (docs/reliability.md): on SIGTERM the gateway refuses new connections at once, lets
the lookups in flight finish (each commits its audit entry before it answers), and exits 0 within
`[server] graceful_shutdown_s`; the audit then holds exactly one verified entry per lookup answered.
A lookup stuck on a hung registry ends by its connector's `timeout_s`, so it cannot hold shutdown
past the grace period; one that would outlive the period is cut, and shutdown still ends in time.

Each test runs the real processes: the reference registries (one process) and the console script.
Readiness is polled (the registry's call counter says when every lookup is waiting upstream), and
every time bound is a generous ceiling, never a speed the machine must reach.
"""

from __future__ import annotations

import json
import signal
import sqlite3
import subprocess
import time
from collections import Counter
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from bench.harness import ProcessGroup
from tests.e2e.gateway_stack import (
    CLI,
    DEPARTMENTS,
    WAIT_S,
    Stack,
    lookup,
    refuses_connections,
    set_faults,
    start_stack,
    wait_for_calls,
)

pytestmark = pytest.mark.e2e

SLOW = "environment"
"""The registry that is made slow or hung while the others answer at once."""
SECTIONS = ("environment", "quality", "health", "commerce")
IN_FLIGHT = 6


@dataclass
class Shutdown:
    """What a SIGTERM sent while lookups were waiting upstream led to."""

    answers: list[tuple[int, dict[str, Any]]]
    exit_code: int
    seconds: float
    refused_while_running: bool
    waiting_when_refused: int


def answer_of(response: httpx.Response) -> tuple[int, dict[str, Any]]:
    body: dict[str, Any] = response.json()  # a body that is not JSON fails the test here
    return response.status_code, body


def sigterm_during_lookups(stack: Stack, ids: list[str], prefix: str) -> Shutdown:
    """Start one lookup per id, wait until the slow registry has been asked for each of them
    (so every one is inside the gateway, waiting upstream), then SIGTERM the gateway and watch
    for the listening socket to close while the process still runs."""
    with ThreadPoolExecutor(max_workers=len(ids)) as pool:
        futures: list[Future[httpx.Response]] = [
            pool.submit(lookup, stack.base, subject_id, f"{prefix}-{n}")
            for n, subject_id in enumerate(ids)
        ]
        wait_for_calls(stack, stack.registries[SLOW], len(ids))
        started = time.monotonic()
        stack.gateway.popen.send_signal(signal.SIGTERM)
        refused, waiting = False, 0
        while time.monotonic() < started + WAIT_S and stack.gateway.popen.poll() is None:
            if refuses_connections(stack.port):
                waiting = sum(not future.done() for future in futures)
                # Still running after the refusal was seen: it was refused while running.
                refused = stack.gateway.popen.poll() is None
                break
            time.sleep(0.02)
        answers = [answer_of(future.result(timeout=WAIT_S)) for future in futures]
    exit_code = stack.gateway.popen.wait(timeout=WAIT_S)
    return Shutdown(answers, exit_code, time.monotonic() - started, refused, waiting)


def audit_request_ids(stack: Stack) -> Counter[str]:
    """How many entries the audit file holds per request id (read after the gateway exited)."""
    with sqlite3.connect(stack.audit_db) as db:
        rows = db.execute("SELECT entry FROM audit_log ORDER BY seq").fetchall()
    return Counter(str(json.loads(entry)["request_id"]) for (entry,) in rows)


def verify_audit(stack: Stack) -> str:
    """`credit-gateway audit verify` must pass; its report line."""
    result = subprocess.run(
        [CLI, "audit", "verify", "--url", stack.audit_url],
        capture_output=True,
        text=True,
        timeout=WAIT_S,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    return result.stdout


def sections_and_sources(body: dict[str, Any]) -> tuple[dict[str, Any], dict[str, str]]:
    subject = body["data"]["subject"]
    return subject, {row["department"]: row["status"] for row in subject["sources"]}


def warm_up(stack: Stack, subject_id: str) -> None:
    """One lookup before the faults: connections and caches exist, and it is audited too."""
    assert lookup(stack.base, subject_id, "warm-0").status_code == 200


def test_sigterm_lets_lookups_in_flight_finish_and_audits_each_one(
    tmp_path: Path, group: ProcessGroup, subject_ids: list[str]
) -> None:
    grace_s = 30
    stack = start_stack(tmp_path, group, timeout_s=20.0, server={"graceful_shutdown_s": grace_s})
    warm_up(stack, subject_ids[0])
    set_faults(stack.registries[SLOW], {"latency_ms": 3000})

    shutdown = sigterm_during_lookups(stack, subject_ids[1 : 1 + IN_FLIGHT], "inflight")

    assert shutdown.refused_while_running, "new connections were still accepted during shutdown"
    assert shutdown.waiting_when_refused > 0, "the lookups were answered before the refusal"
    for status, body in shutdown.answers:
        assert status == 200
        assert "errors" not in body, body.get("errors")
        subject, sources = sections_and_sources(body)
        assert all(subject[section] is not None for section in SECTIONS)
        assert {sources[d] for d in DEPARTMENTS} == {"OK"}
    assert shutdown.exit_code == 0
    assert shutdown.seconds < grace_s, f"shutdown took {shutdown.seconds:.1f} s"
    log = stack.gateway.log_text()
    assert "graceful shutdown exceeded" not in log
    assert "Traceback" not in log

    answered = {"warm-0"} | {f"inflight-{n}" for n in range(IN_FLIGHT)}
    assert audit_request_ids(stack) == Counter(answered)
    assert f"audit chain OK: {len(answered)} entries" in verify_audit(stack)


def test_a_hung_registry_ends_by_its_timeout_so_shutdown_completes(
    tmp_path: Path, group: ProcessGroup, subject_ids: list[str]
) -> None:
    grace_s = 30
    stack = start_stack(tmp_path, group, timeout_s=3.0, server={"graceful_shutdown_s": grace_s})
    warm_up(stack, subject_ids[0])
    set_faults(stack.registries[SLOW], {"hang_rate": 1.0})

    shutdown = sigterm_during_lookups(stack, subject_ids[1 : 1 + IN_FLIGHT], "hung")

    assert shutdown.refused_while_running
    for status, body in shutdown.answers:
        assert status == 200
        subject, sources = sections_and_sources(body)
        assert subject[SLOW] is None
        assert [(e["extensions"]["code"], e["path"]) for e in body["errors"]] == [
            ("SOURCE_TIMEOUT", ["subject", SLOW])
        ]
        assert sources[SLOW] == "TIMEOUT"
        assert all(subject[s] is not None for s in SECTIONS if s != SLOW)
    assert shutdown.exit_code == 0
    assert shutdown.seconds < grace_s, f"shutdown took {shutdown.seconds:.1f} s"
    assert "graceful shutdown exceeded" not in stack.gateway.log_text()

    answered = {"warm-0"} | {f"hung-{n}" for n in range(IN_FLIGHT)}
    assert audit_request_ids(stack) == Counter(answered)
    assert f"audit chain OK: {len(answered)} entries" in verify_audit(stack)


def test_a_lookup_outliving_the_grace_period_is_cut_and_shutdown_still_ends(
    tmp_path: Path, group: ProcessGroup, subject_ids: list[str]
) -> None:
    """A misconfigured gateway (a request deadline longer than the grace period) is warned about
    at start; at shutdown its stuck lookups are cancelled and answered with a coded 503 and no
    data (no stack trace logged), none is audited, and the process still exits 0 soon after."""
    grace_s = 2
    stack = start_stack(tmp_path, group, timeout_s=60.0, server={"graceful_shutdown_s": grace_s})
    assert "graceful_shutdown_s = 2 is not longer than [graphql] deadline_s" in (
        stack.gateway.log_text()
    )
    warm_up(stack, subject_ids[0])
    set_faults(stack.registries[SLOW], {"hang_rate": 1.0})

    shutdown = sigterm_during_lookups(stack, subject_ids[1 : 1 + IN_FLIGHT], "cut")

    assert shutdown.refused_while_running
    for n, (status, body) in enumerate(shutdown.answers):
        assert status == 503
        assert "data" not in body
        assert [e["extensions"]["code"] for e in body["errors"]] == ["INTERNAL"]
        assert body["extensions"]["requestId"] == f"cut-{n}"
    assert shutdown.exit_code == 0
    assert shutdown.seconds < grace_s + WAIT_S / 2, f"shutdown took {shutdown.seconds:.1f} s"
    log = stack.gateway.log_text()
    assert "timeout graceful shutdown exceeded" in log
    assert "Traceback" not in log

    assert audit_request_ids(stack) == Counter({"warm-0": 1})
    assert "audit chain OK: 1 entries" in verify_audit(stack)
