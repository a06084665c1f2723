"""`credit-gateway connectors check`: the registry API conformance checker on real registries.

The reference registries conform, so every check passes against them; a small registry written
here conforms too until one flag breaks one rule, and then exactly that rule's check fails; a
hanging registry costs each request its timeout and yields FAIL lines, not a hang.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import orjson
import pytest
from aiohttp import web

from connectors.conformance import IMPOSSIBLE_ID, ConformanceReport, Verdict, check_registry
from connectors.records import RECORD_MODELS, CommerceRecord
from gateway.cli import main
from registries.faults import Faults
from registries.server import RegistryServer
from tests.support import DEPARTMENTS

EVERY_CHECK = {
    "health",
    "list.page",
    "list.paging",
    "record.get",
    "record.cache",
    "record.revalidate",
    "record.not_found",
    "batch",
    "batch.malformed",
    "timing.health",
    "timing.list",
    "timing.get",
    "timing.batch",
}

Serve = Callable[..., Awaitable[str]]


@pytest.mark.parametrize("department", DEPARTMENTS)
async def test_a_reference_registry_passes_every_check(
    registries: dict[str, RegistryServer], department: str
) -> None:
    server = registries[department]
    report = await check_registry(server.url, department, RECORD_MODELS[department], samples=4)
    assert report.passed
    assert {check.name for check in report.checks} == EVERY_CHECK
    assert all(check.verdict is Verdict.PASS for check in report.checks), _show(report)
    assert len(report.verdicts("record.get")) == 4
    assert {timing.endpoint for timing in report.timings} == {"health", "list", "get", "batch"}


async def test_given_ids_are_checked_instead_of_listed_ones(
    registries: dict[str, RegistryServer], samples: dict[str, str]
) -> None:
    server = registries["commerce"]
    ids = [samples["dishonest"], samples["red"]]
    report = await check_registry(server.url, "commerce", CommerceRecord, ids=ids)
    assert report.passed, _show(report)
    assert [c.subject for c in report.checks if c.name == "record.get"] == ids


async def test_the_wrong_record_model_fails_the_records(
    registries: dict[str, RegistryServer],
) -> None:
    server = registries["commerce"]  # it says it is commerce: health fails for health's model
    report = await check_registry(server.url, "health", RECORD_MODELS["health"], samples=2)
    assert _failed(report) == {"health"}


# -- a registry written here, conforming until a flag breaks one rule -----------------------------

HELD = [f"T{index:017d}" for index in range(7)]
"""Ids the small registry holds (the checker does not validate ids: any string is an id)."""


def _record(subject_id: str, broken: bool) -> dict[str, Any]:
    record: dict[str, Any] = {
        "subjectId": subject_id,
        "name": f"测试企业{subject_id[-2:]}",
        "updatedAt": "2025-06-01T08:00:00+08:00",
        "penalties": [],
        "registration": None,
    }
    if broken:
        record["penalties"] = "none"
        del record["updatedAt"]
    return record


def small_registry(*flags: str, department: str = "commerce") -> web.Application:
    """The registry API over `HELD`; each flag breaks one rule:

    ``wrong_department``, ``ignore_after`` (paging starts again), ``wrong_schema`` (records lack
    ``updatedAt``), ``found_for_unknown`` (200 with a record for any id), ``no_missing`` (batch
    answers without ``missing``), ``crash_on_malformed`` (500 for a bad batch body),
    ``no_cache_headers`` (no ETag, no Cache-Control).
    """
    unknown_flags = set(flags) - {
        "wrong_department",
        "ignore_after",
        "wrong_schema",
        "found_for_unknown",
        "no_missing",
        "crash_on_malformed",
        "no_cache_headers",
    }
    assert not unknown_flags, unknown_flags

    def body_of(subject_id: str) -> bytes:
        return orjson.dumps(_record(subject_id, broken="wrong_schema" in flags))

    async def health(request: web.Request) -> web.Response:
        said = "tax" if "wrong_department" in flags else department
        return web.json_response({"status": "ok", "department": said, "subjects": len(HELD)})

    async def page(request: web.Request) -> web.Response:
        limit = int(request.query.get("limit", "100"))
        after = request.query.get("after")
        start = 0 if after is None or "ignore_after" in flags else HELD.index(after) + 1
        ids = HELD[start : start + limit]
        more = start + limit < len(HELD)
        return web.json_response({"ids": ids, "next": ids[-1] if more else None})

    async def single(request: web.Request) -> web.StreamResponse:
        subject_id = request.match_info["id"]
        if subject_id not in HELD:
            if "found_for_unknown" not in flags:
                return web.json_response({"error": "not_found", "message": "no"}, status=404)
            subject_id = HELD[0]
        body = body_of(subject_id)
        headers: dict[str, str] = {}
        if "no_cache_headers" not in flags:
            etag = f'"{hashlib.sha256(body).hexdigest()[:16]}"'
            headers = {"ETag": etag, "Cache-Control": "max-age=30"}
            if request.headers.get("If-None-Match") == etag:
                return web.Response(status=304, headers=headers)
        return web.Response(body=body, content_type="application/json", headers=headers)

    async def batch(request: web.Request) -> web.Response:
        try:
            ids = (await request.json())["ids"]
        except (ValueError, KeyError):
            if "crash_on_malformed" in flags:
                return web.json_response({"error": "internal", "message": "oops"}, status=500)
            return web.json_response({"error": "bad_request", "message": "no"}, status=400)
        records = {i: _record(i, "wrong_schema" in flags) for i in ids if i in HELD}
        answer: dict[str, Any] = {"records": records}
        if "no_missing" not in flags:
            answer["missing"] = [i for i in ids if i not in HELD]
        return web.json_response(answer)

    app = web.Application()
    app.router.add_get("/v1/health", health)
    app.router.add_get("/v1/subjects", page)
    app.router.add_post("/v1/subjects:batch", batch)
    app.router.add_get("/v1/subjects/{id}", single)
    return app


@pytest.fixture
async def serve() -> AsyncIterator[Serve]:
    runners: list[web.AppRunner] = []

    async def start(*flags: str) -> str:
        runner = web.AppRunner(small_registry(*flags), shutdown_timeout=0.1)
        await runner.setup()
        runners.append(runner)
        await web.TCPSite(runner, "127.0.0.1", 0).start()
        return f"http://127.0.0.1:{runner.addresses[0][1]}"

    yield start
    for runner in runners:
        await runner.cleanup()


async def test_the_small_registry_conforms(serve: Serve) -> None:
    report = await check_registry(await serve(), "commerce", CommerceRecord, samples=3)
    assert all(check.verdict is Verdict.PASS for check in report.checks), _show(report)
    assert report.verdicts("list.paging") == [Verdict.PASS]


@pytest.mark.parametrize(
    ("flag", "failed", "reason"),
    [
        ("wrong_department", {"health"}, "says it is the 'tax' registry"),
        ("ignore_after", {"list.paging"}, "repeats ids of earlier pages"),
        ("wrong_schema", {"record.get", "batch"}, "updatedAt: Field required"),
        ("found_for_unknown", {"record.not_found"}, "answered 200 for an id that cannot exist"),
        ("no_missing", {"batch"}, "no `missing` list"),
        ("crash_on_malformed", {"batch.malformed"}, "answered HTTP 500, expected 4xx"),
    ],
)
async def test_a_broken_rule_fails_its_check(
    serve: Serve, flag: str, failed: set[str], reason: str
) -> None:
    report = await check_registry(await serve(flag), "commerce", CommerceRecord, samples=3)
    assert not report.passed
    assert _failed(report) == failed, _show(report)
    assert all(reason in check.reason for check in report.failed()), _show(report)


async def test_a_batch_without_missing_leaves_the_unknown_id_out(serve: Serve) -> None:
    report = await check_registry(await serve("no_missing"), "commerce", CommerceRecord)
    (batch,) = report.failed()
    assert f"ids in neither records nor missing: {IMPOSSIBLE_ID}" in batch.reason


async def test_missing_cache_headers_only_warn(serve: Serve) -> None:
    report = await check_registry(await serve("no_cache_headers"), "commerce", CommerceRecord)
    assert report.passed
    assert report.verdicts("record.cache") == [Verdict.WARN]
    assert report.verdicts("record.revalidate") == [Verdict.SKIP]
    (cache,) = (c for c in report.checks if c.name == "record.cache")
    assert "ETag" in cache.reason
    assert "Cache-Control" in cache.reason


async def test_slow_endpoints_warn_over_the_threshold(
    registries: dict[str, RegistryServer],
) -> None:
    server = registries["quality"]
    server.state.faults.replace(Faults(latency_ms=30))
    report = await check_registry(server.url, "quality", RECORD_MODELS["quality"], slow_ms=10)
    assert report.passed
    for endpoint in ("health", "list", "get", "batch"):
        assert report.verdicts(f"timing.{endpoint}") == [Verdict.WARN]
    assert all(timing.p50_ms >= 30 for timing in report.timings)


async def test_a_hanging_registry_fails_within_its_timeouts(
    registries: dict[str, RegistryServer],
) -> None:
    server = registries["health"]
    server.state.faults.replace(Faults(hang_rate=1.0))
    timeout_s = 0.3
    started = time.monotonic()
    report = await asyncio.wait_for(
        check_registry(server.url, "health", RECORD_MODELS["health"], timeout_s=timeout_s),
        timeout=10,
    )
    elapsed = time.monotonic() - started
    # health, the first page, the impossible id, the batch and two malformed batches: six
    # requests, each given up after the timeout (the records are skipped: no ids were listed).
    assert elapsed < 6 * timeout_s + 1.0
    assert not report.passed
    assert _failed(report) == {
        "health",
        "list.page",
        "record.not_found",
        "batch",
        "batch.malformed",
    }
    assert all("no complete answer within 0.3 s" in check.reason for check in report.failed())
    assert report.verdicts("record.get") == [Verdict.SKIP]
    assert report.timings == []


async def test_a_registry_that_is_down_fails_at_once(
    registries: dict[str, RegistryServer],
) -> None:
    server = registries["environment"]
    await server.stop()
    report = await check_registry(server.url, "environment", RECORD_MODELS["environment"])
    assert not report.passed
    assert all("could not connect" in check.reason for check in report.failed())
    assert report.elapsed_s < 2


# -- the command ----------------------------------------------------------------------------------


async def run_cli(*argv: str) -> int:
    """The console script's `main`, in a worker thread: it runs its own event loop, while this
    test's loop keeps serving the registries."""
    return await asyncio.to_thread(main, list(argv))


