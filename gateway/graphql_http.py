"""`/graphql`: GraphQL over HTTP, written on starlette so every refusal has a code and a status.

- POST `application/json` bodies (size-capped); GET with `query` for queries only; GET from a
  browser without a query serves GraphiQL when enabled.
- A client that accepts `application/graphql-response+json` gets it, and with it the 4xx status the
  GraphQL-over-HTTP spec gives to requests that fail before execution; `application/json` clients
  get 200 for any well-formed request, as that spec says for them.
- Responses are encoded with orjson.
"""

from __future__ import annotations

import logging
import re
import uuid
from dataclasses import dataclass
from typing import Any

import orjson
from starlette.requests import ClientDisconnect, Request
from starlette.responses import HTMLResponse, Response
from strawberry.http.ides import get_graphql_ide_html

from gateway.audit import AuditUnavailable
from gateway.audit_events import audit_events, refused_lookups
from gateway.errors import format_error, request_error
from gateway.execution import Refusal, Result
from gateway.services import Services
from gateway.tokens import Unauthenticated
from resolvers.context import RequestContext
from resolvers.errors import ErrorCode
from schema.examples import PROFILE_QUERY

log = logging.getLogger(__name__)

GRAPHQL_RESPONSE = "application/graphql-response+json"
JSON = "application/json"
_REQUEST_ID = re.compile(r"^[A-Za-z0-9._-]{1,64}$")
_EXAMPLE = re.compile(r"const EXAMPLE_QUERY = `.*?`;", re.S)


@dataclass(frozen=True, slots=True)
class GraphQLRequest:
    query: str
    variables: dict[str, Any] | None
    operation_name: str | None


