"""The console script as a user runs it: `credit-gateway demo`, `serve`, `export-schema`."""

from __future__ import annotations

import os
import queue
import re
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import IO

import httpx
import pytest

from connectors.catalog import DEPARTMENTS
from schema import export_sdl
from schema.examples import PROFILE_QUERY

pytestmark = pytest.mark.e2e

CLI = str(Path(sys.executable).parent / "credit-gateway")
STARTUP_TIMEOUT_S = 90.0


def _free_port_block(size: int) -> int:
    """A first port of `size` consecutive free loopback ports."""
    for _ in range(50):
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            base = int(probe.getsockname()[1])
        if base + size >= 65000:
            continue
        if all(_is_free(base + offset) for offset in range(size)):
            return base
    raise RuntimeError("no free port block")


def _is_free(port: int) -> bool:
    with socket.socket() as probe:
        try:
            probe.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def _accepts(port: int) -> bool:
    with socket.socket() as probe:
        probe.settimeout(0.5)
        return probe.connect_ex(("127.0.0.1", port)) == 0


class Output:
    """Lines of a process's stdout, readable with a timeout."""

    def __init__(self, process: subprocess.Popen[str]) -> None:
        self.lines: queue.Queue[str] = queue.Queue()
        self.seen: list[str] = []
        assert process.stdout is not None
        stream = process.stdout
        threading.Thread(target=self._pump, args=(stream,), daemon=True).start()

    def _pump(self, stream: IO[str]) -> None:
        for line in stream:
            self.lines.put(line)

    def until(self, pattern: str, timeout: float) -> list[str]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                line = self.lines.get(timeout=0.2)
            except queue.Empty:
                continue
            self.seen.append(line)
            if re.search(pattern, line):
                return self.seen
        raise AssertionError(f"{pattern!r} not printed; got:\n{''.join(self.seen)}")


@pytest.fixture
def demo(tmp_path: Path) -> Iterator[tuple[subprocess.Popen[str], Output, int, int]]:
    """The demo as a user starts it, in a working directory of its own (it writes ./var/)."""
    port = _free_port_block(1)
    registry_port = _free_port_block(len(ALL_DEPARTMENTS))
    process = subprocess.Popen(
        [
            CLI,
            "demo",
            "--port",
            str(port),
            "--registry-port",
            str(registry_port),
            "--subjects",
            "1000",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
        cwd=tmp_path,
    )
    try:
        yield process, Output(process), port, registry_port
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGINT)
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


ALL_DEPARTMENTS = tuple(DEPARTMENTS)
MEASURES_QUERY = """query($id: ID!, $matter: ID) { subject(id: $id, matter: $matter) {
  jointMeasures { complete
    restrictions { measure { id } bases { entry { listType category current } } }
    incentives { measure { id } } } } }"""


def _query(
    port: int,
    subject_id: str,
    token: str | None = None,
    query: str = PROFILE_QUERY,
    matter: str | None = None,
) -> dict[str, object]:
    headers = {"authorization": f"Bearer {token}"} if token else {}
    variables = {"id": subject_id, "matter": matter}
    for _ in range(100):
        try:
            response = httpx.post(
                f"http://127.0.0.1:{port}/graphql",
                json={"query": query, "variables": variables},
                headers=headers,
                timeout=30,
            )
            body: dict[str, object] = response.json()
            return body
        except httpx.ConnectError:
            time.sleep(0.2)
    raise AssertionError("the gateway never answered")