async def test_cli_exit_0_and_a_line_per_check(
    registries: dict[str, RegistryServer], capsys: pytest.CaptureFixture[str]
) -> None:
    url = registries["commerce"].url
    code = await run_cli("connectors", "check", url, "--department", "commerce", "--samples", "2")
    out = capsys.readouterr().out
    assert code == 0, out
    lines = out.splitlines()
    assert lines[0] == (
        f"registry {url}: department commerce, record model CommerceRecord (built in)"
    )
    verdict_lines = [line for line in lines if line[:4] in {"PASS", "WARN", "FAIL", "SKIP"}]
    assert {line.split()[1] for line in verdict_lines} == EVERY_CHECK
    assert all(line.startswith("PASS") for line in verdict_lines)
    assert lines[-1].startswith("result: PASS (14 pass, 0 warn, 0 fail, 0 skip) in ")


async def test_cli_exit_1_and_json(serve: Serve, capsys: pytest.CaptureFixture[str]) -> None:
    url = await serve("crash_on_malformed")
    code = await run_cli("connectors", "check", url, "--department", "commerce", "--format", "json")
    report = json.loads(capsys.readouterr().out)
    assert code == 1
    assert report["passed"] is False
    assert report["record_model"] == "CommerceRecord"
    assert report["record_model_origin"] == "built in"
    assert [c["name"] for c in report["checks"] if c["verdict"] == "FAIL"] == ["batch.malformed"]
    assert report["counts"]["FAIL"] == 1
    assert {t["endpoint"] for t in report["timings"]} == {"health", "list", "get", "batch"}


