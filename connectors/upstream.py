"""The upstream-gateway connector: a lower-level credit-gateway (a city's, a county's) as a source.

Province, city and county platforms interconnect: a province gateway asks a city gateway, over
the city's public GraphQL API, for what the city's own registries hold about the subjects looked
up. The city applies its own policy, purpose check, masking and audit to the official on whose
behalf the province asks; that official travels in a service token the gateway signs. Connectors
know nothing of principals, so the token arrives here as an opaque string.

One call is one `subjects(ids:, matter:)` query asking for the parts the province needs (department
sections, lists, grades, the name). Each subject of the answer becomes a `FederatedRecord`: per
department section, the record validated with that department's record model (the city's GraphQL
output is camelCase like the registry API; the selection asks only for fields the models have),
plus the city's lists, grades and credit reports, every record part stamped with the upstream's
key as its `source`. What the city could not give (a section its policy withholds, a registry of
its own that failed) is a partial answer, listed in `failures`; the call as a whole fails only
when the city gave no answer: refused, timed out, HTTP or GraphQL errors at the top level,
malformed JSON or the wrong shape. Each of those is a `SourceError`, never another exception.

The selections come from the gateway (built from its schema and the record models), since this
module does not know the schema: only the field names of the contract's core.
"""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, TypeVar

import aiohttp
import orjson
import pydantic
from pydantic import AwareDatetime, Field
from pydantic.alias_generators import to_camel
from yarl import URL

from connectors.batching import fetch_in_batches
from connectors.bounded_call import CallLimits, HttpAnswer, bounded_call
from connectors.errors import (
    SourceBadResponse,
    SourceError,
    SourceForbidden,
    SourceState,
    SourceTimeout,
    SourceUnavailable,
)
from connectors.records import (
    RECORD_MODELS,
    SOURCE_CONTEXT,
    CreditReport,
    Grade,
    ListEntry,
    RecordModel,
    SubjectRecord,
)
from connectors.settings import UpstreamSettings

log = logging.getLogger(__name__)

REPORTS_DEPARTMENT = "credit_agency"
"""Credit agencies have no section: their records are `Subject.reports`."""
LISTS = "lists"
GRADES = "grades"
NAME = "name"
_MAX_MESSAGE = 200
_HELD = frozenset({SourceState.OK, SourceState.STALE})
_STATE_OF_CODE = {
    "SOURCE_TIMEOUT": SourceState.TIMEOUT,
    "SOURCE_BAD_RESPONSE": SourceState.BAD_RESPONSE,
    "FORBIDDEN": SourceState.FORBIDDEN,
    "PURPOSE_REQUIRED": SourceState.FORBIDDEN,
    "UNKNOWN_MATTER": SourceState.FORBIDDEN,
}
"""The state a lower gateway's error code means here; any other code is ERROR."""
_UNAVAILABLE_CODES = frozenset({"RATE_LIMITED", "AUDIT_UNAVAILABLE", "INTERNAL"})
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
M = TypeVar("M", bound=RecordModel)


def section_field(department: str) -> str:
    """The `Subject` field of a department's records: its section, or `reports`."""
    return "reports" if department == REPORTS_DEPARTMENT else to_camel(department)


@dataclass(frozen=True, slots=True)
class UpstreamParts:
    """What to ask a lower gateway for, for every subject of one call."""

    departments: tuple[str, ...] = ()
    """Department sections (`credit_agency`: the credit reports)."""
    lists: bool = False
    grades: bool = False
    name: bool = False
    personal: bool = False
    """Personal identifiers too (`Person.idNumber`): only when the client asked for them."""

    def __bool__(self) -> bool:
        return bool(self.departments) or self.lists or self.grades or self.name


class UpstreamFailure(RecordModel):
    """A part of a lower gateway's answer that it could not give."""

    part: str
    """A department key, `lists`, `grades`, `name`, or a source of the lower gateway's own."""
    state: SourceState
    message: str


