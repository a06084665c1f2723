"""Command line of the reference registries, reusable by the gateway's ``demo`` command.

``python -m registries serve`` starts one registry per department (all eleven, or those named by
``--departments``) on fixed ports (base port plus the department's offset, so a demo's URLs are
predictable) and prints one JSON line per registry once all listen; ``python -m registries
samples`` prints the sample subject ids of a dataset (`Dataset.samples`).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import signal
import sys
from collections.abc import Callable, Sequence
from datetime import date
from typing import TextIO

import pydantic

from registries.dataset import Dataset
from registries.departments import DEPARTMENTS, UnknownDepartment, rules_for
from registries.faults import Faults
from registries.server import RegistryServer

DEFAULT_PORT_OFFSETS: dict[str, int] = {
    "environment": 0,
    "quality": 1,
    "health": 2,
    "commerce": 3,
    "food_drug": 4,
    "bidding": 5,
    "education": 6,
    "tax": 7,
    "customs": 8,
    "court": 9,
    "credit_agency": 10,
}
"""Port of each department relative to the base port (fixed: a demo's URLs are predictable)."""

if tuple(DEFAULT_PORT_OFFSETS) != DEPARTMENTS:  # pragma: no cover - a new department needs a port
    raise RuntimeError("registries.cli.DEFAULT_PORT_OFFSETS must list every department, in order")

DEFAULT_BASE_PORT = 9101
DEFAULT_HOST = "127.0.0.1"
_FAULT_FLAGS = {name: name.replace("_", "-") for name in Faults.model_fields}
_FAULT_FLAGS["seed"] = "fault-seed"


def port_for(department: str, base_port: int) -> int:
    """The port `department` listens on; 0 (ephemeral) when the base port is 0."""
    return 0 if base_port == 0 else base_port + DEFAULT_PORT_OFFSETS[department]


def parse_departments(text: str) -> list[str]:
    """``environment,quality`` → the served departments, in order; rejects unknown keys."""
    departments = [part.strip() for part in text.split(",") if part.strip()]
    if not departments:
        raise argparse.ArgumentTypeError("name at least one department")
    for department in departments:
        try:
            rules_for(department)
        except UnknownDepartment as exc:
            raise argparse.ArgumentTypeError(str(exc)) from None
    return list(dict.fromkeys(departments))


def add_dataset_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--subjects", type=int, default=10_000, help="dataset size (default 10000)")
    parser.add_argument("--seed", type=int, default=42, help="dataset seed (default 42)")
    parser.add_argument(
        "--today",
        type=date.fromisoformat,
        default=None,
        metavar="YYYY-MM-DD",
        help="the day records are relative to (default: today)",
    )


def add_fault_arguments(parser: argparse.ArgumentParser) -> None:
    """One flag per `Faults` field (``--error-rate``, ``--fault-seed`` ...); unset ones default."""
    group = parser.add_argument_group("faults (applied to every /v1 route)")
    for name, field in Faults.model_fields.items():
        if field.annotation is bool:
            group.add_argument(
                f"--{_FAULT_FLAGS[name]}",
                dest=f"fault_{name}",
                action="store_const",
                const=True,
                default=None,
                help=field.description,
            )
            continue
        kind = int if name in ("huge_payload_bytes", "seed") else float
        group.add_argument(
            f"--{_FAULT_FLAGS[name]}",
            dest=f"fault_{name}",
            type=kind,
            default=None,
            metavar="N" if kind is int else "X",
            help=field.description or f"default {field.default}",
        )


def add_serve_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--departments",
        type=parse_departments,
        default=list(DEPARTMENTS),
        help=f"comma-separated departments to serve (default {','.join(DEPARTMENTS)})",
    )
    parser.add_argument("--host", default=DEFAULT_HOST, help=f"default {DEFAULT_HOST}")
    parser.add_argument(
        "--base-port",
        type=int,
        default=DEFAULT_BASE_PORT,
        help=f"port of environment; others follow by fixed offsets; 0 = ephemeral "
        f"(default {DEFAULT_BASE_PORT})",
    )
    add_dataset_arguments(parser)
    add_fault_arguments(parser)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m registries", description="Reference department registries."
    )
    commands = parser.add_subparsers(dest="command", required=True)
    serve = commands.add_parser("serve", help="serve the registry API of each department")
    add_serve_arguments(serve)
    samples = commands.add_parser("samples", help="print sample subject ids as JSON")
    add_dataset_arguments(samples)
    samples.add_argument("--limit-scan", type=int, default=5000, help="subjects to scan")
    return parser