async def test_cli_hanging_registry_exit_1(
    registries: dict[str, RegistryServer], capsys: pytest.CaptureFixture[str]
) -> None:
    server = registries["quality"]
    server.state.faults.replace(Faults(hang_rate=1.0))
    started = time.monotonic()
    code = await run_cli(
        "connectors", "check", server.url, "--department", "quality", "--timeout", "0.2"
    )
    assert code == 1
    assert time.monotonic() - started < 6 * 0.2 + 1.0
    assert "FAIL  health" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["http://127.0.0.1:9", "--department", "nosuch"], "no record model for department"),
        (["ftp://127.0.0.1/", "--department", "commerce"], "not an http(s) URL"),
        (["http://127.0.0.1:9", "--department", "commerce", "--plugin", "nosuch"], "nosuch"),
    ],
)
async def test_cli_usage_errors_exit_2(
    argv: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert await run_cli("connectors", "check", *argv) == 2
    assert message in capsys.readouterr().err


@pytest.mark.parametrize(
    "argv",
    [
        ["http://127.0.0.1:9"],
        ["http://127.0.0.1:9", "--department", "commerce", "--samples", "0"],
        ["http://127.0.0.1:9", "--department", "commerce", "--timeout", "-1"],
        ["http://127.0.0.1:9", "--department", "commerce", "--format", "xml"],
    ],
)
async def test_cli_bad_arguments_exit_2(argv: list[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        await run_cli("connectors", "check", *argv)
    assert exited.value.code == 2


def _failed(report: ConformanceReport) -> set[str]:
    return {check.name for check in report.failed()}


def _show(report: ConformanceReport) -> str:
    return "\n".join(
        f"{c.verdict.value} {c.name} {c.subject or ''} {c.reason}" for c in report.checks
    )
