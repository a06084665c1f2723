"""The HTTP runtime every department connector shares: the registry API over one aiohttp session.

One `ClientSession` lives for the app's lifetime (its connector pools connections per host); each
department connector adds its own timeouts, batch size and payload validation. Everything a registry
can do wrong (refuse, hang, drop, send garbage, send the wrong shape, send too much, answer for the
wrong subject) ends as a `SourceError`, never as an exception a resolver does not expect.

Each error says whether asking again may help (`retryable`: a refused or reset connection, a 5xx,
a 429 that says when to come back) and what wait the registry asked for (`Retry-After`); the
retries themselves, the circuit breaker and the request's deadline are applied around every
connector by connectors/resilience.py, not here, so plug-in connectors get them too.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Coroutine, Sequence
from urllib.parse import quote

import aiohttp
import orjson
import pydantic
from yarl import URL

from connectors.batching import fetch_in_batches
from connectors.bounded_call import CallLimits, HttpAnswer, bounded_call
from connectors.errors import SourceBadResponse, SourceError, SourceUnavailable
from connectors.protocol import FetchResult
from connectors.records import BatchResponse, RegistryHealth, SubjectRecord
from connectors.settings import ConnectorSettings

log = logging.getLogger(__name__)

_SKIPPED_HEADERS = ("User-Agent",)
"""Registries have no use for aiohttp's User-Agent; not building it is one less header per call."""


class HttpConnector:
    """A department registry reached over the registry HTTP API (registries/openapi.yaml)."""

    def __init__(
        self,
        department: str,
        settings: ConnectorSettings,
        session: aiohttp.ClientSession,
        record_model: type[SubjectRecord],
    ) -> None:
        self._department = department
        self._settings = settings
        self._session = session
        self._record_model = record_model
        # Paths are built from normalised ids (quoted), so the URL is passed pre-encoded and
        # aiohttp does not parse and re-encode it on every call.
        self._base_url = str(settings.base_url).rstrip("/")
        # The total is enforced by `asyncio.timeout` around the whole call (slot wait included);
        # aiohttp keeps only the connect timeout, so each call arms one timer, not two.
        self._limits = CallLimits(
            settings.timeout_s,
            asyncio.Semaphore(settings.max_connections),
            settings.max_response_bytes,
            aiohttp.ClientTimeout(total=None, sock_connect=settings.connect_timeout_s),
        )

    @property
    def department(self) -> str:
        return self._department

    @property
    def settings(self) -> ConnectorSettings:
        return self._settings

    async def fetch_many(self, ids: Sequence[str]) -> FetchResult:
        if not ids:
            return {}
        if len(ids) == 1:
            return {ids[0]: await self._fetch_one(ids[0])}
        return await fetch_in_batches(ids, self._settings.batch_size, self._fetch_batch)

    async def check_health(self) -> bool:
        try:
            answer = await self._request("GET", "/v1/health")
            if answer.status != 200:
                return False
            health = RegistryHealth.model_validate_json(answer.body)
            return health.status == "ok" and health.department == self._department
        except (SourceError, pydantic.ValidationError):
            return False

    async def _fetch_one(self, subject_id: str) -> SubjectRecord | None:
        answer = await self._request("GET", f"/v1/subjects/{quote(subject_id, safe='')}")
        if answer.status == 404:
            return None
        if answer.status != 200:
            raise self._unexpected_status(answer)
        return self._validate_record(subject_id, self._decode(answer.body))

    async def _fetch_batch(
        self, ids: Sequence[str]
    ) -> dict[str, SubjectRecord | SourceError | None]:
        payload = orjson.dumps({"ids": list(ids)})
        answer = await self._request("POST", "/v1/subjects:batch", payload)
        if answer.status != 200:
            raise self._unexpected_status(answer)
        try:
            batch = BatchResponse.model_validate(self._decode(answer.body))
        except pydantic.ValidationError as exc:
            raise SourceBadResponse(self._department, "sent a batch of the wrong shape") from exc
        missing = set(batch.missing)
        results: dict[str, SubjectRecord | SourceError | None] = {}
        for subject_id in ids:
            raw = batch.records.get(subject_id)
            if raw is not None:
                try:
                    results[subject_id] = self._validate_record(subject_id, raw)
                except SourceBadResponse as exc:
                    results[subject_id] = exc
            elif subject_id in missing:
                results[subject_id] = None
            else:
                results[subject_id] = SourceBadResponse(
                    self._department, "left a requested subject out of its batch answer"
                )
        return results

    def _request(
        self, method: str, path: str, body: bytes | None = None
    ) -> Coroutine[None, None, HttpAnswer]:
        """The call, to be awaited (`bounded_call`'s coroutine itself: no layer of its own)."""
        headers = {"Accept": "application/json"}
        if body is not None:
            headers["Content-Type"] = "application/json"
        return bounded_call(
            self._session,
            method,
            URL(self._base_url + path, encoded=True),
            self._limits,
            source=self._department,
            data=body,
            headers=headers,
            skip_auto_headers=_SKIPPED_HEADERS,
        )

    def _decode(self, body: bytes) -> object:
        try:
            return orjson.loads(body)
        except orjson.JSONDecodeError as exc:
            raise SourceBadResponse(self._department, "sent a body that is not JSON") from exc

    def _validate_record(self, subject_id: str, raw: object) -> SubjectRecord:
        try:
            record = self._record_model.model_validate(
                raw, context={"department": self._department}
            )
        except pydantic.ValidationError as exc:
            log.warning(
                "invalid record from %s registry: %d validation errors",
                self._department,
                exc.error_count(),
            )
            raise SourceBadResponse(
                self._department, "sent a record that does not match the registry API"
            ) from exc
        if record.subject_id != subject_id:
            raise SourceBadResponse(self._department, "answered for a different subject")
        return record

    def _unexpected_status(self, answer: HttpAnswer) -> SourceError:
        """5xx: retryable (after its `Retry-After`, if any); 429: retryable only with a
        `Retry-After` saying when; any other status is a bad response, never retried."""
        status = answer.status
        if status == 429 or status >= 500:
            return SourceUnavailable(
                self._department,
                f"answered HTTP {status}",
                retryable=status >= 500 or answer.retry_after is not None,
                retry_after=answer.retry_after,
            )
        return SourceBadResponse(self._department, f"answered HTTP {status} unexpectedly")
