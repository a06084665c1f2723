"""Does a live registry serve the registry API? (`credit-gateway connectors check`)

`check_registry` calls a registry the way the gateway does, and a little more, and returns a
`ConformanceReport`: one named `Check` per rule, each PASS, WARN (allowed, but worth fixing), FAIL
(the gateway would see an error or wrong data) or SKIP (could not be checked because an earlier
check failed), with a reason a department's developer can act on. The rules are those of
registries/openapi.yaml and connectors/records.py:

- ``health``: ``GET /v1/health`` → 200, a `RegistryHealth`, status ``ok``, this department;
- ``list.page``: ``GET /v1/subjects?limit=N`` → 200, a `SubjectPage` of at most N distinct ids;
- ``list.paging``: following ``next`` with ``after=`` gives further pages, no id twice;
- ``record.get``, per sample id: ``GET /v1/subjects/{id}`` → 200, JSON, a valid record of the
  department's model whose ``subjectId`` is the id asked for;
- ``record.cache``: ``ETag`` and ``Cache-Control: max-age`` on records (WARN when absent);
- ``record.revalidate``: ``If-None-Match`` with the ETag → 304 (WARN when ignored);
- ``record.not_found``: an id that cannot exist → 404;
- ``batch``: ``POST /v1/subjects:batch`` with the sample ids and an impossible one → each id once,
  in ``records`` (valid, keyed by its ``subjectId``) or in ``missing``, as the single answers said;
- ``batch.malformed``: a body that is not ``{"ids": [...]}``, or not JSON → 4xx, never 2xx or 5xx;
- ``timing.<endpoint>``: p50 and max per endpoint; WARN above the threshold.

Every request is bounded by the timeout (connecting, waiting and reading together), and bodies by
a size cap, so a hanging or flooding registry yields FAIL lines, not a hang. The whole check makes
about 2 × samples + 8 requests, one at a time (so the timings are not of a registry under load).
"""

from __future__ import annotations

import asyncio
import enum
import statistics
import time
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from urllib.parse import quote, urlencode

import aiohttp
import orjson
import pydantic
from multidict import CIMultiDictProxy
from yarl import URL

from connectors.records import BatchResponse, RegistryHealth, SubjectPage, SubjectRecord

IMPOSSIBLE_ID = "ZZZZZZZZZZZZZZZZZZ"
"""Neither a unified social credit code nor a resident id (``Z`` is in neither alphabet)."""

DEFAULT_TIMEOUT_S = 5.0
DEFAULT_SAMPLES = 5
DEFAULT_SLOW_MS = 1000.0
MAX_PAGES = 3
MAX_BODY_BYTES = 16 * 1024 * 1024
_CHUNK = 64 * 1024
_SHOWN_ERRORS = 3
_SHOWN_IDS = 5


class Verdict(enum.Enum):
    PASS = "PASS"
    WARN = "WARN"
    FAIL = "FAIL"
    SKIP = "SKIP"


@dataclass(frozen=True, slots=True)
class Check:
    """One rule checked: its stable name, the verdict, and why."""

    name: str
    verdict: Verdict
    reason: str
    subject: str | None = None
    """The id a per-subject check is about."""

    def to_dict(self) -> dict[str, object]:
        return {
            "name": self.name,
            "verdict": self.verdict.value,
            "reason": self.reason,
            "subject": self.subject,
        }


@dataclass(frozen=True, slots=True)
class Timing:
    """Latency of the answers of one endpoint (requests that got no answer are not counted)."""

    endpoint: str
    count: int
    p50_ms: float
    max_ms: float

    def to_dict(self) -> dict[str, object]:
        return {
            "endpoint": self.endpoint,
            "count": self.count,
            "p50_ms": round(self.p50_ms, 2),
            "max_ms": round(self.max_ms, 2),
        }


