"""The servers a benchmark runs against: started as subprocesses on loopback, always stopped.

A benchmark that leaves a server behind spoils every later run on a 2-core machine (the orphan keeps
a port and, worse, competes for the cores), so every process is started through a `ProcessGroup`
whose exit terminates, then kills, what it started, whatever made the benchmark stop (an error,
Ctrl-C, or SIGTERM turned into KeyboardInterrupt by the caller).

Each server runs in a session of its own, so a terminal Ctrl-C reaches only the benchmark, which
then stops the servers in order. Each writes its stdout and stderr to one log file that is polled,
rather than to a pipe: nothing can block on a full pipe, readiness can be waited for with a
deadline, and the log's tail is there to show when a server fails.
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
import types
import urllib.error
import urllib.request
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO, TypeVar

T = TypeVar("T")

PROJECT_ROOT = Path(__file__).resolve().parent.parent
"""Where `python -m registries` and the gateway's packages are importable from."""

STOP_TIMEOUT_S = 10.0
"""How long a terminated server may take to exit before it is killed (uvicorn drains up to 10 s)."""
_POLL_S = 0.05
_UVICORN_LISTENING = re.compile(r"Uvicorn running on http://[^\s:]+:(\d+)")


@dataclass(frozen=True, slots=True)
class Placement:
    """Which cores the server under test runs on, and which the rest of the testbed does.

    In production the gateway, its registries and its clients are different machines. Here they
    share two cores, and when one process wakes another through a loopback socket, Linux tends to
    run the woken one on the waker's core at once (a socket wakeup is a "sync" wakeup: the kernel
    expects the writer to sleep next). A gateway writing its four upstream requests, or its
    response, is then pushed off its core by the registries or the load generator for a few
    hundred microseconds, in the middle of its own work: a registry's or a client's cost on
    the gateway's clock, which separate machines do not have. Giving the server a core of its own
    (`os.sched_setaffinity`) keeps the testbed's other processes off it.
    """

    server: frozenset[int]
    rest: frozenset[int]

    @classmethod
    def split(cls, cores: Collection[int] | None = None) -> Placement | None:
        """The lowest core for the server and the others for the rest; None with fewer than two
        cores (nothing to separate) or where affinity cannot be set."""
        if cores is None:
            if not hasattr(os, "sched_getaffinity"):
                return None
            cores = os.sched_getaffinity(0)
        ordered = sorted(cores)
        if len(ordered) < 2:
            return None
        return cls(frozenset(ordered[:1]), frozenset(ordered[1:]))

    def describe(self) -> str:
        def names(cores: frozenset[int]) -> str:
            return ", ".join(str(core) for core in sorted(cores))

        return (
            f"server on core {names(self.server)}; "
            f"registries and load generator on {names(self.rest)}"
        )


class StartError(RuntimeError):
    """A server exited or did not become ready in time; the message ends with its log's tail."""


@dataclass
class ManagedProcess:
    """One server subprocess and the file its output goes to."""

    name: str
    popen: subprocess.Popen[bytes]
    log_path: Path

    @property
    def pid(self) -> int:
        return self.popen.pid

    def log_text(self) -> str:
        try:
            return self.log_path.read_text(encoding="utf-8", errors="replace")
        except OSError:
            return ""

    def tail(self, lines: int = 25) -> str:
        return "\n".join(self.log_text().splitlines()[-lines:])

    def failure(self, what: str) -> StartError:
        tail = self.tail() or "(no output)"
        return StartError(f"{self.name}: {what}; last lines of its log:\n{tail}")

    def stop(self, timeout_s: float = STOP_TIMEOUT_S) -> None:
        """SIGTERM, wait, then SIGKILL: a graceful stop when possible, a certain one always.

        A Ctrl-C while waiting (an impatient user) kills at once instead of leaving the process.
        """
        if self.popen.poll() is None:
            self.popen.terminate()
            try:
                self.popen.wait(timeout=timeout_s)
            except (subprocess.TimeoutExpired, KeyboardInterrupt):
                self.popen.kill()
                self.popen.wait()