def test_demo_as_a_new_user_tries_it(
    demo: tuple[subprocess.Popen[str], Output, int, int],
) -> None:
    process, output, port, registry_port = demo
    banner = "".join(output.until(r"Stop with Ctrl-C", STARTUP_TIMEOUT_S))
    assert f"http://127.0.0.1:{port}/graphql" in banner
    samples = dict(
        re.findall(r"^\s+(clean|penalised|dishonest|red|natural_person)\s+(\S+)$", banner, re.M)
    )
    assert set(samples) == {"clean", "penalised", "dishonest", "red", "natural_person"}
    pids = dict(re.findall(r"^\s+(\w+)\s+http://\S+\s+pid (\d+)$", banner, re.M))
    assert set(pids) == set(ALL_DEPARTMENTS)
    tokens = dict(re.findall(r"^\s+(\w+)(?: \(\+pii\))?\s+(eyJ\S+)$", banner, re.M))
    assert {"credit_office", "environment_official", "auditor"} <= set(tokens)

    official = _query(
        port,
        samples["dishonest"],
        tokens["environment_official"],
        "query($id: ID!, $matter: ID) { subject(id: $id, matter: $matter) { environment { name "
        "} lists { category } "
        "health { name } } }",
        matter="ENV-DISCHARGE-PERMIT",
    )
    subject = official["data"]["subject"]  # type: ignore[index]
    assert subject["environment"] is not None
    assert subject["lists"]
    assert subject["health"] is None
    assert official["errors"][0]["extensions"]["code"] == "FORBIDDEN"  # type: ignore[index]

    # Without a matter the official's lookup is refused; with one, a natural person's id number
    # comes back masked (the official has no `pii` scope).
    refused = _query(port, samples["dishonest"], tokens["environment_official"])
    assert refused["data"] == {"subject": None}
    assert refused["errors"][0]["extensions"]["code"] == "PURPOSE_REQUIRED"  # type: ignore[index]
    person = samples["natural_person"]
    masked = _query(
        port,
        person,
        tokens["environment_official"],
        "query($id: ID!, $matter: ID) { subject(id: $id, matter: $matter) { id kind } }",
        matter="ENV-DISCHARGE-PERMIT",
    )
    assert masked["data"] == {
        "subject": {"id": person[:6] + "********" + person[-4:], "kind": "NATURAL_PERSON"}
    }

    body = _query(port, samples["clean"])
    assert "errors" not in body
    subject = body["data"]["subject"]  # type: ignore[index]
    for department in ("environment", "quality", "health", "commerce"):
        assert subject[department] is not None
    rows = {s["department"]: s["status"] for s in subject["sources"]}
    assert set(rows) == set(ALL_DEPARTMENTS)  # lists and grades consult every department
    assert {rows[d] for d in ("environment", "quality", "health", "commerce")} == {"OK"}
    assert set(rows.values()) <= {"OK", "NOT_FOUND"}

    # Joint measures in the public-resource bidding matter: the dishonest subject is restricted
    # with its list entry as the basis, the red-listed one gets the bidding bonus, the clean one
    # neither.
    measures = {
        kind: _query(
            port,
            samples[kind],
            tokens["credit_office"],
            MEASURES_QUERY,
            matter="BD-BIDDER-ADMISSION",
        )["data"]["subject"]["jointMeasures"]  # type: ignore[index]
        for kind in ("dishonest", "red", "clean")
    }
    restricted = {m["measure"]["id"]: m for m in measures["dishonest"]["restrictions"]}
    assert "P_PUBLIC_RESOURCE" in restricted
    basis = restricted["P_PUBLIC_RESOURCE"]["bases"][0]["entry"]
    assert basis["category"] == "BLACK"
    assert basis["current"] is True
    assert [m["measure"]["id"] for m in measures["red"]["incentives"]] == ["I_BIDDING_BONUS"]
    assert measures["red"]["restrictions"] == []
    assert measures["clean"] == {
        "complete": True,
        "restrictions": [],
        "incentives": [],
    }

    os.kill(int(pids["environment"]), signal.SIGTERM)
    for _ in range(100):
        if not _accepts(registry_port):
            break
        time.sleep(0.1)
    body = _query(port, samples["penalised"])
    subject = body["data"]["subject"]  # type: ignore[index]
    assert subject["environment"] is None
    for department in ("quality", "health", "commerce"):
        assert subject[department] is not None
    errors = body["errors"]
    assert [e["extensions"]["code"] for e in errors] == ["SOURCE_UNAVAILABLE"]  # type: ignore[attr-defined]
    assert errors[0]["path"] == ["subject", "environment"]  # type: ignore[index]
    rows = {s["department"]: s["status"] for s in subject["sources"]}
    assert rows["environment"] == "ERROR"

    process.send_signal(signal.SIGINT)
    assert process.wait(timeout=30) == 0
    for offset in range(1, len(ALL_DEPARTMENTS)):  # the others were stopped with the demo
        assert not _accepts(registry_port + offset)


