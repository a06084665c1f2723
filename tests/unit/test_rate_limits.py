"""The rate limiter's pieces that need no gateway: the client address, the in-process storage."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from limits import parse
from limits.aio.storage import MemoryStorage
from limits.aio.strategies import SlidingWindowCounterRateLimiter

from gateway.rate_limit_settings import RateLimitSettings
from gateway.rate_limits import RateLimits, SweptMemoryStorage


def _limits(**settings: Any) -> RateLimits:
    return RateLimits(RateLimitSettings(**settings), None)


@pytest.mark.parametrize(
    ("peer", "forwarded", "expected"),
    [
        (None, [], "unknown"),
        ("192.0.2.1", [], "192.0.2.1"),
        ("192.0.2.1", ["203.0.113.9"], "192.0.2.1"),  # an untrusted peer's header is ignored
        ("10.0.0.2", ["203.0.113.9"], "203.0.113.9"),
        ("10.0.0.2", ["198.51.100.1, 203.0.113.9"], "203.0.113.9"),  # nearest untrusted hop
        ("10.0.0.2", ["203.0.113.9, 10.0.0.7"], "203.0.113.9"),  # past trusted proxies
        ("10.0.0.2", ["203.0.113.9", "10.0.0.7"], "203.0.113.9"),  # the header sent twice
        ("10.0.0.2", ["10.0.0.7, 10.0.0.8"], "10.0.0.7"),  # only proxies: the farthest one
        ("10.0.0.2", ["garbage, 203.0.113.9"], "203.0.113.9"),
        ("10.0.0.2", ["203.0.113.9, garbage"], "10.0.0.2"),  # a broken chain stops the walk
        ("10.0.0.2", [""], "10.0.0.2"),
        ("2001:db8::5", ["2001:db8:ffff::1"], "2001:db8:ffff::1"),
        ("2001:db8::5", ["2001:0db8:ffff:0::1"], "2001:db8:ffff::1"),  # normalised
    ],
)
def test_the_client_address(peer: str | None, forwarded: list[str], expected: str) -> None:
    limits = _limits(trusted_proxies=["10.0.0.0/8", "2001:db8::/112"])
    assert limits.client_address(peer, forwarded) == expected


def test_without_trusted_proxies_forwarded_for_is_never_read() -> None:
    assert _limits().client_address("10.0.0.2", ["203.0.113.9"]) == "10.0.0.2"


def test_limits_still_has_the_sweep_schedule_replaced() -> None:
    """`SweptMemoryStorage` replaces a private method of `limits`' MemoryStorage; if an upgrade
    renames it, the replacement would silently stop working (every hit sweeping every key)."""
    assert "_MemoryStorage__schedule_expiry" in vars(MemoryStorage)


async def test_the_in_process_storage_sweeps_at_most_once_a_second(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    sweeps = 0
    original = vars(MemoryStorage)["_MemoryStorage__schedule_expiry"]

    async def counted(self: MemoryStorage) -> None:
        nonlocal sweeps
        sweeps += 1
        await original(self)

    monkeypatch.setattr(MemoryStorage, "_MemoryStorage__schedule_expiry", counted)
    limiter = SlidingWindowCounterRateLimiter(SweptMemoryStorage())
    item = parse("5/minute")
    for n in range(300):
        assert await limiter.hit(item, "principal", f"official-{n % 100}")
        await asyncio.sleep(0)
    assert sweeps == 1