class ProcessGroup:
    """The subprocesses of one benchmark run; leaving the `with` block stops them all."""

    def __init__(self, log_dir: Path) -> None:
        self._log_dir = log_dir
        self._processes: list[ManagedProcess] = []
        self._logs: list[IO[bytes]] = []

    def start(
        self, name: str, argv: Sequence[str], cores: Collection[int] | None = None
    ) -> ManagedProcess:
        """Start `argv`; with `cores`, it runs on those cores only (threads it starts too)."""
        log_path = self._log_dir / f"{name}.log"
        log = log_path.open("wb")
        self._logs.append(log)
        env = {**os.environ, "PYTHONUNBUFFERED": "1"}
        popen = subprocess.Popen(
            list(argv),
            cwd=PROJECT_ROOT,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            # A session of its own: a Ctrl-C in the terminal reaches only the benchmark, which
            # then stops the servers in order, instead of servers dying under a running client.
            start_new_session=True,
        )
        process = ManagedProcess(name, popen, log_path)
        self._processes.append(process)
        if cores:
            # Set before the interpreter has started any thread (Python takes tens of
            # milliseconds to start): every thread it makes inherits the affinity.
            os.sched_setaffinity(popen.pid, cores)
        return process

    def stop_all(self) -> None:
        """Stop in reverse order of start (the gateway before the registries it calls)."""
        # Terminate everything first, so the processes shut down in parallel, then wait for each.
        for process in reversed(self._processes):
            if process.popen.poll() is None:
                process.popen.terminate()
        for process in reversed(self._processes):
            process.stop()
        for log in self._logs:
            log.close()
        self._processes.clear()
        self._logs.clear()

    def __enter__(self) -> ProcessGroup:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: types.TracebackType | None,
    ) -> None:
        if isinstance(exc, Exception):
            self.report_dead()
        self.stop_all()

    def report_dead(self) -> None:
        """Show the log tail of every server that has exited: the likely cause of a failure."""
        for process in self._processes:
            code = process.popen.poll()
            if code is not None:
                tail = process.tail() or "(no output)"
                print(
                    f"{process.name} exited with code {code}; last lines of its log:\n{tail}",
                    file=sys.stderr,
                )


def wait_until(
    process: ManagedProcess, probe: Callable[[], T | None], timeout_s: float, what: str
) -> T:
    """Poll `probe` until it returns a value; fail early if the process exits meanwhile."""
    deadline = time.monotonic() + timeout_s
    while True:
        found = probe()
        if found is not None:
            return found
        code = process.popen.poll()
        if code is not None:
            raise process.failure(f"exited with code {code} before {what}")
        if time.monotonic() > deadline:
            raise process.failure(f"did not {what} within {timeout_s:g} s")
        time.sleep(_POLL_S)


def registry_urls(process: ManagedProcess, departments: Sequence[str]) -> dict[str, str]:
    """The URL of each department, once the registries' process has announced all of them.

    ``python -m registries serve`` prints one JSON line ``{"department", "url"}`` per registry, and
    only after every registry listens.
    """
    announced: dict[str, str] = {}
    for line in process.log_text().splitlines():
        if not line.startswith("{"):
            continue
        try:
            entry = json.loads(line)
        except ValueError:
            continue
        if isinstance(entry, dict) and entry.get("department") in departments:
            announced[str(entry["department"])] = str(entry["url"])
    return announced if len(announced) == len(departments) else {}


def start_reference_registries(
    group: ProcessGroup,
    departments: Sequence[str],
    *,
    subjects: int,
    seed: int,
    extra_args: Sequence[str] = (),
    timeout_s: float = 60.0,
    cores: Collection[int] | None = None,
) -> dict[str, str]:
    """The reference registries of `departments` in one process (fewer processes competing for
    the 2 cores), on ephemeral loopback ports; their URLs once every one listens."""
    process = group.start(
        "registries",
        [
            sys.executable,
            "-m",
            "registries",
            "serve",
            "--departments",
            ",".join(departments),
            "--host",
            "127.0.0.1",
            "--base-port",
            "0",
            "--subjects",
            str(subjects),
            "--seed",
            str(seed),
            *extra_args,
        ],
        cores,
    )
    return wait_until(
        process,
        lambda: registry_urls(process, departments) or None,
        timeout_s,
        "announce its registries",
    )


def uvicorn_port(process: ManagedProcess) -> int | None:
    """The port uvicorn bound (it logs the real one when asked for port 0), once it listens."""
    match = _UVICORN_LISTENING.search(process.log_text())
    return int(match.group(1)) if match else None


def http_ok(url: str) -> bool:
    """Whether a GET of `url` answers 200 now (no proxy: everything here is on loopback)."""
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    try:
        with opener.open(url, timeout=2.0) as response:
            return int(response.status) == 200
    except (urllib.error.URLError, OSError):
        return False


