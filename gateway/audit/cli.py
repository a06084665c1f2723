"""`credit-gateway audit verify` and `credit-gateway audit report`, for the main CLI to mount.

The main CLI calls `add_audit_parser(commands)` while building its parser, and, for the `audit`
command, loads the settings (from `args.config` if given, else the defaults) and returns
`run_audit_command(args, settings.audit.url, table=settings.audit.table)`.
Exit codes: 0 the chain verified (or the report was written), 1 the chain is broken (the first
broken link is printed), 2 a usage, configuration or connection problem (one line on stderr, no
traceback: these are operator errors, not bugs).
"""

from __future__ import annotations

import argparse
import asyncio
import re
import sys
from datetime import UTC, datetime
from pathlib import Path

from gateway.audit.errors import AuditStoreError
from gateway.audit.report import render_csv, render_json, usage_report
from gateway.audit.store import DEFAULT_TABLE, ChainHead, open_store
from gateway.audit.verify import verify

EXIT_OK = 0
EXIT_BROKEN = 1
EXIT_ERROR = 2

_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_ANCHOR = re.compile(r"^(\d+):([0-9a-f]{64})$")


def parse_bound(text: str) -> datetime:
    """`YYYY-MM-DD` (midnight UTC) or an ISO datetime (UTC unless it carries an offset)."""
    try:
        if _DATE.match(text):
            return datetime.strptime(text, "%Y-%m-%d").replace(tzinfo=UTC)
        value = datetime.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"invalid date {text!r}: expected YYYY-MM-DD or an ISO datetime "
            "such as 2025-01-01T08:00:00+08:00"
        ) from None
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value


def parse_anchor(text: str) -> ChainHead:
    """`SEQ:HASH` as printed by an earlier `audit verify`."""
    match = _ANCHOR.match(text.strip().lower())
    if match is None:
        raise argparse.ArgumentTypeError(f"invalid anchor {text!r}: expected SEQ:HASH (64 hex)")
    return ChainHead(int(match[1]), match[2])


def add_audit_parser(
    subparsers: argparse._SubParsersAction[argparse.ArgumentParser],
) -> argparse.ArgumentParser:
    """Add `audit verify` and `audit report` to the main CLI's subcommands."""
    audit = subparsers.add_parser(
        "audit",
        help="verify the audit hash chain or report usage",
        description="Verify the tamper-evident audit log, or report lookups from it.",
    )
    commands = audit.add_subparsers(dest="audit_command", required=True, metavar="ACTION")

    check = commands.add_parser(
        "verify",
        help="recompute the hash chain and name the first broken link",
        description="Exit 0 if the chain is intact, 1 if a row was edited, deleted or inserted.",
    )
    _store_options(check)
    check.add_argument(
        "--anchor",
        type=parse_anchor,
        metavar="SEQ:HASH",
        help="a head printed by an earlier verify and kept elsewhere: also detects deleted "
        "newest entries and a rewritten chain",
    )

    report = commands.add_parser(
        "report",
        help="lookups per department, matter and outcome in a period",
        description="Dates are YYYY-MM-DD (midnight UTC) or ISO datetimes; --from is inclusive "
        "and --to exclusive, so --from 2025-01-01 --to 2025-02-01 is January.",
    )
    report.add_argument("--from", dest="from_", required=True, type=parse_bound, metavar="DATE")
    report.add_argument("--to", required=True, type=parse_bound, metavar="DATE")
    report.add_argument("--department", help="only lookups by officials of this department")
    report.add_argument("--format", choices=("csv", "json"), default="csv")
    _store_options(report)
    return audit


def _store_options(parser: argparse.ArgumentParser) -> None:
    # `--config` is read by the main CLI, which owns config loading: it passes the [audit]
    # section's url and table to `run_audit_command` as the defaults `--url`/`--table` override.
    parser.add_argument(
        "--config", type=Path, help="gateway config file whose [audit] section names the store"
    )
    parser.add_argument("--url", help="audit store URL (default: the configured [audit] url)")
    parser.add_argument("--table", help="audit table (default: the configured [audit] table)")


def run_audit_command(
    args: argparse.Namespace, default_url: str, *, table: str = DEFAULT_TABLE
) -> int:
    """Run a parsed `audit ...` command; returns the process exit code. Must not be called from a
    running event loop (it runs its own); async callers use `run_audit_command_async`."""
    return asyncio.run(run_audit_command_async(args, default_url, table=table))


async def run_audit_command_async(
    args: argparse.Namespace, default_url: str, *, table: str = DEFAULT_TABLE
) -> int:
    url: str = args.url or default_url
    chain_table: str = args.table or table
    try:
        # Read-only: a missing database or table is an error, never silently created empty.
        async with open_store(url, table=chain_table, create=False) as store:
            if args.audit_command == "verify":
                result = await verify(store, anchor=args.anchor)
                print(result.describe())
                return EXIT_OK if result.ok else EXIT_BROKEN
            if args.audit_command == "report":
                report = await usage_report(store, args.from_, args.to, args.department)
                render = render_json if args.format == "json" else render_csv
                sys.stdout.write(render(report))
                return EXIT_OK
    except (AuditStoreError, ValueError) as exc:
        print(f"credit-gateway audit: {exc}", file=sys.stderr)
        return EXIT_ERROR
    print(f"credit-gateway audit: unknown action {args.audit_command!r}", file=sys.stderr)
    return EXIT_ERROR