def test_token_mints_a_dev_token_for_the_demo_config() -> None:
    import jwt

    result = subprocess.run(
        [
            CLI,
            "token",
            "--role",
            "health_official",
            "--department",
            "health",
            "--region",
            "430100",
            "--scope",
            "pii",
            "--ttl",
            "30m",
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    claims = jwt.decode(result.stdout.strip(), options={"verify_signature": False})
    assert claims["roles"] == ["health_official"]
    assert claims["department"] == "health"
    assert claims["region"] == "430100"
    assert claims["scope"] == "pii"
    assert 1790 <= claims["exp"] - claims["iat"] <= 1800


def test_export_schema_prints_the_checked_in_sdl() -> None:
    result = subprocess.run([CLI, "export-schema"], capture_output=True, text=True, check=True)
    assert result.stdout == export_sdl()


def test_serve_refuses_a_bad_config_naming_the_key(tmp_path: Path) -> None:
    config = tmp_path / "gateway.toml"
    config.write_text('[connectors.environment]\nbase_url = "not a url"\ntimeout_s = -1\n')
    result = subprocess.run(
        [CLI, "serve", "--config", str(config)], capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 2
    assert "connectors.environment.base_url" in result.stderr
    assert "connectors.environment.timeout_s" in result.stderr


def test_serve_refuses_a_missing_config(tmp_path: Path) -> None:
    result = subprocess.run(
        [CLI, "serve", "--config", str(tmp_path / "nope.toml")],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 2
    assert "cannot read config" in result.stderr


def test_serve_runs_from_a_config_file(tmp_path: Path) -> None:
    registry_port = _free_port_block(4)
    port = _free_port_block(1)
    registries = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "registries",
            "serve",
            "--departments",
            "environment,quality,health,commerce",
            "--base-port",
            str(registry_port),
            "--subjects",
            "1000",
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    config = tmp_path / "gateway.toml"
    config.write_text(
        "".join(
            f'[connectors.{d}]\nbase_url = "http://127.0.0.1:{registry_port + i}"\n'
            for i, d in enumerate(("environment", "quality", "health", "commerce"))
        )
    )
    gateway = subprocess.Popen(
        [CLI, "serve", "--config", str(config), "--port", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        Output(registries).until(r'"commerce"', STARTUP_TIMEOUT_S)
        body = _query(port, "91110000600037341L")
        assert body["data"]["subject"]["kind"] == "LEGAL_PERSON"  # type: ignore[index]
        ready = httpx.get(f"http://127.0.0.1:{port}/readyz", timeout=10).json()
        assert ready["status"] == "ok"
    finally:
        for process in (gateway, registries):
            process.send_signal(signal.SIGINT)
        for process in (gateway, registries):
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()


def test_demo_stops_its_registries_on_sigterm(
    demo: tuple[subprocess.Popen[str], Output, int, int],
) -> None:
    process, output, port, registry_port = demo
    output.until(r"Stop with Ctrl-C", STARTUP_TIMEOUT_S)
    for _ in range(100):
        if _accepts(port):
            break
        time.sleep(0.1)
    process.send_signal(signal.SIGTERM)
    assert process.wait(timeout=30) == 0
    assert not any(_accepts(registry_port + offset) for offset in range(4))


def test_demo_lookups_are_audited_and_a_hand_edit_is_found(
    demo: tuple[subprocess.Popen[str], Output, int, int], tmp_path: Path
) -> None:
    import sqlite3

    _process, output, port, _ = demo
    banner = "".join(output.until(r"Stop with Ctrl-C", STARTUP_TIMEOUT_S))
    samples = dict(re.findall(r"^\s+(clean|penalised|dishonest)\s+(\S+)$", banner, re.M))
    for subject_id in samples.values():
        assert "errors" not in _query(port, subject_id)
    database = tmp_path / "var" / "audit.db"
    url = f"sqlite:///{database}"
    verified = subprocess.run(
        [CLI, "audit", "verify", "--url", url], capture_output=True, text=True, timeout=60
    )
    assert verified.returncode == 0, verified.stdout + verified.stderr
    with sqlite3.connect(database) as db:
        db.execute(
            "UPDATE audit_log SET entry = replace(entry, 'anonymous', 'someone') WHERE seq = 2"
        )
    broken = subprocess.run(
        [CLI, "audit", "verify", "--url", url], capture_output=True, text=True, timeout=60
    )
    assert broken.returncode == 1
    assert "2" in broken.stdout


@pytest.mark.parametrize(
    ("extra", "words"),
    [
        ('[access]\npolicy = "{tmp}/policy.toml"\n', "policy.toml:2: role x: 'Subject.nope'"),
        ('[audit]\nurl = "postgresql://nobody@127.0.0.1:1/x"\n', "[audit] cannot connect"),
    ],
    ids=["bad policy", "audit store unreachable"],
)
def test_serve_refuses_to_start_without_its_policy_or_audit(
    tmp_path: Path, extra: str, words: str
) -> None:
    (tmp_path / "policy.toml").write_text('[roles.x]\nfields = ["Subject.nope"]\n')
    config = tmp_path / "gateway.toml"
    config.write_text(
        extra.format(tmp=tmp_path) + '[connectors.environment]\nbase_url = "http://127.0.0.1:9"\n'
    )
    result = subprocess.run(
        [CLI, "serve", "--config", str(config)], capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 2
    assert words in result.stderr
    assert "Traceback" not in result.stderr