@dataclass(slots=True)
class ConformanceReport:
    url: str
    department: str
    record_model: str
    checks: list[Check] = field(default_factory=list)
    timings: list[Timing] = field(default_factory=list)
    elapsed_s: float = 0.0

    @property
    def passed(self) -> bool:
        """No check failed (warnings and skips alone do not fail a registry)."""
        return not any(check.verdict is Verdict.FAIL for check in self.checks)

    def count(self, verdict: Verdict) -> int:
        return sum(1 for check in self.checks if check.verdict is verdict)

    def failed(self) -> list[Check]:
        return [check for check in self.checks if check.verdict is Verdict.FAIL]

    def verdicts(self, name: str) -> list[Verdict]:
        """The verdicts of every check called `name` (several for per-subject checks)."""
        return [check.verdict for check in self.checks if check.name == name]

    def to_dict(self) -> dict[str, object]:
        return {
            "url": self.url,
            "department": self.department,
            "record_model": self.record_model,
            "passed": self.passed,
            "counts": {verdict.value: self.count(verdict) for verdict in Verdict},
            "elapsed_s": round(self.elapsed_s, 3),
            "checks": [check.to_dict() for check in self.checks],
            "timings": [timing.to_dict() for timing in self.timings],
        }


async def check_registry(
    url: str,
    department: str,
    record_model: type[SubjectRecord],
    *,
    ids: Sequence[str] = (),
    samples: int = DEFAULT_SAMPLES,
    timeout_s: float = DEFAULT_TIMEOUT_S,
    slow_ms: float = DEFAULT_SLOW_MS,
    max_body_bytes: int = MAX_BODY_BYTES,
    session: aiohttp.ClientSession | None = None,
) -> ConformanceReport:
    """Check the registry at `url` (its base, before ``/v1``) against the registry API.

    `ids` are subject ids the registry holds (else the first `samples` ids it lists are used);
    every request gives up after `timeout_s`; an endpoint whose slowest answer took more than
    `slow_ms` gets a WARN. Uses `session` if given, else one of its own.
    """
    if samples < 1:
        raise ValueError("samples must be at least 1")
    if timeout_s <= 0:
        raise ValueError("the timeout must be positive")
    started = time.perf_counter()
    report = ConformanceReport(url, department, record_model.__name__)
    own = session is None
    client = session or aiohttp.ClientSession(auto_decompress=True)
    try:
        probe = _Probe(client, url, department, record_model, timeout_s, max_body_bytes, report)
        await probe.run(list(dict.fromkeys(ids)), samples)
    finally:
        if own:
            await client.close()
    report.timings = probe.timings()
    for timing in report.timings:
        summary = f"p50 {timing.p50_ms:.1f} ms, max {timing.max_ms:.1f} ms over {timing.count}"
        if timing.max_ms > slow_ms:
            report.checks.append(
                Check(
                    f"timing.{timing.endpoint}",
                    Verdict.WARN,
                    f"{summary}: slower than {slow_ms:g} ms (the gateway's default timeout is "
                    "3 s per call)",
                )
            )
        else:
            report.checks.append(Check(f"timing.{timing.endpoint}", Verdict.PASS, summary))
    report.elapsed_s = time.perf_counter() - started
    return report


@dataclass(frozen=True, slots=True)
class _Answer:
    status: int
    headers: CIMultiDictProxy[str]
    body: bytes

    @property
    def is_json(self) -> bool:
        kind = self.headers.get("Content-Type", "").split(";")[0].strip().lower()
        return kind == "application/json" or kind.endswith("+json")

    @property
    def content_type(self) -> str:
        return self.headers.get("Content-Type", "(none)")


class _Failed(Exception):
    """A request got no usable answer (the message says why)."""