class FederatedRecord(SubjectRecord):
    """What a lower-level gateway answered about one subject, for one principal and matter.

    `list_entries` and `grades` are the lower gateway's `lists` and `grades` (every department it
    consulted, limited to the departments asked for), so the shared parts of a profile read them as
    they read any department's record; `reports` are its credit reports. The department sections
    are in `sections`. Every record part carries `source` (the upstream's key).
    """

    name: str = ""
    """The subject's name as the lower gateway gives it (empty when not asked or not known)."""
    updated_at: AwareDatetime
    gateway: str
    sections: dict[str, SubjectRecord] = Field(default_factory=dict)
    reports: list[CreditReport] = Field(default_factory=list)
    failures: tuple[UpstreamFailure, ...] = ()
    failed_sources: tuple[str, ...] = ()
    """The lower gateway's own sources (its registries, its own upstreams) that failed: their
    entries are missing from `list_entries` and `grades`. (A section it withheld is a failure of
    that part only: its lists may still be complete.)"""

    def failed(self, part: str) -> UpstreamFailure | None:
        return next((f for f in self.failures if f.part == part), None)


UpstreamResult = Mapping[str, FederatedRecord | SourceError | None]
"""Per requested id: what the lower gateway gave, `None` when it holds nothing, or why it failed."""


