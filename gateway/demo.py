"""`credit-gateway demo`: the reference registries and the gateway, on embedded defaults.

Each registry runs in a process of its own, as a department's would, so a user can stop one
(`kill PID`) and watch its section fail while the rest of the profile resolves.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Sequence
from contextlib import suppress
from dataclasses import dataclass
from datetime import timedelta
from urllib.parse import quote

import orjson

from gateway.auth_settings import AuthSettings
from gateway.cli import serve_settings
from gateway.config_files import ConfigError
from gateway.settings import DEFAULTS_DIR, load_settings
from gateway.tokens import mint_dev_token
from registries.dataset import Dataset

REGISTRY_START_TIMEOUT_S = 60.0


@dataclass(frozen=True, slots=True)
class RunningRegistry:
    department: str
    url: str
    process: subprocess.Popen[bytes]


def run_demo(host: str, port: int, subjects: int, seed: int, registry_port: int) -> int:
    settings = load_settings(DEFAULTS_DIR / "demo.toml")
    departments = list(settings.enabled_connectors)
    registries: list[RunningRegistry] = []
    try:
        registries = start_registries(departments, subjects, seed, registry_port)
        urls = {r.department: r.url for r in registries}
        settings = load_settings(
            DEFAULTS_DIR / "demo.toml",
            {
                "server": {"host": host, "port": port},
                "connectors": {d: {"base_url": url} for d, url in urls.items()},
            },
        )
        samples = Dataset(size=subjects, seed=seed).samples()
        print_banner(host, port, registries, samples, demo_tokens(settings.auth))
        return serve_settings(settings)
    except (RuntimeError, ConfigError) as exc:
        print(f"credit-gateway demo: {exc}", file=sys.stderr)
        return 1
    finally:
        stop_registries(registries)


def start_registries(
    departments: Sequence[str], subjects: int, seed: int, base_port: int
) -> list[RunningRegistry]:
    """Start one registry process per department, all at once, and wait until each says where
    it listens."""
    launched: list[tuple[str, subprocess.Popen[bytes]]] = []
    started: list[RunningRegistry] = []
    try:
        for department in departments:
            process = subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "registries",
                    "serve",
                    "--departments",
                    department,
                    "--base-port",
                    str(base_port),
                    "--subjects",
                    str(subjects),
                    "--seed",
                    str(seed),
                ],
                stdout=subprocess.PIPE,
            )
            launched.append((department, process))
        for department, process in launched:
            started.append(RunningRegistry(department, _read_url(process, department), process))
    except BaseException:
        stop_registries([RunningRegistry(d, "", p) for d, p in launched])
        raise
    return started


def _read_url(process: subprocess.Popen[bytes], department: str) -> str:
    assert process.stdout is not None
    deadline = time.monotonic() + REGISTRY_START_TIMEOUT_S
    while time.monotonic() < deadline:
        line = process.stdout.readline()
        if not line:
            raise RuntimeError(
                f"the {department} registry exited with code {process.wait()} before listening "
                "(is its port already in use? try --registry-port)"
            )
        with suppress(ValueError):
            announced = json.loads(line)
            if announced.get("department") == department:
                return str(announced["url"])
    raise RuntimeError(f"the {department} registry did not start in time")


def stop_registries(registries: Sequence[RunningRegistry]) -> None:
    for registry in registries:
        if registry.process.poll() is None:
            registry.process.send_signal(signal.SIGTERM)
    for registry in registries:
        try:
            registry.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            registry.process.kill()


DEMO_ROLES: tuple[tuple[str, str | None, tuple[str, ...]], ...] = (
    ("credit_office", "credit_office", ("pii",)),
    ("environment_official", "environment", ()),
    ("quality_official", "quality", ()),
    ("health_official", "health", ()),
    ("commerce_official", "commerce", ()),
    ("food_drug_official", "food_drug", ()),
    ("bidding_official", "bidding", ()),
    ("tax_official", "tax", ()),
    ("auditor", None, ()),
)


def demo_tokens(auth: AuthSettings) -> dict[str, str]:
    """A dev token per sample role, valid for a day (Changsha officials)."""
    return {
        role + (" (+pii)" if scopes else ""): mint_dev_token(
            auth,
            [role],
            subject=f"demo-{role}",
            department=department,
            region="430100",
            scopes=scopes,
            ttl=timedelta(days=1),
        )
        for role, department, scopes in DEMO_ROLES
    }


def print_banner(
    host: str,
    port: int,
    registries: Sequence[RunningRegistry],
    samples: dict[str, str],
    tokens: dict[str, str],
) -> None:
    base = f"http://{host}:{port}"
    first = samples.get("clean") or next(iter(samples.values()))
    # GraphiQL opens with the example profile query; the link only fills in its variables.
    ide = f"{base}/graphql?variables={quote(orjson.dumps({'id': first}).decode())}"
    lines = [
        "",
        "credit-gateway demo",
        f"  GraphQL endpoint : {base}/graphql   (GraphiQL when opened in a browser)",
        f"  health / ready   : {base}/healthz  {base}/readyz",
        "",
        "  Sample subject ids (paste one into the `id` variable of the example query):",
        *(f"    {kind:<20} {subject_id}" for kind, subject_id in samples.items()),
        "",
        "  Dev tokens (send as `Authorization: Bearer <token>`; without one you are the public):",
        *(f"    {role:<24} {token}" for role, token in tokens.items()),
        "",
        "  Reference registries (stop one with `kill PID` to see its section fail alone):",
        *(f"    {r.department:<12} {r.url}   pid {r.process.pid}" for r in registries),
        "",
        "  Try it from a shell:",
        f"    curl -s {base}/graphql -H 'content-type: application/json' \\",
        '      -d \'{"query": "{ subject(id: \\"'
        + first
        + '\\") { name sources { department status } } }"}\'',
        "",
        "  Joint measures (with the credit_office token): the dishonest sample in the",
        "  public-resource bidding matter, then the red-listed and the clean ones:",
        '    { subject(id: "<id>", matter: "BD-BIDDER-ADMISSION") { jointMeasures {',
        "        restrictions { measure { id name } bases { entry { listName } } }",
        "        incentives { measure { id } } } } }",
        "",
        "  GraphiQL with the example query and the first sample ready to run:",
        f"    {ide}",
        "",
        f"  Stop with Ctrl-C. (process {os.getpid()})",
        "",
    ]
    print("\n".join(lines), flush=True)