def wait_http_ok(process: ManagedProcess, url: str, timeout_s: float) -> None:
    wait_until(process, lambda: True if http_ok(url) else None, timeout_s, f"answer GET {url}")


def cpu_seconds(pid: int) -> float | None:
    """User plus system CPU time of a process so far (Linux /proc); None where unavailable.

    CPU time per request is the figure least disturbed by noisy neighbours: waiting for a core does
    not count, so it complements the requests-per-second figures.
    """
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    # Field 2 (comm) may contain spaces; everything after its closing parenthesis is split safely.
    fields = stat[stat.rindex(")") + 2 :].split()
    ticks = int(fields[11]) + int(fields[12])  # utime, stime (fields 14 and 15 of stat)
    return ticks / os.sysconf("SC_CLK_TCK")


def rss_bytes(pid: int) -> int | None:
    """Resident set size of a process now (Linux /proc); None where unavailable."""
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return None
    for line in status.splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024  # reported in kB
    return None


def open_fds(pid: int) -> int | None:
    """How many file descriptors a process holds open now (sockets, files, pipes)."""
    try:
        return len(os.listdir(f"/proc/{pid}/fd"))
    except OSError:
        return None


def fd_kinds(pid: int, server_port: int, upstream_ports: Collection[int]) -> dict[str, int] | None:
    """A process's open FDs by what they are: `listening` sockets, `clients` (connections to its
    `server_port`), `upstreams` (connections to any of `upstream_ports`), `other_sockets`,
    `files` (paths: the audit database, logs) and `other` (pipes, epoll, eventfd ...).

    Sockets are told apart through /proc/<pid>/net/tcp{,6}: a leak then shows in its own column
    instead of hiding among the connections a pool is entitled to keep.
    """
    try:
        fds = os.listdir(f"/proc/{pid}/fd")
    except OSError:
        return None
    links: list[str] = []
    for fd in fds:
        try:
            links.append(os.readlink(f"/proc/{pid}/fd/{fd}"))
        except OSError:  # closed meanwhile
            continue
    sockets = _tcp_sockets(pid)
    kinds = dict.fromkeys(
        ("listening", "clients", "upstreams", "other_sockets", "files", "other"), 0
    )
    for link in links:
        if link.startswith("socket:["):
            local, remote, listening = sockets.get(link[8:-1], (0, 0, False))
            if listening:
                kinds["listening"] += 1
            elif local == server_port:
                kinds["clients"] += 1
            elif remote in upstream_ports:
                kinds["upstreams"] += 1
            else:
                kinds["other_sockets"] += 1
        elif link.startswith("/"):
            kinds["files"] += 1
        else:
            kinds["other"] += 1
    return kinds


def _tcp_sockets(pid: int) -> dict[str, tuple[int, int, bool]]:
    """Socket inode -> (local port, remote port, listening) of the TCP sockets `pid` can see."""
    table: dict[str, tuple[int, int, bool]] = {}
    for name in ("tcp", "tcp6"):
        try:
            lines = Path(f"/proc/{pid}/net/{name}").read_text().splitlines()[1:]
        except OSError:
            continue
        for line in lines:
            fields = line.split()
            if len(fields) < 10:
                continue
            local = int(fields[1].rsplit(":", 1)[1], 16)
            remote = int(fields[2].rsplit(":", 1)[1], 16)
            table[fields[9]] = (local, remote, fields[3] == "0A")
    return table


def console_script(name: str) -> list[str]:
    """The argv prefix running a console script of this virtualenv (next to the interpreter)."""
    script = Path(sys.executable).parent / name
    if script.exists():
        return [str(script)]
    raise StartError(f"{name} is not installed next to {sys.executable}; run `make` first")


def run_benchmark(
    name: str,
    body: Callable[[Callable[[str], None]], int],
    failures: tuple[type[Exception], ...],
) -> int:
    """A benchmark's `main` around `body(log)`, which runs it and returns the exit code.

    SIGTERM (a CI timeout, `kill`) unwinds like Ctrl-C, so the servers the run started are
    stopped either way; an interrupt exits 130, an expected failure (`failures`) is one line on
    stderr and exit 1, not a traceback."""
    signal.signal(signal.SIGTERM, signal.default_int_handler)

    def log(message: str) -> None:
        print(f"[{name}] {message}", file=sys.stderr, flush=True)

    try:
        return body(log)
    except KeyboardInterrupt:
        log("interrupted; every server this run started has been stopped")
        return 130
    except failures as exc:
        log(f"failed: {exc}")
        return 1
