"""`audit verify` and `audit report` as the main CLI will run them: parsed args, exit codes,
output. (The console script is wired by gateway/cli.py; these drive the mounted parser.)"""

from __future__ import annotations

import argparse
import asyncio
from datetime import UTC, datetime, timedelta

import orjson
import pytest

from gateway.audit.cli import add_audit_parser, run_audit_command, run_audit_command_async
from gateway.audit.store import AuditStore
from tests.audit.support import Backend, event, events


def _parse(*argv: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="credit-gateway")
    add_audit_parser(parser.add_subparsers(dest="command", required=True))
    return parser.parse_args(["audit", *argv])


async def _run(backend: Backend, *argv: str) -> int:
    return await run_audit_command_async(_parse(*argv), backend.url, table=backend.table)


async def test_verify_exit_codes(
    store: AuditStore, backend: Backend, capsys: pytest.CaptureFixture[str]
) -> None:
    await store.append(events(5))
    assert await _run(backend, "verify") == 0
    out = capsys.readouterr().out
    assert "audit chain OK: 5 entries" in out

    await backend.execute("UPDATE {t} SET outcome = 'OK', matter = 'X' WHERE seq = 3")
    assert await _run(backend, "verify") == 1
    out = capsys.readouterr().out
    assert "BROKEN at seq 3: edited" in out


async def test_verify_with_anchor_catches_truncation(
    store: AuditStore, backend: Backend, capsys: pytest.CaptureFixture[str]
) -> None:
    entries = await store.append(events(4))
    anchor = f"{entries[-1].seq}:{entries[-1].hash}"
    await backend.execute("DELETE FROM {t} WHERE seq = 4")
    assert await _run(backend, "verify") == 0
    assert await _run(backend, "verify", "--anchor", anchor) == 1
    assert "BROKEN at seq 4: deleted" in capsys.readouterr().out


async def test_console_entry_point_runs_its_own_loop(
    store: AuditStore, backend: Backend, capsys: pytest.CaptureFixture[str]
) -> None:
    """`run_audit_command` is what `main()` calls: synchronous, from outside any loop."""
    await store.append(events(2))
    code = await asyncio.to_thread(
        run_audit_command, _parse("verify", "--table", backend.table), backend.url
    )
    assert code == 0
    assert "2 entries" in capsys.readouterr().out


async def test_report_csv_and_json(
    store: AuditStore, backend: Backend, capsys: pytest.CaptureFixture[str]
) -> None:
    march = datetime(2025, 3, 1, tzinfo=UTC)
    await store.append(
        [
            event(1, at=march),
            event(2, at=march + timedelta(days=2), department="health", matter="HEALTH-MED"),
            event(3, at=march + timedelta(days=40)),
        ]
    )
    assert await _run(backend, "report", "--from", "2025-03-01", "--to", "2025-04-01") == 0
    assert capsys.readouterr().out == (
        "department,matter,outcome,lookups\n"
        "environment,ENV-EIA-REVIEW,OK,1\n"
        "health,HEALTH-MED,OK,1\n"
    )
    argv = ["--from", "2025-03-01T00:00:00Z", "--to", "2025-03-02", "--format", "json"]
    assert await _run(backend, "report", *argv) == 0
    document = orjson.loads(capsys.readouterr().out)
    assert document["total"] == 1
    argv = ["--from", "2025-03-01", "--to", "2025-05-01", "--department", "health"]
    assert await _run(backend, "report", *argv) == 0
    assert capsys.readouterr().out.splitlines()[1:] == ["health,HEALTH-MED,OK,1"]


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("mysql://db/audit", "unsupported audit store URL"),
        ("sqlite:///{tmp}/missing.db", "no audit database"),
        ("postgresql://postgres@127.0.0.1:1/test", "cannot connect"),
        ("postgresql://gw:s3cret@127.0.0.1:1/test", "gw:***@"),
    ],
)
async def test_configuration_and_connection_errors_exit_2(
    url: str, message: str, tmp_path: object, capsys: pytest.CaptureFixture[str]
) -> None:
    args = _parse("verify", "--url", url.format(tmp=tmp_path))
    assert await run_audit_command_async(args, "sqlite:///unused.db") == 2
    captured = capsys.readouterr()
    assert message in captured.err
    assert "s3cret" not in captured.err
    assert "Traceback" not in captured.err
    assert captured.out == ""


async def test_missing_table_and_empty_period_exit_2(
    store: AuditStore, backend: Backend, capsys: pytest.CaptureFixture[str]
) -> None:
    assert await _run(backend, "verify", "--table", "no_such_audit_table") == 2
    assert "no audit table" in capsys.readouterr().err
    assert await _run(backend, "report", "--from", "2025-04-01", "--to", "2025-03-01") == 2
    assert "empty" in capsys.readouterr().err


def test_bad_dates_and_anchors_are_usage_errors(capsys: pytest.CaptureFixture[str]) -> None:
    for argv in (
        ["report", "--from", "yesterday", "--to", "2025-01-01"],
        ["report", "--to", "2025-01-01"],
        ["verify", "--anchor", "12"],
        ["explode"],
    ):
        with pytest.raises(SystemExit) as exit_:
            _parse(*argv)
        assert exit_.value.code == 2
    assert "expected YYYY-MM-DD" in capsys.readouterr().err


def test_config_option_is_left_to_the_main_cli() -> None:
    args = _parse("verify", "--config", "deploy/gateway.toml")
    assert str(args.config) == "deploy/gateway.toml"
    assert args.url is None
    assert args.table is None
