"""The real processes an end-to-end test of the server runs against, and small HTTP helpers.

Four reference registries in one process (ephemeral ports, announced on stdout) and
`credit-gateway serve --config` on port 0 with a SQLite audit file; both started through
`bench.harness.ProcessGroup`, which always stops them. Readiness is polled, never slept for.
"""

from __future__ import annotations

import socket
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from bench.harness import (
    ManagedProcess,
    ProcessGroup,
    start_reference_registries,
    uvicorn_port,
    wait_http_ok,
    wait_until,
)
from schema.examples import PROFILE_QUERY

CLI = str(Path(sys.executable).parent / "credit-gateway")
DEPARTMENTS = ("environment", "quality", "health", "commerce")
SUBJECTS = 1000
SEED = 42
START_TIMEOUT_S = 90.0
WAIT_S = 60.0
"""Ceiling of every wait for something that normally takes well under a few seconds."""


@dataclass
class Stack:
    registries: dict[str, str]
    gateway: ManagedProcess
    base: str
    port: int
    audit_db: Path

    @property
    def audit_url(self) -> str:
        return f"sqlite:///{self.audit_db}"


def start_stack(
    tmp_path: Path, group: ProcessGroup, *, timeout_s: float, server: dict[str, int]
) -> Stack:
    """The registries and a gateway whose connectors wait `timeout_s` and whose `[server]` table
    holds `server` (besides host and port)."""
    registries = start_reference_registries(
        group, DEPARTMENTS, subjects=SUBJECTS, seed=SEED, timeout_s=START_TIMEOUT_S
    )
    audit_db = tmp_path / "audit.db"
    lines = ["[server]", 'host = "127.0.0.1"', "port = 0"]
    lines += [f"{key} = {value}" for key, value in server.items()]
    lines += ["", "[audit]", f'url = "sqlite:///{audit_db}"']
    for department, url in registries.items():
        lines += [
            "",
            f"[connectors.{department}]",
            f'base_url = "{url}"',
            f"timeout_s = {timeout_s}",
        ]
    config = tmp_path / "gateway.toml"
    config.write_text("\n".join(lines) + "\n", encoding="utf-8")
    gateway = group.start("gateway", [CLI, "serve", "--config", str(config)])
    port = wait_until(gateway, lambda: uvicorn_port(gateway), START_TIMEOUT_S, "listen")
    base = f"http://127.0.0.1:{port}"
    wait_http_ok(gateway, f"{base}/healthz", START_TIMEOUT_S)
    return Stack(registries, gateway, base, port, audit_db)


def set_faults(registry: str, faults: dict[str, Any]) -> None:
    """Replace a registry's faults and zero its call counters."""
    httpx.put(f"{registry}/admin/faults", json=faults, timeout=10).raise_for_status()
    httpx.delete(f"{registry}/admin/stats", timeout=10).raise_for_status()


def subject_calls(registry: str) -> int:
    """Calls for subjects a registry has received (counted on arrival, before any fault)."""
    stats = httpx.get(f"{registry}/admin/stats", timeout=10).json()
    return int(stats["single"]) + int(stats["batch"])


def wait_for_calls(stack: Stack, registry: str, calls: int) -> None:
    """Until `registry` has been asked `calls` times: the lookups are inside the gateway."""
    wait_until(
        stack.gateway,
        lambda: True if subject_calls(registry) >= calls else None,
        WAIT_S,
        f"ask its registry {calls} times",
    )


def lookup(base: str, subject_id: str, request_id: str) -> httpx.Response:
    """One public profile lookup on a connection of its own."""
    with httpx.Client(timeout=WAIT_S) as client:
        return client.post(
            f"{base}/graphql",
            json={"query": PROFILE_QUERY, "variables": {"id": subject_id}},
            headers={"x-request-id": request_id},
        )


def refuses_connections(port: int) -> bool:
    with socket.socket() as probe:
        probe.settimeout(1.0)
        return probe.connect_ex(("127.0.0.1", port)) != 0