class UpstreamConnector:
    """A lower-level credit-gateway reached over its GraphQL API."""

    def __init__(
        self,
        key: str,
        settings: UpstreamSettings,
        session: aiohttp.ClientSession,
        selections: Mapping[str, str],
        personal_selections: Mapping[str, str] | None = None,
    ) -> None:
        """`selections`: the selection set (with braces) of each department key, `lists` and
        `grades`; the departments asked for are limited to those that have one.
        `personal_selections`: the same with personal identifiers, for `UpstreamParts.personal`
        (default: `selections`)."""
        self._key = key
        self._settings = settings
        self._session = session
        self._selections = dict(selections)
        self._personal = dict(personal_selections or selections)
        wanted = settings.departments
        self._departments = tuple(
            d
            for d in (wanted if wanted is not None else selections)
            if d in selections and d not in (LISTS, GRADES)
        )
        self._department_set = frozenset(self._departments)
        self._url = URL(str(settings.url))
        self._health_url = self._url.join(URL("healthz"))
        self._limits = CallLimits(
            settings.timeout_s,
            asyncio.Semaphore(settings.max_connections),
            settings.max_response_bytes,
            aiohttp.ClientTimeout(total=None, sock_connect=settings.connect_timeout_s),
        )
        self._queries: dict[UpstreamParts, str] = {}

    @property
    def key(self) -> str:
        return self._key

    @property
    def settings(self) -> UpstreamSettings:
        return self._settings

    @property
    def departments(self) -> tuple[str, ...]:
        """The departments this upstream is asked about, in section order."""
        return self._departments

    async def fetch_many(
        self,
        ids: Sequence[str],
        *,
        token: str,
        matter: str | None,
        parts: UpstreamParts,
        request_id: str | None = None,
    ) -> UpstreamResult:
        """What the lower gateway gives about `ids` for the principal of `token`, in `matter`.

        Raises `SourceError` when the call fails as a whole."""
        if not ids or not parts:
            return {}

        async def batch(chunk: Sequence[str]) -> Mapping[str, FederatedRecord | SourceError | None]:
            return await self._fetch_batch(list(chunk), token, matter, parts, request_id)

        return await fetch_in_batches(ids, self._settings.batch_size, batch)

    async def check_health(self) -> bool:
        """Whether the lower gateway answers its liveness endpoint (`healthz` beside `graphql`)."""
        try:
            async with (
                asyncio.timeout(self._settings.timeout_s),
                self._session.get(
                    self._health_url, timeout=self._limits.client_timeout
                ) as response,
            ):
                return response.status == 200
        except (TimeoutError, aiohttp.ClientError):
            return False

    def query(self, parts: UpstreamParts) -> str:
        """The GraphQL document asking for `parts` (one per distinct `parts`, so the lower gateway
        parses and validates each once)."""
        document = self._queries.get(parts)
        if document is None:
            selections = self._personal if parts.personal else self._selections
            fields = ["id"]
            if parts.name:
                fields.append(NAME)
            fields += [f"{section_field(d)} {selections[d]}" for d in parts.departments]
            if parts.lists:
                fields.append(f"lists {selections[LISTS]}")
            if parts.grades:
                fields.append(f"grades {selections[GRADES]}")
            fields.append("sources { department status message }")
            document = (
                "query Federated($ids: [ID!]!, $matter: ID) { subjects(ids: $ids, matter: $matter)"
                " { " + " ".join(fields) + " } }"
            )
            self._queries[parts] = document
        return document

    async def _fetch_batch(
        self,
        ids: list[str],
        token: str,
        matter: str | None,
        parts: UpstreamParts,
        request_id: str | None,
    ) -> dict[str, FederatedRecord | SourceError | None]:
        payload = orjson.dumps(
            {"query": self.query(parts), "variables": {"ids": ids, "matter": matter}}
        )
        reply = await self._post(payload, token, request_id)
        document = self._decode(reply)
        errors = _errors(document)
        data = document.get("data")
        subjects = data.get("subjects") if isinstance(data, dict) else None
        if reply.status != 200 or subjects is None:
            raise self._refusal(reply, errors)
        if not isinstance(subjects, list) or len(subjects) != len(ids):
            raise self._error(SourceState.BAD_RESPONSE, "sent an answer of the wrong shape")
        by_subject: dict[int, list[tuple[str | None, dict[str, Any]]]] = {}
        for error in errors:
            path = error.get("path")
            if isinstance(path, list) and len(path) >= 2 and isinstance(path[1], int):
                part = path[2] if len(path) >= 3 and isinstance(path[2], str) else None
                by_subject.setdefault(path[1], []).append((part, error))
        fetched_at = datetime.now(UTC)
        return {
            subject_id: self._subject(
                subject_id, item, by_subject.get(index, []), parts, fetched_at
            )
            for index, (subject_id, item) in enumerate(zip(ids, subjects, strict=True))
        }

    def _subject(
        self,
        subject_id: str,
        item: object,
        errors: list[tuple[str | None, dict[str, Any]]],
        parts: UpstreamParts,
        fetched_at: datetime,
    ) -> FederatedRecord | SourceError | None:
        if item is None:
            whole = next((e for part, e in errors if part is None), None)
            if whole is None:
                return self._error(SourceState.BAD_RESPONSE, "answered null for a subject")
            return self._error(_state(whole), f"refused the subject ({_describe(whole)})")
        if not isinstance(item, dict):
            return self._error(SourceState.BAD_RESPONSE, "sent a subject of the wrong shape")
        failures: dict[str, UpstreamFailure] = {}
        field_errors = {part: error for part, error in reversed(errors) if part is not None}

        def fail(part: str, state: SourceState, message: str) -> None:
            failures.setdefault(part, UpstreamFailure(part=part, state=state, message=message))

        def value_of(part: str, field: str) -> object:
            if field not in item:
                fail(part, SourceState.BAD_RESPONSE, f"left out {field}")
                return None
            value = item[field]
            error = field_errors.get(field)
            if value is None and error is not None:
                fail(part, _state(error), _message(error))
            return value

        sections: dict[str, SubjectRecord] = {}
        reports: list[CreditReport] = []
        for department in parts.departments:
            raw = value_of(department, section_field(department))
            if raw is None:
                continue
            try:
                if department == REPORTS_DEPARTMENT:
                    reports = self._validate_many(CreditReport, raw)
                else:
                    sections[department] = self._validate_section(department, subject_id, raw)
            except _Invalid:
                fail(department, SourceState.BAD_RESPONSE, "sent records that do not validate")
        entries: list[ListEntry] = []
        grades: list[Grade] = []
        try:
            raw = value_of(LISTS, LISTS) if parts.lists else None
            if raw is not None:
                entries = [e for e in self._validate_many(ListEntry, raw) if self._asked(e)]
        except _Invalid:
            fail(LISTS, SourceState.BAD_RESPONSE, "sent records that do not validate")
        try:
            raw = value_of(GRADES, GRADES) if parts.grades else None
            if raw is not None:
                grades = [g for g in self._validate_many(Grade, raw) if self._asked(g)]
        except _Invalid:
            fail(GRADES, SourceState.BAD_RESPONSE, "sent records that do not validate")
        name = value_of(NAME, NAME) if parts.name else None
        held, failed_sources = self._sources(item.get("sources"), fail)
        for field, error in field_errors.items():
            if field not in ("sources", "id") and field not in failures:
                part = _department_of(field, parts) or field
                fail(part, _state(error), _message(error))
        holds = bool(sections or reports or entries or grades or isinstance(name, str) or held)
        if not holds and not failures:
            return None
        updated = [record.updated_at for record in sections.values()]
        return FederatedRecord(
            subject_id=subject_id,
            name=name if isinstance(name, str) else "",
            updated_at=max(updated, default=fetched_at),
            grades=grades,
            list_entries=entries,
            gateway=self._key,
            sections=sections,
            reports=reports,
            failures=tuple(failures.values()),
            failed_sources=failed_sources,
        )

    def _sources(
        self, rows: object, fail: Callable[[str, SourceState, str], None]
    ) -> tuple[bool, tuple[str, ...]]:
        """Read the lower gateway's `sources` rows: whether any of its sources holds the subject,
        and those that failed (failures of those parts: their lists and grades are missing)."""
        held = False
        failed: list[str] = []
        if not isinstance(rows, list):
            return held, ()
        for row in rows:
            if not isinstance(row, dict) or not isinstance(row.get("department"), str):
                continue
            department = row["department"]
            try:
                state = SourceState(row.get("status"))
            except ValueError:
                state = SourceState.ERROR
            held = held or state in _HELD
            relevant = department in self._department_set or department not in RECORD_MODELS
            # A lower gateway's CIRCUIT_OPEN row may have come with stale data, but the row
            # does not say: its parts count as missing, which is the safe reading.
            if not state.answered and relevant:
                message = row.get("message")
                fail(department, state, _clip(message) if isinstance(message, str) else state.value)
                failed.append(department)
        return held, tuple(failed)

    def _validate_section(self, department: str, subject_id: str, raw: object) -> SubjectRecord:
        if not isinstance(raw, dict):
            raise _Invalid
        model = RECORD_MODELS[department]
        context = {"department": department, SOURCE_CONTEXT: self._key}
        try:
            return model.model_validate({**raw, "subjectId": subject_id}, context=context)
        except pydantic.ValidationError as exc:
            self._log_invalid(exc)
            raise _Invalid from exc

    def _asked(self, part: ListEntry | Grade) -> bool:
        """Lists and grades of the departments this upstream is asked about (a province that
        holds a department's records province-wide leaves it out, so nothing is counted twice)."""
        return part.department in self._department_set

    def _validate_many(self, model: type[M], raw: object) -> list[M]:
        if not isinstance(raw, list):
            raise _Invalid
        context = {SOURCE_CONTEXT: self._key}
        try:
            return [model.model_validate(entry, context=context) for entry in raw]
        except pydantic.ValidationError as exc:
            self._log_invalid(exc)
            raise _Invalid from exc

    def _log_invalid(self, exc: pydantic.ValidationError) -> None:
        log.warning(
            "invalid records from the %s gateway: %d validation errors",
            self._key,
            exc.error_count(),
        )

    async def _post(self, payload: bytes, token: str, request_id: str | None) -> HttpAnswer:
        headers = {
            "Accept": "application/json",
            "Content-Type": "application/json",
            "Authorization": f"Bearer {token}",
        }
        if request_id is not None:
            headers["X-Request-Id"] = request_id
        return await bounded_call(
            self._session,
            "POST",
            self._url,
            self._limits,
            source=self._key,
            kind="gateway",
            data=payload,
            headers=headers,
        )

    def _decode(self, reply: HttpAnswer) -> dict[str, Any]:
        try:
            document = orjson.loads(reply.body)
        except orjson.JSONDecodeError as exc:
            raise self._status_error(reply, "sent a body that is not JSON") from exc
        if not isinstance(document, dict):
            raise self._status_error(reply, "sent an answer of the wrong shape")
        return document

    def _status_error(self, reply: HttpAnswer, otherwise: str) -> SourceError:
        status = reply.status
        if status == 429 or status >= 500:
            return self._unavailable(reply, f"answered HTTP {status}")
        if status != 200:
            return self._error(SourceState.BAD_RESPONSE, f"answered HTTP {status} unexpectedly")
        return self._error(SourceState.BAD_RESPONSE, otherwise)

    def _refusal(self, reply: HttpAnswer, errors: list[dict[str, Any]]) -> SourceError:
        """Why the lower gateway gave no data at all, from its first error."""
        status = reply.status
        first = errors[0] if errors else None
        code = _code(first) if first is not None else None
        if first is None:
            return self._status_error(reply, "sent an answer without data or errors")
        described = _describe(first)
        if status == 401 or code == "UNAUTHENTICATED":
            return self._error(SourceState.ERROR, f"refused the service token ({described})")
        if status == 429 or status >= 500 or code in _UNAVAILABLE_CODES:
            return self._unavailable(reply, f"could not answer ({described})")
        state = _state(first)
        if state is SourceState.FORBIDDEN:
            return self._error(state, f"refused the lookup ({described})")
        return self._error(SourceState.ERROR, f"rejected the query ({described})")

    def _unavailable(self, reply: HttpAnswer, detail: str) -> SourceError:
        """A 5xx is worth asking again (after its `Retry-After`, if any); a 429 only when it
        says when; any other status (an error code on a 200) is not."""
        retryable = reply.status >= 500 or (reply.status == 429 and reply.retry_after is not None)
        return self._error(
            SourceState.ERROR, detail, retryable=retryable, retry_after=reply.retry_after
        )

    def _error(
        self,
        state: SourceState,
        detail: str,
        *,
        retryable: bool = False,
        retry_after: float | None = None,
    ) -> SourceError:
        return error_for(self._key, state, detail, retryable=retryable, retry_after=retry_after)


