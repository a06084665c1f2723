"""The registry HTTP API of one department (registries/openapi.yaml), over a `Dataset`.

``/v1/...`` is the API a real department implements; every request to it is counted, then suffers
the injected faults. ``/admin/...`` exists only in the reference registries, to steer faults and
read counters, and is never faulted.

Encoded records are cached per registry (bounded), so a benchmark measures the gateway, not the
synthetic data generator.
"""

from __future__ import annotations

import functools
import hashlib
from dataclasses import dataclass

import orjson
import pydantic
from aiohttp import web
from aiohttp.typedefs import Middleware

from connectors.records import BatchRequest
from registries.dataset import Dataset
from registries.departments import rules_for
from registries.faults import Faults, FaultSwitch
from registries.identifiers import normalise_id
from registries.injection import JSON, Handler, json_error, json_response, with_faults
from registries.stats import RegistryStats

MAX_BATCH = 1000
DEFAULT_PAGE = 100
MAX_PAGE = 1000
CACHE_CONTROL = "max-age=60"


@dataclass(frozen=True, slots=True)
class EncodedRecord:
    """A record as served: its JSON body and strong ETag."""

    body: bytes
    etag: str


class RegistryState:
    """Everything one registry keeps between requests (and across a stop and restart)."""

    def __init__(
        self,
        department: str,
        dataset: Dataset,
        faults: Faults | None = None,
        *,
        body_cache_size: int = 16_384,
    ) -> None:
        rules_for(department)
        self.department = department
        self.dataset = dataset
        self.faults = FaultSwitch(faults)
        self.stats = RegistryStats()
        self._encoded = functools.lru_cache(maxsize=body_cache_size)(self._encode)

    def encoded(self, index: int) -> EncodedRecord | None:
        """The served form of subject `index`'s record, or None when this registry lacks it."""
        return self._encoded(index)

    def _encode(self, index: int) -> EncodedRecord | None:
        record = self.dataset.record(self.department, index)
        if record is None:
            return None
        body = orjson.dumps(record.model_dump(mode="json", by_alias=True))
        return EncodedRecord(body, f'"{hashlib.blake2b(body, digest_size=16).hexdigest()}"')


STATE_KEY = web.AppKey("registry_state", RegistryState)
"""``app[STATE_KEY]``: the live faults, stats and dataset of an app from `create_registry_app`."""


def create_registry_app(
    department: str, dataset: Dataset, faults: Faults | None = None
) -> web.Application:
    """The registry API of `department` (one of connectors.records.RECORD_MODELS) over `dataset`."""
    return build_app(RegistryState(department, dataset, faults))


def build_app(state: RegistryState) -> web.Application:
    """An application over existing state; a restarted server keeps its faults and counters."""
    app = web.Application(middlewares=[_counted_and_faulted(state)])
    app[STATE_KEY] = state
    api = _RegistryApi(state)
    app.router.add_post("/v1/subjects:batch", api.batch, name="batch")
    app.router.add_get("/v1/subjects/{id}", api.single, name="single")
    app.router.add_get("/v1/subjects", api.page, name="list")
    app.router.add_get("/v1/health", api.health, name="health")
    admin = _AdminApi(state)
    app.router.add_get("/admin/faults", admin.get_faults)
    app.router.add_put("/admin/faults", admin.put_faults)
    app.router.add_delete("/admin/faults", admin.delete_faults)
    app.router.add_get("/admin/stats", admin.get_stats)
    app.router.add_delete("/admin/stats", admin.delete_stats)
    return app


def _counted_and_faulted(state: RegistryState) -> Middleware:
    @web.middleware
    async def middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
        route = request.match_info.route.name
        if route not in ("single", "batch", "list", "health"):
            return await handler(request)
        ids: int | None = 1 if route == "single" else 0
        if route == "batch":
            ids = _batch_size(await request.read())
        state.stats.count(route, ids)
        return await with_faults(state.faults, request, handler)

    return middleware


def _batch_size(body: bytes) -> int | None:
    try:
        data = orjson.loads(body)
    except orjson.JSONDecodeError:
        return None
    ids = data.get("ids") if isinstance(data, dict) else None
    return len(ids) if isinstance(ids, list) else None


