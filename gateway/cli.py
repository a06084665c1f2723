"""The `credit-gateway` console script."""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import logging
import signal
import sys
from collections.abc import Callable, Sequence
from datetime import timedelta
from pathlib import Path
from types import FrameType

import uvicorn
from yarl import URL

from connectors.catalog import department_record_model
from connectors.conformance import (
    DEFAULT_SAMPLES,
    DEFAULT_SLOW_MS,
    DEFAULT_TIMEOUT_S,
    ConformanceReport,
    Verdict,
    check_registry,
)
from connectors.plugins import ENTRY_POINT_GROUP, PluginError, installed_plugins, load_plugin
from gateway.app import create_app
from gateway.audit import AuditError, open_store
from gateway.audit.cli import add_audit_parser, run_audit_command
from gateway.catalogue_file import load_matters_and_measures
from gateway.config_files import ConfigError
from gateway.federation import ServiceTokens
from gateway.policy import load_policy
from gateway.server import shutdown_budget_warning, uvicorn_config
from gateway.settings import DEFAULTS_DIR, Settings, load_settings
from gateway.tokens import mint_dev_token
from schema import build_schema, export_sdl


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="credit-gateway",
        description="GraphQL gateway for unified credit profiles across department registries.",
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    demo = commands.add_parser(
        "demo", help="start the reference registries and the gateway on embedded defaults"
    )
    demo.add_argument("--host", default="127.0.0.1")
    demo.add_argument("--port", type=int, default=8000)
    demo.add_argument(
        "--subjects", type=int, default=10_000, help="synthetic subjects (default 10000)"
    )
    demo.add_argument("--seed", type=int, default=42, help="seed of the synthetic data")
    demo.add_argument(
        "--registry-port", type=int, default=9101, help="first registry port (default 9101)"
    )

    serve = commands.add_parser("serve", help="run the gateway from a config file")
    serve.add_argument("--config", required=True, type=Path, help="TOML config file")
    serve.add_argument("--host", help="override [server] host")
    serve.add_argument("--port", type=int, help="override [server] port")

    token = commands.add_parser(
        "token", help="mint a development token (needs [auth] dev_secret; demo config by default)"
    )
    token.add_argument("--role", action="append", required=True, help="a role (repeatable)")
    token.add_argument("--department", help="the official's department key")
    token.add_argument("--region", help="the official's 6-digit division code")
    token.add_argument("--scope", action="append", default=[], help="a scope, e.g. pii")
    token.add_argument("--subject", help="the official's id (default: a random dev id)")
    token.add_argument("--name", help="the official's name")
    token.add_argument("--ttl", default="1h", type=parse_ttl, help="lifetime: 30m, 1h, 2d (1h)")
    token.add_argument("--config", type=Path, default=DEFAULTS_DIR / "demo.toml")

    add_audit_parser(commands)
    add_connectors_parser(commands)

    export = commands.add_parser("export-schema", help="print the GraphQL schema (SDL)")
    export.add_argument("--output", type=Path, help="write to this file instead of stdout")

    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    try:
        if args.command == "demo":
            from gateway.demo import run_demo

            return run_demo(args.host, args.port, args.subjects, args.seed, args.registry_port)
        if args.command == "serve":
            overrides: dict[str, object] = {}
            if args.host is not None:
                overrides["host"] = args.host
            if args.port is not None:
                overrides["port"] = args.port
            settings = load_settings(args.config, {"server": overrides} if overrides else None)
            return serve_settings(settings)
        if args.command == "token":
            settings = load_settings(args.config)
            if settings.auth.dev_secret is None:
                print(f"credit-gateway: {args.config} has no [auth] dev_secret", file=sys.stderr)
                return 2
            print(
                mint_dev_token(
                    settings.auth,
                    args.role,
                    subject=args.subject,
                    name=args.name,
                    department=args.department,
                    region=args.region,
                    scopes=args.scope,
                    ttl=args.ttl,
                )
            )
            return 0
        if args.command == "audit":
            settings = load_settings(args.config) if args.config else Settings()
            return run_audit_command(args, settings.audit.url, table=settings.audit.table)
        if args.command == "connectors":
            return run_connectors_command(args)
        if args.command == "export-schema":
            sdl = export_sdl()
            if args.output is None:
                sys.stdout.write(sdl)
            else:
                args.output.write_text(sdl, encoding="utf-8")
            return 0
    except ConfigError as exc:
        print(f"credit-gateway: {exc}", file=sys.stderr)
        return 2
    parser.error(f"unknown command {args.command}")
    return 2


