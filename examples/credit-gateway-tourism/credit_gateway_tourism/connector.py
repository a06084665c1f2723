"""The tourism connector: the legacy registry read through the gateway's aiohttp session.

It follows the rules of the gateway's own HTTP runtime (connectors/http.py): every call is bounded
as a whole by the department's ``timeout_s`` (connecting by ``connect_timeout_s``), at most
``max_connections`` calls are in flight, a body larger than ``max_response_bytes`` is refused, and
every failure ends as one of the gateway's `SourceError`s, never as another exception:

- refused, reset, dropped connections, HTTP 5xx/429, the envelope's 9999 → `SourceUnavailable`
  (also 4001, a refused application key: the registry is up but will not answer us);
- no answer in time → `SourceTimeout`;
- not JSON, not the envelope, a record that does not validate, a record of another subject, an
  unknown return code or HTTP status → `SourceBadResponse`.

The legacy API has no batch route, so `fetch_many` asks for each id concurrently, and a failure
costs only its own id's slot.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence

import aiohttp
import orjson
import pydantic
from pydantic import BaseModel, ConfigDict, Field
from yarl import URL

from connectors.errors import SourceBadResponse, SourceError, SourceTimeout, SourceUnavailable
from connectors.protocol import Connector, FetchResult
from connectors.records import SubjectRecord
from connectors.settings import ConnectorSettings
from credit_gateway_tourism import legacy
from credit_gateway_tourism.records import TourismRecord

log = logging.getLogger(__name__)

RECORDS_PATH = "/api/credit-records"
PING_PATH = "/api/ping"
APP_KEY_HEADER = "X-App-Key"
_CHUNK = 64 * 1024


class TourismOptions(BaseModel):
    """The ``options`` table of ``[connectors.tourism]``."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    app_key: str | None = Field(default=None, min_length=1, max_length=200)
    """The application key the registry issued to the gateway, sent as ``X-App-Key``."""


class TourismConnector:
    """A `Connector` (connectors/protocol.py) of the legacy tourism registry."""

    def __init__(
        self,
        department: str,
        settings: ConnectorSettings,
        session: aiohttp.ClientSession,
        options: TourismOptions,
    ) -> None:
        self._department = department
        self._settings = settings
        self._session = session
        base = str(settings.base_url).rstrip("/")
        self._records_url = URL(base + RECORDS_PATH)
        self._ping_url = URL(base + PING_PATH)
        self._headers = {"Accept": "application/json"}
        if options.app_key is not None:
            self._headers[APP_KEY_HEADER] = options.app_key
        self._timeout = aiohttp.ClientTimeout(total=None, sock_connect=settings.connect_timeout_s)
        self._slots = asyncio.Semaphore(settings.max_connections)

    @property
    def department(self) -> str:
        return self._department

    async def fetch_many(self, ids: Sequence[str]) -> FetchResult:
        answers = await asyncio.gather(
            *(self._fetch_one(subject_id) for subject_id in ids), return_exceptions=True
        )
        results: dict[str, SubjectRecord | SourceError | None] = {}
        for subject_id, answer in zip(ids, answers, strict=True):
            if isinstance(answer, BaseException) and not isinstance(answer, SourceError):
                raise answer
            results[subject_id] = answer
        return results

    async def check_health(self) -> bool:
        try:
            status, body = await self._get(self._ping_url, {})
            return status == 200 and self._envelope(body).code == legacy.OK
        except SourceError:
            return False

    async def _fetch_one(self, subject_id: str) -> TourismRecord | None:
        status, body = await self._get(self._records_url, {"code": subject_id})
        if status != 200:
            raise self._unexpected_status(status)
        envelope = self._envelope(body)
        if envelope.code == legacy.NOT_FOUND:
            return None
        if envelope.code == legacy.BAD_KEY:
            raise SourceUnavailable(self._department, "refused the gateway's application key")
        if envelope.code == legacy.FAILED:
            raise SourceUnavailable(self._department, "reported a failure")
        if envelope.code != legacy.OK or envelope.data is None:
            raise SourceBadResponse(self._department, "answered with an unknown return code")
        try:
            record = legacy.to_record(
                self._department, legacy.LegacyRecord.model_validate(envelope.data)
            )
        except (pydantic.ValidationError, ValueError) as exc:
            log.warning("invalid record from the %s registry: %s", self._department, exc)
            raise SourceBadResponse(
                self._department, "sent a record that does not match its legacy API"
            ) from exc
        if record.subject_id != subject_id:
            raise SourceBadResponse(self._department, "answered for a different subject")
        return record

    def _envelope(self, body: bytes) -> legacy.Envelope:
        try:
            return legacy.Envelope.model_validate(orjson.loads(body))
        except orjson.JSONDecodeError as exc:
            raise SourceBadResponse(self._department, "sent a body that is not JSON") from exc
        except pydantic.ValidationError as exc:
            raise SourceBadResponse(
                self._department, "sent an answer without its envelope"
            ) from exc

    async def _get(self, url: URL, query: dict[str, str]) -> tuple[int, bytes]:
        """One call, bounded as a whole (waiting for a slot included) by the total timeout."""
        try:
            async with (
                asyncio.timeout(self._settings.timeout_s),
                self._slots,
                self._session.get(
                    url, params=query, headers=self._headers, timeout=self._timeout
                ) as response,
            ):
                return response.status, await self._read_capped(response)
        except TimeoutError as exc:
            raise SourceTimeout(
                self._department, f"did not answer within {self._settings.timeout_s:g} s"
            ) from exc
        except (aiohttp.ClientConnectionError, aiohttp.ClientPayloadError) as exc:
            raise SourceUnavailable(self._department, "could not be reached") from exc
        except aiohttp.ClientError as exc:
            raise SourceUnavailable(self._department, "failed at the HTTP level") from exc

    async def _read_capped(self, response: aiohttp.ClientResponse) -> bytes:
        cap = self._settings.max_response_bytes
        if response.content_length is not None and response.content_length > cap:
            raise SourceBadResponse(self._department, "sent a response larger than allowed")
        body = bytearray()
        async for chunk in response.content.iter_chunked(_CHUNK):
            body += chunk
            if len(body) > cap:
                raise SourceBadResponse(self._department, "sent a response larger than allowed")
        return bytes(body)

    def _unexpected_status(self, status: int) -> SourceError:
        if status == 429 or status >= 500:
            # The gateway retries a 5xx; this registry's 429 never says when to come back.
            return SourceUnavailable(
                self._department, f"answered HTTP {status}", retryable=status != 429
            )
        return SourceBadResponse(self._department, f"answered HTTP {status} unexpectedly")


class TourismPlugin:
    """The entry point ``tourism`` (group ``credit_gateway.connectors``): a `ConnectorPlugin`."""

    record_model: type[SubjectRecord] = TourismRecord

    def build(
        self, department: str, settings: ConnectorSettings, session: aiohttp.ClientSession
    ) -> Connector:
        """Validate ``options`` (a `pydantic.ValidationError` names the bad key) and connect."""
        options = TourismOptions.model_validate(settings.options)
        return TourismConnector(department, settings, session, options)