class _RegistryApi:
    def __init__(self, state: RegistryState) -> None:
        self._state = state
        self._dataset = state.dataset

    async def single(self, request: web.Request) -> web.StreamResponse:
        subject_id = normalise_id(request.match_info["id"])
        index = self._dataset.index_of(subject_id)
        encoded = None if index is None else self._state.encoded(index)
        if encoded is None:
            return json_error(
                404,
                "not_found",
                f"the {self._state.department} registry holds no record of this subject",
                id=subject_id,
            )
        headers = {"ETag": encoded.etag, "Cache-Control": CACHE_CONTROL}
        if _etag_matches(request.headers.get("If-None-Match"), encoded.etag):
            return web.Response(status=304, headers=headers)
        return web.Response(body=encoded.body, content_type=JSON, headers=headers)

    async def batch(self, request: web.Request) -> web.StreamResponse:
        try:
            ids = BatchRequest.model_validate_json(await request.read()).ids
        except pydantic.ValidationError as exc:
            return json_error(
                400,
                "bad_request",
                f'the body must be {{"ids": [...]}} with at most {MAX_BATCH} string ids',
                details=_error_details(exc),
            )
        found: list[bytes] = []
        missing: list[str] = []
        for subject_id in dict.fromkeys(normalise_id(raw) for raw in ids):
            index = self._dataset.index_of(subject_id)
            encoded = None if index is None else self._state.encoded(index)
            if encoded is None:
                missing.append(subject_id)
            else:
                found.append(orjson.dumps(subject_id) + b":" + encoded.body)
        body = b'{"records":{' + b",".join(found) + b'},"missing":' + orjson.dumps(missing) + b"}"
        return web.Response(body=body, content_type=JSON)

    async def page(self, request: web.Request) -> web.StreamResponse:
        raw_limit = request.query.get("limit", str(DEFAULT_PAGE))
        try:
            limit = int(raw_limit)
        except ValueError:
            limit = 0
        if not 1 <= limit <= MAX_PAGE:
            return json_error(400, "bad_request", f"limit must be an integer from 1 to {MAX_PAGE}")
        after = request.query.get("after") or None
        try:
            ids, cursor = self._dataset.ids_after(self._state.department, after, limit)
        except ValueError:
            return json_error(400, "bad_request", "after must be a cursor this registry returned")
        return json_response(200, {"ids": ids, "next": cursor})

    async def health(self, request: web.Request) -> web.StreamResponse:
        return json_response(
            200,
            {"status": "ok", "department": self._state.department, "subjects": self._dataset.size},
        )


class _AdminApi:
    def __init__(self, state: RegistryState) -> None:
        self._state = state

    async def get_faults(self, request: web.Request) -> web.StreamResponse:
        return json_response(200, self._state.faults.faults.model_dump(mode="json"))

    async def put_faults(self, request: web.Request) -> web.StreamResponse:
        try:
            faults = Faults.model_validate_json(await request.read())
        except pydantic.ValidationError as exc:
            return json_error(400, "bad_request", "invalid faults", details=_error_details(exc))
        self._state.faults.replace(faults)
        return json_response(200, faults.model_dump(mode="json"))

    async def delete_faults(self, request: web.Request) -> web.StreamResponse:
        self._state.faults.reset()
        return json_response(200, self._state.faults.faults.model_dump(mode="json"))

    async def get_stats(self, request: web.Request) -> web.StreamResponse:
        return json_response(200, self._state.stats.snapshot())

    async def delete_stats(self, request: web.Request) -> web.StreamResponse:
        self._state.stats.reset()
        return json_response(200, self._state.stats.snapshot())


def _etag_matches(header: str | None, etag: str) -> bool:
    """RFC 9110 If-None-Match: ``*`` or a list of tags, compared weakly."""
    if header is None:
        return False
    if header.strip() == "*":
        return True
    return any(tag.strip().removeprefix("W/") == etag for tag in header.split(","))


def _error_details(exc: pydantic.ValidationError) -> list[dict[str, object]]:
    return [
        {"loc": list(error["loc"]), "msg": error["msg"], "type": error["type"]}
        for error in exc.errors(include_url=False)
    ]