class _Probe:
    def __init__(
        self,
        session: aiohttp.ClientSession,
        url: str,
        department: str,
        record_model: type[SubjectRecord],
        timeout_s: float,
        max_body_bytes: int,
        report: ConformanceReport,
    ) -> None:
        self._session = session
        self._base = url.rstrip("/")
        self._department = department
        self._model = record_model
        self._timeout_s = timeout_s
        self._client_timeout = aiohttp.ClientTimeout(total=None, sock_connect=timeout_s)
        self._max_body = max_body_bytes
        self._report = report
        self._latencies: dict[str, list[float]] = {}

    def timings(self) -> list[Timing]:
        return [
            Timing(endpoint, len(values), statistics.median(values), max(values))
            for endpoint, values in self._latencies.items()
            if values
        ]

    def _add(self, name: str, verdict: Verdict, reason: str, subject: str | None = None) -> None:
        self._report.checks.append(Check(name, verdict, reason, subject))

    async def run(self, given: list[str], samples: int) -> None:
        await self._health()
        listed = await self._listing(page_size=max(2, min(samples, 1000)))
        sample_ids = given or (listed or [])[:samples]
        if not sample_ids:
            why = (
                "the listing failed, and no --ids were given"
                if listed is None
                else "the registry lists no subjects, and no --ids were given"
            )
            for name in ("record.get", "record.cache", "record.revalidate"):
                self._add(name, Verdict.SKIP, f"no sample id to ask for: {why}")
            held: dict[str, bool] = {}
        else:
            held = await self._records(sample_ids, from_listing=not given)
        await self._not_found()
        await self._batch(sample_ids, held)
        await self._malformed_batch()

    # -- requests ------------------------------------------------------------------------------

    async def _call(
        self,
        endpoint: str,
        method: str,
        path: str,
        *,
        body: bytes | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> _Answer:
        sent = {"Accept": "application/json", **(headers or {})}
        if body is not None:
            sent["Content-Type"] = "application/json"
        started = time.perf_counter()
        try:
            async with (
                asyncio.timeout(self._timeout_s),
                self._session.request(
                    method,
                    URL(self._base + path, encoded=True),
                    data=body,
                    headers=sent,
                    timeout=self._client_timeout,
                    allow_redirects=False,
                ) as response,
            ):
                payload = await self._read(response)
                answer = _Answer(response.status, response.headers, payload)
        except TimeoutError as exc:
            raise _Failed(f"no complete answer within {self._timeout_s:g} s") from exc
        except aiohttp.ClientConnectorError as exc:
            raise _Failed(f"could not connect: {exc.os_error.strerror or exc}") from exc
        except (aiohttp.ClientConnectionError, aiohttp.ClientPayloadError) as exc:
            raise _Failed(f"the connection failed: {type(exc).__name__}: {exc}") from exc
        except aiohttp.ClientError as exc:
            raise _Failed(f"HTTP error: {type(exc).__name__}: {exc}") from exc
        self._latencies.setdefault(endpoint, []).append((time.perf_counter() - started) * 1000)
        return answer

    async def _read(self, response: aiohttp.ClientResponse) -> bytes:
        declared = response.content_length
        if declared is not None and declared > self._max_body:
            raise _Failed(f"a body of {declared} bytes, more than {self._max_body} allowed")
        body = bytearray()
        async for chunk in response.content.iter_chunked(_CHUNK):
            body += chunk
            if len(body) > self._max_body:
                raise _Failed(f"a body of more than {self._max_body} bytes")
        return bytes(body)

    # -- checks --------------------------------------------------------------------------------

    async def _health(self) -> None:
        name = "health"
        try:
            answer = await self._call("health", "GET", "/v1/health")
        except _Failed as exc:
            self._add(name, Verdict.FAIL, str(exc))
            return
        if answer.status != 200:
            self._add(name, Verdict.FAIL, f"answered HTTP {answer.status}, expected 200")
            return
        try:
            health = RegistryHealth.model_validate(_json(answer.body))
        except (ValueError, pydantic.ValidationError) as exc:
            self._add(name, Verdict.FAIL, f"the body is not a RegistryHealth: {_why(exc)}")
            return
        if health.department != self._department:
            self._add(
                name,
                Verdict.FAIL,
                f"says it is the {health.department!r} registry, expected {self._department!r}",
            )
        elif health.status != "ok":
            self._add(
                name,
                Verdict.FAIL,
                f"status {health.status!r}: the gateway counts the registry ready only on 'ok'",
            )
        elif not answer.is_json:
            self._add(name, Verdict.WARN, f"valid, but Content-Type is {answer.content_type}")
        else:
            held = "" if health.subjects is None else f", {health.subjects} subjects"
            self._add(name, Verdict.PASS, f"status ok, department {health.department}{held}")

    async def _page(self, limit: int, after: str | None) -> SubjectPage:
        query = {"limit": str(limit)} if after is None else {"limit": str(limit), "after": after}
        answer = await self._call("list", "GET", f"/v1/subjects?{urlencode(query)}")
        if answer.status != 200:
            raise _Failed(f"answered HTTP {answer.status}, expected 200")
        try:
            page = SubjectPage.model_validate(_json(answer.body))
        except (ValueError, pydantic.ValidationError) as exc:
            raise _Failed(f"the body is not a SubjectPage: {_why(exc)}") from exc
        if len(page.ids) > limit:
            raise _Failed(f"{len(page.ids)} ids for limit={limit}")
        if len(set(page.ids)) != len(page.ids):
            raise _Failed(f"the page lists an id twice: {_show(_duplicates(page.ids))}")
        return page

    async def _listing(self, page_size: int) -> list[str] | None:
        """Check paging; the ids seen (None when the first page failed)."""
        try:
            first = await self._page(page_size, None)
        except _Failed as exc:
            self._add("list.page", Verdict.FAIL, f"GET /v1/subjects?limit={page_size}: {exc}")
            self._add("list.paging", Verdict.SKIP, "the first page failed")
            return None
        if not first.ids:
            self._add("list.page", Verdict.WARN, "the registry lists no subjects")
            self._add("list.paging", Verdict.SKIP, "nothing to page through")
            return []
        more = "a next cursor" if first.next else "the last page"
        self._add("list.page", Verdict.PASS, f"{len(first.ids)} ids (limit={page_size}), {more}")
        seen = list(first.ids)
        cursor, pages = first.next, 1
        if cursor is None:
            self._add(
                "list.paging",
                Verdict.WARN,
                f"one page holds every id ({len(seen)}): after= was not exercised",
            )
            return seen
        while cursor is not None and pages < MAX_PAGES:
            try:
                page = await self._page(page_size, cursor)
            except _Failed as exc:
                self._add("list.paging", Verdict.FAIL, f"after={cursor}: {exc}")
                return seen
            repeated = set(page.ids) & set(seen)
            if repeated:
                self._add(
                    "list.paging",
                    Verdict.FAIL,
                    f"after={cursor} repeats ids of earlier pages: {_show(sorted(repeated))}",
                )
                return seen
            if not page.ids and page.next is not None:
                self._add("list.paging", Verdict.FAIL, f"after={cursor}: empty page with a next")
                return seen
            seen += page.ids
            cursor, pages = page.next, pages + 1
        rest = "more follow" if cursor is not None else "to the last page"
        self._add(
            "list.paging",
            Verdict.PASS,
            f"{pages} pages with after=, {len(seen)} distinct ids ({rest})",
        )
        return seen

    async def _records(self, ids: list[str], from_listing: bool) -> dict[str, bool]:
        """`record.get` per id; whether the registry holds each id (for the batch check)."""
        held: dict[str, bool] = {}
        headers: list[tuple[str, _Answer]] = []
        origin = "it was listed" if from_listing else "given with --ids"
        for subject_id in ids:
            try:
                answer = await self._call("get", "GET", _subject_path(subject_id))
            except _Failed as exc:
                self._add("record.get", Verdict.FAIL, str(exc), subject_id)
                continue
            if answer.status == 404:
                held[subject_id] = False
                self._add(
                    "record.get",
                    Verdict.FAIL,
                    f"404: the registry holds no record of this id ({origin})",
                    subject_id,
                )
                continue
            if answer.status != 200:
                self._add(
                    "record.get",
                    Verdict.FAIL,
                    f"answered HTTP {answer.status}, expected 200",
                    subject_id,
                )
                continue
            held[subject_id] = True
            headers.append((subject_id, answer))
            problem = self._record_problem(subject_id, answer.body)
            if problem is None and not answer.is_json:
                problem = f"Content-Type is {answer.content_type}, expected application/json"
            if problem is not None:
                self._add("record.get", Verdict.FAIL, problem, subject_id)
            else:
                self._add(
                    "record.get",
                    Verdict.PASS,
                    f"a valid {self._model.__name__} ({_size(answer.body)})",
                    subject_id,
                )
        await self._cache_headers(headers)
        return held

    def _record_problem(self, subject_id: str, raw: object) -> str | None:
        """Why `raw` (bytes or decoded JSON) is not a valid record of `subject_id`, or None."""
        try:
            data = _json(raw) if isinstance(raw, bytes) else raw
            record = self._model.model_validate(data, context={"department": self._department})
        except (ValueError, pydantic.ValidationError) as exc:
            return f"not a valid {self._model.__name__}: {_why(exc)}"
        if record.subject_id != subject_id:
            return f"subjectId is {record.subject_id!r}, not the id asked for"
        return None

    async def _cache_headers(self, answers: list[tuple[str, _Answer]]) -> None:
        if not answers:
            reason = "no record was answered"
            self._add("record.cache", Verdict.SKIP, reason)
            self._add("record.revalidate", Verdict.SKIP, reason)
            return
        etags = [answer.headers.get("ETag") for _, answer in answers]
        controls = [answer.headers.get("Cache-Control") for _, answer in answers]
        lacking: list[str] = []
        if not all(etags):
            lacking.append(f"ETag on {sum(1 for tag in etags if not tag)} of {len(etags)}")
        if not all(control and "max-age" in control for control in controls):
            missing = sum(1 for control in controls if not (control and "max-age" in control))
            lacking.append(f"Cache-Control: max-age on {missing} of {len(controls)}")
        if lacking:
            self._add(
                "record.cache",
                Verdict.WARN,
                f"missing {' and '.join(lacking)} (recommended; the gateway uses its own TTL)",
            )
        else:
            self._add("record.cache", Verdict.PASS, f"ETag and Cache-Control: {controls[0]}")
        subject_id, first = answers[0]
        etag = first.headers.get("ETag")
        if not etag:
            self._add("record.revalidate", Verdict.SKIP, "no ETag to revalidate with")
            return
        try:
            again = await self._call(
                "get", "GET", _subject_path(subject_id), headers={"If-None-Match": etag}
            )
        except _Failed as exc:
            self._add("record.revalidate", Verdict.FAIL, str(exc), subject_id)
            return
        if again.status == 304:
            self._add("record.revalidate", Verdict.PASS, "If-None-Match → 304", subject_id)
        elif again.status == 200:
            self._add(
                "record.revalidate",
                Verdict.WARN,
                "If-None-Match with the record's own ETag answered 200, not 304 (recommended)",
                subject_id,
            )
        else:
            self._add(
                "record.revalidate",
                Verdict.FAIL,
                f"If-None-Match answered HTTP {again.status}, expected 304 (or 200)",
                subject_id,
            )

    async def _not_found(self) -> None:
        name = "record.not_found"
        try:
            answer = await self._call("get", "GET", _subject_path(IMPOSSIBLE_ID))
        except _Failed as exc:
            self._add(name, Verdict.FAIL, str(exc), IMPOSSIBLE_ID)
            return
        if answer.status == 404:
            self._add(name, Verdict.PASS, "404 for an id that cannot exist", IMPOSSIBLE_ID)
        elif answer.status == 200:
            self._add(
                name,
                Verdict.FAIL,
                "answered 200 for an id that cannot exist (the gateway would show a record)",
                IMPOSSIBLE_ID,
            )
        else:
            self._add(
                name,
                Verdict.FAIL,
                f"answered HTTP {answer.status} for an id it does not hold, expected 404",
                IMPOSSIBLE_ID,
            )

    async def _batch(self, sample_ids: list[str], held: dict[str, bool]) -> None:
        name = "batch"
        asked = [*sample_ids, IMPOSSIBLE_ID]
        try:
            answer = await self._call(
                "batch", "POST", "/v1/subjects:batch", body=orjson.dumps({"ids": asked})
            )
        except _Failed as exc:
            self._add(name, Verdict.FAIL, str(exc))
            return
        if answer.status != 200:
            self._add(name, Verdict.FAIL, f"answered HTTP {answer.status}, expected 200")
            return
        try:
            raw = _json(answer.body)
            batch = BatchResponse.model_validate(raw)
        except (ValueError, pydantic.ValidationError) as exc:
            self._add(name, Verdict.FAIL, f"the body is not a BatchResponse: {_why(exc)}")
            return
        problems: list[str] = []
        warnings: list[str] = []
        if not answer.is_json:
            problems.append(f"Content-Type is {answer.content_type}")
        if isinstance(raw, dict) and "missing" not in raw:
            problems.append("no `missing` list (every id asked for and not held must be in it)")
        found, missing = set(batch.records), set(batch.missing)
        requested = set(asked)
        left_out = [i for i in asked if i not in found and i not in missing]
        if left_out:
            problems.append(f"ids in neither records nor missing: {_show(left_out)}")
        both = sorted(found & missing)
        if both:
            problems.append(f"ids in both records and missing: {_show(both)}")
        if IMPOSSIBLE_ID in found:
            problems.append(f"a record for {IMPOSSIBLE_ID}, an id that cannot exist")
        inconsistent = [
            i for i, holds in held.items() if (holds and i in missing) or (not holds and i in found)
        ]
        if inconsistent:
            problems.append(f"answers differ from GET /v1/subjects/{{id}}: {_show(inconsistent)}")
        invalid: list[str] = []
        for subject_id in sorted(found & requested):
            problem = self._record_problem(subject_id, batch.records[subject_id])
            if problem is not None:
                invalid.append(f"{subject_id}: {problem}")
        if invalid:
            more = f" (and {len(invalid) - 1} more)" if len(invalid) > 1 else ""
            problems.append(f"invalid records, e.g. {invalid[0]}{more}")
        extra = sorted((found | missing) - requested)
        if extra:
            warnings.append(f"answers ids it was not asked for: {_show(extra)}")
        if problems:
            self._add(name, Verdict.FAIL, "; ".join(problems))
        elif warnings:
            self._add(name, Verdict.WARN, "; ".join(warnings))
        else:
            self._add(
                name,
                Verdict.PASS,
                f"{len(found)} valid records, {len(missing)} missing, for {len(asked)} ids asked",
            )

    async def _malformed_batch(self) -> None:
        name = "batch.malformed"
        bodies = {'{"id": []}': b'{"id": []}', "a body that is not JSON": b"{ids: oops"}
        problems: list[str] = []
        statuses: list[str] = []
        for label, body in bodies.items():
            try:
                answer = await self._call("batch", "POST", "/v1/subjects:batch", body=body)
            except _Failed as exc:
                problems.append(f"{label}: {exc}")
                continue
            statuses.append(str(answer.status))
            if not 400 <= answer.status < 500:
                problems.append(f"{label} answered HTTP {answer.status}, expected 4xx (400)")
        if problems:
            self._add(name, Verdict.FAIL, "; ".join(problems))
        else:
            self._add(name, Verdict.PASS, f"malformed bodies answered {', '.join(statuses)}")


def _subject_path(subject_id: str) -> str:
    return f"/v1/subjects/{quote(subject_id, safe='')}"


def _json(body: bytes) -> object:
    try:
        return orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        raise ValueError(f"not JSON ({_size(body)})") from exc


def _why(exc: Exception) -> str:
    if isinstance(exc, pydantic.ValidationError):
        errors = exc.errors(include_url=False)
        shown = "; ".join(
            f"{'.'.join(str(part) for part in error['loc']) or '(top)'}: {error['msg']}"
            for error in errors[:_SHOWN_ERRORS]
        )
        more = len(errors) - _SHOWN_ERRORS
        return shown + (f" (and {more} more)" if more > 0 else "")
    return str(exc)


def _show(ids: Sequence[str]) -> str:
    shown = ", ".join(ids[:_SHOWN_IDS])
    return shown + (f" (and {len(ids) - _SHOWN_IDS} more)" if len(ids) > _SHOWN_IDS else "")


def _duplicates(ids: Sequence[str]) -> list[str]:
    return sorted(i for i, count in Counter(ids).items() if count > 1)


def _size(body: bytes) -> str:
    return f"{len(body)} B" if len(body) < 1024 else f"{len(body) / 1024:.1f} kB"