_ERROR_CLASS: dict[SourceState, type[SourceError]] = {
    SourceState.TIMEOUT: SourceTimeout,
    SourceState.BAD_RESPONSE: SourceBadResponse,
    SourceState.FORBIDDEN: SourceForbidden,
    SourceState.ERROR: SourceUnavailable,
}


def error_for(
    key: str,
    state: SourceState,
    detail: str,
    *,
    retryable: bool = False,
    retry_after: float | None = None,
) -> SourceError:
    """A `SourceError` of a lower gateway, of the class that shows `state`; not retryable unless
    said so (a lower gateway's refusals are answers, not outages)."""
    cls = _ERROR_CLASS.get(state, SourceUnavailable)
    return cls(key, detail, kind="gateway", retryable=retryable, retry_after=retry_after)


class _Invalid(Exception):
    """A part of the answer does not validate against its record model."""


def _errors(document: Mapping[str, Any]) -> list[dict[str, Any]]:
    errors = document.get("errors")
    if not isinstance(errors, list):
        return []
    return [e for e in errors if isinstance(e, dict)]


def _code(error: Mapping[str, Any]) -> str | None:
    extensions = error.get("extensions")
    code = extensions.get("code") if isinstance(extensions, dict) else None
    return code if isinstance(code, str) else None


def _state(error: Mapping[str, Any]) -> SourceState:
    return _STATE_OF_CODE.get(_code(error) or "", SourceState.ERROR)


def _describe(error: Mapping[str, Any]) -> str:
    """`CODE: message` of a lower gateway's error, clipped: its messages are written for clients
    (no hosts, no personal data), but it is still text from elsewhere."""
    message = error.get("message")
    text = _clip(message) if isinstance(message, str) else ""
    code = _code(error) or "ERROR"
    return f"{code}: {text}" if text else code


def _message(error: Mapping[str, Any]) -> str:
    message = error.get("message")
    return _clip(message) if isinstance(message, str) and message else _code(error) or "ERROR"


def _clip(text: str) -> str:
    text = _CONTROL.sub(" ", text).strip()
    return text if len(text) <= _MAX_MESSAGE else text[: _MAX_MESSAGE - 1] + "…"


def _department_of(field: str, parts: UpstreamParts) -> str | None:
    return next((d for d in parts.departments if section_field(d) == field), None)
