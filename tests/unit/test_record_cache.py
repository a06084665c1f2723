from datetime import UTC, datetime

from connectors.records import QualityRecord
from gateway.record_cache import RecordCache


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def _record() -> QualityRecord:
    return QualityRecord(subject_id="X", name="n", updated_at=datetime(2026, 1, 1, tzinfo=UTC))


def test_fresh_then_stale_then_gone() -> None:
    clock = Clock()
    cache = RecordCache(ttl_s=10, stale_ttl_s=100, max_entries=10, timer=clock)
    cache.put("X", _record(), datetime.now(UTC))
    entry = cache.get("X")
    assert entry is not None
    assert entry[1] is True
    clock.now += 11
    entry = cache.get("X")
    assert entry is not None
    assert entry[1] is False
    clock.now += 100
    assert cache.get("X") is None


def test_not_found_is_cached_as_none() -> None:
    cache = RecordCache(ttl_s=10, stale_ttl_s=0, max_entries=10, timer=Clock())
    cache.put("X", None, datetime.now(UTC))
    entry = cache.get("X")
    assert entry is not None
    assert entry[0].record is None


def test_bounded_by_max_entries() -> None:
    cache = RecordCache(ttl_s=10, stale_ttl_s=0, max_entries=3, timer=Clock())
    for i in range(10):
        cache.put(str(i), None, datetime.now(UTC))
    assert len(cache) == 3


def test_disabled_when_ttl_or_size_is_zero() -> None:
    for cache in (
        RecordCache(ttl_s=0, stale_ttl_s=0, max_entries=10, timer=Clock()),
        RecordCache(ttl_s=10, stale_ttl_s=10, max_entries=0, timer=Clock()),
    ):
        cache.put("X", None, datetime.now(UTC))
        assert cache.get("X") is None


def test_invalidate() -> None:
    cache = RecordCache(ttl_s=10, stale_ttl_s=0, max_entries=10, timer=Clock())
    cache.put("X", None, datetime.now(UTC))
    assert cache.invalidate("X") is True
    assert cache.get("X") is None
    assert cache.invalidate("X") is False
