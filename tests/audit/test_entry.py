"""The entry model and its canonical form: what every hash in every chain depends on."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import orjson
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from gateway.audit.entry import (
    GENESIS_HASH,
    MAX_TEXT,
    AuditEntry,
    AuditEvent,
    Outcome,
    canonical_bytes,
    chain_events,
    compute_hash,
    entry_from_row,
    event_json,
    iso_utc,
    serialise,
)
from gateway.audit.settings import AuditSettings
from gateway.audit.store import redact_url
from tests.audit.support import T0, event


def test_canonical_form_is_sorted_compact_json_without_none_and_with_utc_micro_z() -> None:
    shanghai = timezone(timedelta(hours=8))
    [entry] = chain_events(
        [event(at=datetime(2025, 3, 1, 17, 30, tzinfo=shanghai), principal_name=None)],
        0,
        GENESIS_HASH,
    )
    canonical = canonical_bytes(entry)
    data = orjson.loads(canonical)
    assert list(data) == sorted(data)
    assert data["at"] == "2025-03-01T09:30:00.000000Z"
    assert "principal_name" not in data
    assert "hash" not in data
    assert data["seq"] == 1
    assert data["prev_hash"] == GENESIS_HASH
    assert b" " not in canonical.replace(b"Penalty.fineAmount", b"")
    assert entry.hash == compute_hash(GENESIS_HASH, canonical) == entry.expected_hash()


def test_chain_links_each_entry_to_the_one_before() -> None:
    entries = chain_events([event(1), event(2), event(3)], 41, "a" * 64)
    assert [e.seq for e in entries] == [42, 43, 44]
    assert entries[0].prev_hash == "a" * 64
    assert entries[1].prev_hash == entries[0].hash
    assert entries[2].prev_hash == entries[1].hash
    assert all(e.hash == e.expected_hash() for e in entries)


def test_hash_covers_content_and_position() -> None:
    [entry] = chain_events([event()], 0, GENESIS_HASH)
    assert entry.model_copy(update={"subject": "91110000600037341L"}).expected_hash() != entry.hash
    assert entry.model_copy(update={"seq": 2}).expected_hash() != entry.hash
    assert entry.model_copy(update={"masked": True}).expected_hash() != entry.hash


def test_stored_form_round_trips_to_the_same_hash() -> None:
    [entry] = chain_events(
        [event(principal_name="張三", sources={"tax": "TIMEOUT", "environment": "OK"})],
        0,
        GENESIS_HASH,
    )
    back = entry_from_row(entry.seq, entry.prev_hash, entry.hash, event_json(entry))
    assert back == entry
    assert back.expected_hash() == entry.hash


def test_normalisation_is_idempotent() -> None:
    raw = event(
        returned=["Subject.lists", "Subject.environment", "Subject.lists"],
        subject="9" * 1000,
        request_id="a\x00b",
    )
    assert raw.returned == ("Subject.environment", "Subject.lists")
    assert len(raw.subject) == MAX_TEXT
    assert raw.subject.endswith("…")
    assert raw.request_id == "a\ufffdb"
    again = AuditEvent.model_validate_json(event_json(raw))
    assert again == raw


@pytest.mark.parametrize(
    "change",
    [
        {"at": datetime(2025, 3, 1, 9, 30)},  # naive: which zone was it?
        {"region": "4301"},
        {"outcome": "MAYBE"},
        {"principal": ""},
        {"surprise": 1},
    ],
)
def test_invalid_events_are_rejected(change: dict[str, object]) -> None:
    data = {**event().model_dump(), **change}
    with pytest.raises(ValidationError):
        AuditEvent.model_validate(data)


def test_stored_content_may_not_carry_chain_fields() -> None:
    [entry] = chain_events([event()], 0, GENESIS_HASH)
    content = orjson.loads(event_json(entry))
    content["seq"] = 7
    with pytest.raises(ValueError, match="chain fields"):
        entry_from_row(entry.seq, entry.prev_hash, entry.hash, orjson.dumps(content))


def test_entries_are_frozen() -> None:
    [entry] = chain_events([event()], 0, GENESIS_HASH)
    with pytest.raises(ValidationError):
        entry.seq = 5  # type: ignore[misc]
    assert isinstance(entry, AuditEntry)
    assert entry.at == T0
    assert entry.at.tzinfo is UTC
    assert entry.outcome is Outcome.OK


def test_settings_defaults_and_validation() -> None:
    settings = AuditSettings()
    assert settings.url == "sqlite:///var/audit.db"
    assert settings.table == "audit_log"
    assert AuditSettings(url="postgres://gw@db:5432/credit").url.startswith("postgres://")
    for bad in (
        {"url": "mysql://x/y"},
        {"url": "sqlite://relative.db"},
        {"table": "audit; DROP TABLE x"},
        {"max_pending": 0},
        {"commit_timeout_s": 0},
        {"unknown": 1},
    ):
        with pytest.raises(ValidationError):
            AuditSettings.model_validate(bad)


def test_passwords_are_redacted_from_store_urls() -> None:
    assert (
        redact_url("postgresql://gw:s3cret@db:5432/credit") == "postgresql://gw:***@db:5432/credit"
    )
    assert redact_url("sqlite:///var/audit.db") == "sqlite:///var/audit.db"


def test_serialised_events_store_the_content_event_json_would() -> None:
    events = [event(), event(subject="11010519491231002X")]
    entries = chain_events(events, 3, GENESIS_HASH)
    for serialised, entry in zip(map(serialise, events), entries, strict=True):
        assert serialised.content == event_json(entry)
        assert serialised.at == iso_utc(entry.at)
        assert entry.expected_hash() == entry.hash


_text = st.text(st.characters(codec="utf-8"), max_size=20)


_hostile_text = st.one_of(
    _text,
    st.text(max_size=20),  # lone surrogates, NUL
    st.text(st.characters(codec="ascii"), min_size=MAX_TEXT - 2, max_size=MAX_TEXT + 2),
    st.sampled_from(["Subject.environment", "Person.idNumber", "OK", "environment"]),
)


@settings(max_examples=300, derandomize=True, deadline=None)
@given(
    coordinates=st.lists(_hostile_text, max_size=6),
    sources=st.dictionaries(_hostile_text, _hostile_text, max_size=4),
)
def test_coordinates_and_sources_are_cleaned_as_each_text_is_on_its_own(
    coordinates: list[str], sources: dict[str, str]
) -> None:
    """Coordinates and sources are validated whole, with a shortcut for the gateway's own plain
    values: whatever they hold, the result is what cleaning each text as a `Text` field gives."""
    raw = event(returned=coordinates, denied=coordinates, sources=sources)
    cleaned = tuple(sorted({event(subject=c).subject for c in coordinates}))
    assert raw.returned == raw.denied == cleaned
    assert raw.sources == {
        event(subject=k).subject: event(subject=v).subject for k, v in sources.items()
    }
    assert AuditEvent.model_validate_json(event_json(raw)) == raw  # still idempotent


@settings(max_examples=300, derandomize=True, deadline=None)
@given(
    request_id=_text,
    principal=_text.filter(bool),
    optional=st.dictionaries(
        st.sampled_from(["principal_name", "department", "matter", "subject_kind", "via"]),
        st.one_of(st.none(), _text),
    ),
    roles=st.lists(_text, max_size=3),
    returned=st.lists(_text, max_size=3),
    sources=st.dictionaries(st.sampled_from(["seq", "prev_hash", "a", "z", "hash"]), _text),
    seq=st.integers(min_value=1, max_value=2**62),
    prev_hash=st.sampled_from([GENESIS_HASH, "f" * 64, "0123456789abcdef" * 4]),
)
def test_the_spliced_hash_is_the_hash_of_the_canonical_bytes(
    request_id: str,
    principal: str,
    optional: dict[str, str | None],
    roles: list[str],
    returned: list[str],
    sources: dict[str, str],
    seq: int,
    prev_hash: str,
) -> None:
    """A store hashes `head + prev_hash + middle + seq + tail`; whatever the content (fields left
    out, keys that sort next to the chain fields, nested keys named like them, any text), that
    must be the hash `audit verify` recomputes from the stored row."""
    raw = AuditEvent(
        request_id=request_id,
        principal=principal,
        roles=tuple(roles),
        returned=tuple(returned),
        sources=sources,
        subject="91430100MA4L1234X5",
        outcome=Outcome.OK,
        **optional,
    )
    serialised = serialise(raw)
    link = serialised.link(seq, prev_hash)
    entry = entry_from_row(seq, prev_hash, link.hash, serialised.content)
    assert link.hash == entry.expected_hash()
    assert canonical_bytes(entry) == orjson.dumps(
        {**orjson.loads(serialised.content), "seq": seq, "prev_hash": prev_hash},
        option=orjson.OPT_SORT_KEYS,
    )