def parse_ttl(text: str) -> timedelta:
    """`90s`, `30m`, `1h`, `2d`, or plain seconds."""
    units = {"s": 1, "m": 60, "h": 3600, "d": 86400}
    number, unit = (text[:-1], text[-1]) if text and text[-1] in units else (text, "s")
    try:
        seconds = float(number) * units[unit]
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"not a duration: {text!r} (try 30m, 1h, 2d)") from exc
    if seconds <= 0:
        raise argparse.ArgumentTypeError("the lifetime must be positive")
    return timedelta(seconds=seconds)


def add_connectors_parser(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    connectors = commands.add_parser(
        "connectors", help="list connector plug-ins; check a registry against the registry API"
    )
    actions = connectors.add_subparsers(dest="connectors_command", required=True, metavar="ACTION")
    listing = actions.add_parser("list", help="the installed connector plug-ins")
    listing.add_argument("--format", choices=("text", "json"), default="text")
    check = actions.add_parser(
        "check",
        help="check a live registry against the registry API (exit 0 pass, 1 fail, 2 usage)",
        description="Call a registry as the gateway does and report, check by check, whether it "
        "serves the registry API (registries/openapi.yaml) with valid records of the department.",
    )
    check.add_argument("url", help="the registry's base URL (before /v1)")
    check.add_argument("--department", required=True, help="the department key it serves")
    check.add_argument(
        "--ids", nargs="+", default=[], metavar="ID", help="ids it holds (default: listed ones)"
    )
    check.add_argument(
        "--samples",
        type=_positive(int),
        default=DEFAULT_SAMPLES,
        help=f"listed ids to check without --ids (default {DEFAULT_SAMPLES})",
    )
    check.add_argument(
        "--timeout",
        type=_positive(float),
        default=DEFAULT_TIMEOUT_S,
        help=f"seconds each request may take (default {DEFAULT_TIMEOUT_S:g})",
    )
    check.add_argument(
        "--slow-ms",
        type=_positive(float),
        default=DEFAULT_SLOW_MS,
        help=f"warn about an endpoint slower than this (default {DEFAULT_SLOW_MS:g} ms)",
    )
    check.add_argument("--plugin", help="take the record model from this installed plug-in")
    check.add_argument("--format", choices=("text", "json"), default="text")


def _positive(kind: type[int] | type[float]) -> Callable[[str], float]:
    def parse(text: str) -> float:
        try:
            value = kind(text)
        except ValueError as exc:
            raise argparse.ArgumentTypeError(f"not a number: {text!r}") from exc
        if value <= 0:
            raise argparse.ArgumentTypeError(f"must be positive: {text!r}")
        return value

    return parse


def run_connectors_command(args: argparse.Namespace) -> int:
    if args.connectors_command == "list":
        return _list_plugins(args.format)
    url = URL(args.url)
    if url.scheme not in ("http", "https") or not url.host:
        print(f"credit-gateway: not an http(s) URL: {args.url!r}", file=sys.stderr)
        return 2
    try:
        model, origin = department_record_model(args.department, args.plugin)
    except (LookupError, PluginError) as exc:
        print(f"credit-gateway: {exc}", file=sys.stderr)
        return 2
    report = asyncio.run(
        check_registry(
            args.url,
            args.department,
            model,
            ids=args.ids,
            samples=int(args.samples),
            timeout_s=args.timeout,
            slow_ms=args.slow_ms,
        )
    )
    if args.format == "json":
        print(json.dumps({**report.to_dict(), "record_model_origin": origin}, ensure_ascii=False))
    else:
        print(format_report(report, origin))
    return 0 if report.passed else 1


def format_report(report: ConformanceReport, origin: str) -> str:
    """The report as aligned lines: verdict, check, subject (if any), reason."""
    width = max((len(check.name) for check in report.checks), default=0)
    lines = [
        f"registry {report.url}: department {report.department}, "
        f"record model {report.record_model} ({origin})",
        "",
    ]
    for check in report.checks:
        reason = f"{check.subject}  {check.reason}" if check.subject else check.reason
        lines.append(f"{check.verdict.value}  {check.name:<{width}}  {reason}")
    counts = ", ".join(f"{report.count(v)} {v.value.lower()}" for v in Verdict)
    outcome = "PASS" if report.passed else "FAIL"
    lines += ["", f"result: {outcome} ({counts}) in {report.elapsed_s:.2f} s"]
    return "\n".join(lines)


def _list_plugins(form: str) -> int:
    rows: list[dict[str, str | None]] = []
    broken = False
    for info in installed_plugins():
        row: dict[str, str | None] = {
            "name": info.name,
            "object": info.value,
            "distribution": info.distribution,
            "version": info.version,
            "package": info.package,
            "record_model": None,
            "department": None,
            "error": None,
        }
        try:
            model = load_plugin(info.name).record_model
            row["record_model"] = f"{model.__module__}.{model.__qualname__}"
            row["department"] = model.department or None
        except PluginError as exc:
            row["error"] = str(exc)
            broken = True
        rows.append(row)
    if form == "json":
        print(json.dumps({"group": ENTRY_POINT_GROUP, "plugins": rows}, ensure_ascii=False))
    elif not rows:
        print(f"no connector plug-ins installed (entry point group {ENTRY_POINT_GROUP})")
    else:
        for row in rows:
            print(f"{row['name']}  {row['package']}  {row['object']}")
            if row["error"] is None:
                print(f"    record model {row['record_model']} (department {row['department']})")
            else:
                print(f"    error: {row['error']}")
    return 1 if broken else 0


def preflight(settings: Settings) -> None:
    """Load what the app loads at start (policy, catalogue, audit store) and fail here, with one
    clear line, rather than inside the server's start-up with a traceback."""
    load_policy(settings.access.policy, build_schema()._schema)
    load_matters_and_measures(
        settings.access.catalogue, settings.access.measures, settings.enabled_connectors
    )
    if settings.federation is not None:
        ServiceTokens(settings.federation)  # the signing key loads

    async def open_audit() -> None:
        store = open_store(settings.audit.url, table=settings.audit.table)
        await store.open()
        await store.close()

    try:
        asyncio.run(open_audit())
    except AuditError as exc:
        raise ConfigError(f"[audit] {exc}") from exc


def serve_settings(settings: Settings) -> int:
    if not settings.enabled_connectors:
        print("credit-gateway: no connector is enabled in [connectors]", file=sys.stderr)
        return 2
    try:
        preflight(settings)
    except ConfigError as exc:
        print(f"credit-gateway: {exc}", file=sys.stderr)
        return 2
    if settings.auth.dev_secret is not None:
        logging.getLogger(__name__).warning(
            "[auth] dev_secret is set: anyone with the config can mint tokens; demo use only"
        )
    budget = shutdown_budget_warning(settings)
    if budget is not None:
        logging.getLogger(__name__).warning(budget)
    server = uvicorn.Server(uvicorn_config(create_app(settings), settings))
    tune_garbage_collector()
    # uvicorn shuts down gracefully on SIGINT/SIGTERM, then re-raises the signal. Left to the
    # default handlers, a re-raised SIGTERM would kill the process before the demo stops its
    # registries; turned into an exception here, every `finally` runs and the exit is clean.
    previous = {sig: signal.signal(sig, _stop) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        server.run()
    except _Stopped:
        pass
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    return 0 if server.started else 1


def tune_garbage_collector() -> None:
    """Collect less often, and never again walk what start-up created.

    A profile request allocates thousands of short-lived objects; with Python's default thresholds
    the young generations are collected every few requests, and the occasional full collection
    walks every cached record (tens of milliseconds, measured as p99 spikes by bench/fanout.py).
    Start-up objects (modules, the schema) are frozen out of the collector's way.
    """
    gc.collect()
    gc.freeze()
    gc.set_threshold(20_000, 50, 100)


class _Stopped(Exception):
    """The server was asked to stop by a signal and has shut down gracefully."""


def _stop(signum: int, frame: FrameType | None) -> None:
    raise _Stopped(signum)


if __name__ == "__main__":
    raise SystemExit(main())
