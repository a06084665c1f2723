"""`[server] limit_concurrency`: what a client sees when the gateway is full.

uvicorn counts open connections (the new one included, idle keep-alive ones too) and requests in
progress; at the limit it answers at once, before the app, with a plain-text 503 and closes the
connection. The test holds lookups open on a slow registry and knocks once more.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest

from bench.harness import ProcessGroup
from tests.e2e.gateway_stack import (
    WAIT_S,
    lookup,
    set_faults,
    start_stack,
    wait_for_calls,
)

pytestmark = pytest.mark.e2e

LIMIT = 3


def test_beyond_the_concurrency_limit_uvicorn_answers_503_at_once(
    tmp_path: Path, group: ProcessGroup, subject_ids: list[str]
) -> None:
    stack = start_stack(tmp_path, group, timeout_s=20.0, server={"limit_concurrency": LIMIT})
    slow = stack.registries["environment"]
    set_faults(slow, {"latency_ms": 3000})
    holding = LIMIT - 1  # the knocking connection counts too: LIMIT - 1 others fill the server
    with ThreadPoolExecutor(max_workers=holding) as pool:
        held = [
            pool.submit(lookup, stack.base, subject_id, f"held-{n}")
            for n, subject_id in enumerate(subject_ids[:holding])
        ]
        wait_for_calls(stack, slow, holding)
        refused = httpx.get(f"{stack.base}/healthz", timeout=WAIT_S)
        extra = lookup(stack.base, subject_ids[holding], "extra")
        answers = [future.result(timeout=WAIT_S) for future in held]

    for response in (refused, extra):
        assert response.status_code == 503
        assert response.text == "Service Unavailable"
        assert response.headers["content-type"].startswith("text/plain")
        assert response.headers["connection"] == "close"
    assert [a.status_code for a in answers] == [200] * holding
    assert "Exceeded concurrency limit." in stack.gateway.log_text()
    after = lookup(stack.base, subject_ids[holding], "after")
    assert after.status_code == 200