def dataset_from_args(args: argparse.Namespace) -> Dataset:
    return Dataset(size=args.subjects, seed=args.seed, today=args.today)


def faults_from_args(args: argparse.Namespace) -> Faults:
    """The faults the flags ask for; raises pydantic.ValidationError for impossible values."""
    given = {
        name: getattr(args, f"fault_{name}")
        for name in Faults.model_fields
        if getattr(args, f"fault_{name}", None) is not None
    }
    return Faults(**given)


async def start_registries(
    departments: Sequence[str],
    dataset: Dataset,
    host: str = DEFAULT_HOST,
    base_port: int = DEFAULT_BASE_PORT,
    faults: Faults | None = None,
) -> list[RegistryServer]:
    """Start one registry per department; if one cannot listen, stop the others and raise."""
    servers: list[RegistryServer] = []
    try:
        for department in departments:
            server = RegistryServer(
                department, dataset, host, port_for(department, base_port), faults
            )
            await server.start()
            servers.append(server)
    except BaseException:
        await stop_registries(servers)
        raise
    return servers


async def stop_registries(servers: Sequence[RegistryServer]) -> None:
    await asyncio.gather(*(server.stop() for server in servers))


def announce(servers: Sequence[RegistryServer], out: TextIO) -> None:
    """One JSON line per registry: what a parent process waits for before it sends requests."""
    for server in servers:
        out.write(json.dumps({"department": server.department, "url": server.url}) + "\n")
    out.flush()


async def serve(args: argparse.Namespace, out: TextIO = sys.stdout) -> int:
    """Serve until SIGINT or SIGTERM."""
    dataset = dataset_from_args(args)
    faults = faults_from_args(args)
    try:
        servers = await start_registries(
            args.departments, dataset, args.host, args.base_port, faults
        )
    except OSError as exc:
        print(f"registries: cannot listen on {args.host}: {exc.strerror or exc}", file=sys.stderr)
        return 1
    stopping = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError):  # platforms without signal handlers
            loop.add_signal_handler(signum, stopping.set)
    try:
        announce(servers, out)
        await stopping.wait()
    finally:
        await stop_registries(servers)
    return 0


def run_registries_from_args(argv: Sequence[str] | None = None) -> int:
    """Parse `argv` (default: the process's) and run the command; returns the exit status."""
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        if args.command == "samples":
            samples = dataset_from_args(args).samples(args.limit_scan)
            print(json.dumps(samples, ensure_ascii=False, indent=2))
            return 0
        faults_from_args(args)
        with asyncio.Runner(loop_factory=_event_loop_factory()) as runner:
            return runner.run(serve(args))
    except pydantic.ValidationError as exc:
        parser.error(f"invalid fault settings: {exc.errors(include_url=False)[0]['msg']}")
    except (ValueError, LookupError) as exc:
        parser.error(str(exc))


def _event_loop_factory() -> Callable[[], asyncio.AbstractEventLoop] | None:
    """uvloop when installed (uvicorn[standard] brings it), as a department's production server
    would run: the reference registries share one process in benchmarks, where the default
    loop's per-request overhead queued four concurrent answers behind one another."""
    try:
        import uvloop
    except ImportError:
        return None
    return uvloop.new_event_loop


def main() -> None:
    sys.exit(run_registries_from_args())