class RequestRefused(Exception):
    def __init__(
        self,
        status: int,
        code: ErrorCode,
        message: str,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.status, self.code, self.message = status, code, message
        self.headers = headers or {}


def request_id_of(request: Request) -> str:
    given = request.headers.get("x-request-id", "")
    return given if _REQUEST_ID.match(given) else uuid.uuid4().hex


async def graphql_endpoint(request: Request) -> Response:
    services: Services = request.app.state.services
    request_id = request_id_of(request)
    media_type = _response_media_type(request)
    try:
        if request.method == "GET" and "query" not in request.query_params:
            if services.settings.graphql.graphiql and "text/html" in request.headers.get(
                "accept", ""
            ):
                return HTMLResponse(graphiql_html())
            raise RequestRefused(400, ErrorCode.BAD_REQUEST, "No GraphQL query in the request.")
        gql = await _read_request(request, services.settings.graphql.max_body_bytes)
    except RequestRefused as refused:
        body = request_error(refused.code, refused.message, request_id)
        return _json(body, refused.status, request_id, JSON, refused.headers)

    try:
        principal = await services.verifier.principal(request.headers.get("authorization"))
    except Unauthenticated as exc:
        body = request_error(ErrorCode.UNAUTHENTICATED, str(exc), request_id)
        challenge = {"www-authenticate": 'Bearer error="invalid_token"'}
        return _json(body, 401, request_id, JSON, challenge)
    context = RequestContext(
        request_id=request_id,
        sources=services.sources,
        principal=principal,
        catalogue=services.catalogue,
        usage=services.audit.store.usage,
        max_batch=services.settings.graphql.max_batch,
        measures=services.measures,
        upstreams=services.upstreams,
    )
    result = await services.executor.run(
        gql.query, gql.variables, gql.operation_name, context, principal
    )
    denied_lookups = refused_lookups(
        result.plan, result.operation, gql.variables, result.refusal is Refusal.FORBIDDEN
    )
    events = audit_events(context, result.plan, request_id, denied_lookups)
    if events:
        try:
            await services.audit.record(events)
        except AuditUnavailable:
            log.error("request %s: audit unavailable; %d lookups refused", request_id, len(events))
            body = request_error(
                ErrorCode.AUDIT_UNAVAILABLE,
                "The lookup could not be recorded in the audit log, so no data is returned. "
                "Try again shortly.",
                request_id,
            )
            return _json(body, 503, request_id, media_type, {"retry-after": "5"})
    headers: dict[str, str] = {}
    if result.refusal is Refusal.NOT_A_QUERY and request.method == "GET":
        status, headers = 405, {"allow": "POST"}
    elif result.refusal is Refusal.FORBIDDEN:
        status = 403
    elif result.refusal is not None or (not result.executed and media_type == GRAPHQL_RESPONSE):
        status = 400
    else:
        status = 200
    return _json(_body(result, request_id), status, request_id, media_type, headers)


def graphiql_html() -> str:
    example = "const EXAMPLE_QUERY = `" + PROFILE_QUERY.replace("`", "\\`") + "`;"
    return _EXAMPLE.sub(lambda _: example, get_graphql_ide_html("graphiql"), count=1)


def _body(result: Result, request_id: str) -> dict[str, Any]:
    body: dict[str, Any] = {}
    if result.errors:
        body["errors"] = [format_error(error, request_id) for error in result.errors]
    if result.executed:
        body["data"] = result.data
    body["extensions"] = {"requestId": request_id}
    return body


async def _read_request(request: Request, max_body: int) -> GraphQLRequest:
    if request.method == "GET":
        params = request.query_params
        return _parse_payload(
            {
                "query": params.get("query"),
                "variables": _json_param(params.get("variables")),
                "operationName": params.get("operationName"),
            }
        )
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if content_type not in (JSON, "application/graphql+json"):
        raise RequestRefused(
            415,
            ErrorCode.BAD_REQUEST,
            "Send the GraphQL request as application/json.",
            {"accept-post": "application/json"},
        )
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > max_body:
        raise _too_large(max_body)
    body = bytearray()
    try:
        async for chunk in request.stream():
            body += chunk
            if len(body) > max_body:
                raise _too_large(max_body)
    except ClientDisconnect as exc:
        raise RequestRefused(400, ErrorCode.BAD_REQUEST, "The client went away.") from exc
    try:
        payload = orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        raise RequestRefused(
            400, ErrorCode.BAD_REQUEST, "The request body is not valid JSON (UTF-8)."
        ) from exc
    return _parse_payload(payload)


def _parse_payload(payload: object) -> GraphQLRequest:
    if isinstance(payload, list):
        raise RequestRefused(
            400, ErrorCode.BAD_REQUEST, "Batched requests are not served; use `subjects(ids:)`."
        )
    if not isinstance(payload, dict):
        raise RequestRefused(400, ErrorCode.BAD_REQUEST, "The request body must be a JSON object.")
    query, variables, name = (
        payload.get("query"),
        payload.get("variables"),
        payload.get("operationName"),
    )
    if not isinstance(query, str) or not query.strip():
        raise RequestRefused(400, ErrorCode.BAD_REQUEST, "`query` must be a non-empty string.")
    if variables is not None and not isinstance(variables, dict):
        raise RequestRefused(400, ErrorCode.BAD_REQUEST, "`variables` must be a JSON object.")
    if name is not None and not isinstance(name, str):
        raise RequestRefused(400, ErrorCode.BAD_REQUEST, "`operationName` must be a string.")
    return GraphQLRequest(query, variables, name)


def _json_param(raw: str | None) -> object:
    if raw is None or raw == "":
        return None
    try:
        return orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        raise RequestRefused(400, ErrorCode.BAD_REQUEST, "`variables` is not valid JSON.") from exc


def _too_large(max_body: int) -> RequestRefused:
    return RequestRefused(
        413, ErrorCode.BAD_REQUEST, f"The request body is larger than {max_body} bytes."
    )


def _response_media_type(request: Request) -> str:
    accept = request.headers.get("accept", "")
    return GRAPHQL_RESPONSE if GRAPHQL_RESPONSE in accept else JSON


def _json(
    body: dict[str, Any],
    status: int,
    request_id: str,
    media_type: str,
    headers: dict[str, str] | None = None,
) -> Response:
    return Response(
        orjson.dumps(body),
        status_code=status,
        media_type=media_type,
        headers={"x-request-id": request_id, **(headers or {})},
    )
