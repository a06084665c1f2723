"""The timeline benchmark: its segments, its gaps, its files, and a probe that fits the libraries
installed."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from bench.timeline import Request, load, probed, report, segments, widest_gaps
from bench.timeline_probe import Timeline

PROJECT_ROOT = Path(__file__).resolve().parents[2]


WAIT_US = 20000.0
"""Between the last request written and the first answer the server waits: no CPU time."""


def _request(shift: float = 0.0) -> Request:
    """A cold profile's marks (µs): the way out, the wait, two answers, the way back; the server
    works all the time but for the wait."""
    marks = [
        ("in", 0.0),
        ("start", 500.0),
        ("sent", 900.0),
        ("start", 950.0),
        ("sent", 1500.0),
        ("ans", 21500.0),
        ("hdr", 21650.0),
        ("val", 21800.0),
        ("ans", 21900.0),
        ("hdr", 21920.0),
        ("val", 22200.0 + shift),
        ("done", 22700.0 + shift),
        ("out", 23000.0 + shift),
    ]
    return [(name, t, t if t < 21500.0 else t - WAIT_US) for name, t in marks]


def test_segments_read_the_marks_they_name() -> None:
    requests = [_request() for _ in range(10)]
    by_name = {segment.name: segment for segment in segments(requests)}
    assert by_name["request read, first load started"].middle_us == 500.0
    assert by_name["first upstream request written"].middle_us == 900.0
    assert by_name["first to last upstream request written"].middle_us == 600.0
    assert by_name["first upstream request to its first answer"].middle_us == 20600.0
    assert by_name["first answer to last record validated"].middle_us == 700.0
    assert by_name["last record validated to execution's end"].middle_us == 500.0
    assert by_name["first answer's bytes to its headers parsed"].middle_us == 150.0
    assert by_name["last answer's bytes to its headers parsed"].middle_us == 20.0
    assert by_name["whole request"].slowest_us == 23000.0


def test_cpu_share_tells_work_from_waiting() -> None:
    by_name = {segment.name: segment for segment in segments([_request() for _ in range(10)])}
    assert by_name["first answer to response written"].cpu_share == 1.0
    # Only the work of writing the second request, then the wait.
    assert by_name["first upstream request to its first answer"].cpu_share == 600.0 / 20600.0
    assert by_name["whole request"].cpu_share == (23000.0 - WAIT_US) / 23000.0


def test_cpu_share_is_unknown_without_cpu_marks() -> None:
    requests: list[Request] = [[(name, t, None) for name, t, _ in _request()] for _ in range(10)]
    assert all(segment.cpu_share is None for segment in segments(requests))
    assert "-" in report("floor", requests).splitlines()[2]


def test_the_slowest_tenth_is_told_apart_and_marks_a_server_lacks_are_left_out() -> None:
    requests = [_request() for _ in range(9)] + [_request(shift=4000.0)]
    by_name = {segment.name: segment for segment in segments(requests)}
    assert by_name["whole request"].middle_us == 23000.0
    assert by_name["whole request"].slowest_us == 27000.0
    floor = [[mark for mark in _request() if mark[0] not in ("start", "val", "done")]]
    names = {segment.name for segment in segments(floor)}
    assert "first answer to last record validated" not in names
    assert "first answer to response written" in names


def test_widest_gaps_leave_out_the_registries_wait() -> None:
    request = _request(shift=3000.0)
    assert widest_gaps(request, 2) == [(3280.0, "hdr", "val"), (550.0, "start", "sent")]


def test_load_keeps_cold_profiles_only(tmp_path: Path) -> None:
    cold = [["in", 1_000, 500], *[["ans", 2_000 + i, 600] for i in range(4)], ["out", 9_000, 2_500]]
    warm = [["in", 1_000, 500], ["out", 3_000, 2_500]]
    path = tmp_path / "gateway.json"
    path.write_text(json.dumps([warm, cold]), encoding="utf-8")
    (loaded,) = load(path)
    assert loaded[0] == ("in", 0.0, 0.0)
    assert loaded[-1] == ("out", 8.0, 2.0)


def test_load_reads_a_file_without_cpu_times(tmp_path: Path) -> None:
    cold = [["in", 1_000], *[["ans", 2_000 + i] for i in range(4)], ["out", 9_000]]
    path = tmp_path / "floor.json"
    path.write_text(json.dumps([cold]), encoding="utf-8")
    (loaded,) = load(path)
    assert loaded[-1] == ("out", 8.0, None)


def test_a_timeline_records_whole_requests_only(tmp_path: Path) -> None:
    timeline = Timeline(tmp_path / "marks.json")
    timeline.mark("sent")  # before any request: dropped
    timeline.begin()
    timeline.begin()  # more bytes of the same request
    timeline.mark("sent")
    timeline.end()
    timeline.mark("ans")  # after the response: dropped
    timeline.dump()
    (request,) = json.loads((tmp_path / "marks.json").read_text(encoding="utf-8"))
    assert [name for name, _, _ in request] == ["in", "sent", "out"]
    walls = [wall for _, wall, _ in request]
    cpus = [cpu for _, _, cpu in request]
    assert walls == sorted(walls)
    assert cpus == sorted(cpus)


def test_servers_run_under_the_probe(tmp_path: Path) -> None:
    argv = probed(tmp_path)("floor", [sys.executable, "-m", "bench.floor_app", "--config", "c"])
    assert argv == [
        sys.executable,
        "-m",
        "bench.timeline_probe",
        str(tmp_path / "floor.json"),
        "bench.floor_app",
        "--config",
        "c",
    ]


def test_the_probe_fits_the_installed_libraries() -> None:
    """Every method the probe wraps exists in the uvicorn, aiohttp and gateway installed (a
    renamed internal fails here, not in the middle of a benchmark)."""
    script = (
        "from pathlib import Path\n"
        "from bench.timeline_probe import install\n"
        "install(Path('unused.json'))\n"
        "from aiohttp import client_proto, client_reqrep\n"
        "from uvicorn.protocols.http import httptools_impl\n"
        "from gateway.source import Source\n"
        "wrapped = [httptools_impl.HttpToolsProtocol.data_received,\n"
        "    httptools_impl.RequestResponseCycle.send, client_reqrep.ClientRequest.send,\n"
        "    client_reqrep.ClientResponse.start,\n"
        "    client_proto.ResponseHandler.data_received, Source.start]\n"
        "assert all(hasattr(method, '__wrapped__') for method in wrapped), wrapped\n"
    )
    command = [sys.executable, "-c", script]
    done = subprocess.run(command, cwd=PROJECT_ROOT, capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr
