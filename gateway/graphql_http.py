"""`/graphql`: GraphQL over HTTP, written on starlette so every refusal has a code and a status.

- POST `application/json` bodies (size-capped); GET with `query` for queries only; GET from a
  browser without a query serves GraphiQL when enabled.
- A client that accepts `application/graphql-response+json` gets it, and with it the 4xx status the
  GraphQL-over-HTTP spec gives to requests that fail before execution; `application/json` clients
  get 200 for any well-formed request, as that spec says for them.
- Responses are encoded with orjson.
- Before anything is parsed: the client address's rate limit (before the body is read), the
  request's size limits (body, query string, variables' size and nesting), then the principal's
  rate limit once its token is verified. Refusals are JSON with a code (`BAD_REQUEST`,
  `RATE_LIMITED` with `Retry-After`, ...), never a stack trace.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from typing import Any

import orjson
from starlette.requests import ClientDisconnect, Request
from starlette.responses import HTMLResponse, Response
from strawberry.http.ides import get_graphql_ide_html

from connectors.deadline import Deadline
from gateway.audit import AuditUnavailable
from gateway.audit_events import AuditDrafts, audit_events, refused_lookups
from gateway.errors import format_error, request_error
from gateway.execution import Refusal, Result
from gateway.internal_errors import request_id_of
from gateway.rate_limits import RateLimited
from gateway.services import Services
from gateway.settings import GraphQLSettings
from gateway.tokens import Unauthenticated
from resolvers.context import RequestContext
from resolvers.errors import ErrorCode
from schema.examples import PROFILE_QUERY

log = logging.getLogger(__name__)

GRAPHQL_RESPONSE = "application/graphql-response+json"
JSON = "application/json"
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


async def graphql_endpoint(request: Request) -> Response:
    services: Services = request.app.state.services
    request_id = request_id_of(request)
    deadline = Deadline.after(services.settings.graphql.deadline_s)  # from the request's arrival
    media_type = _response_media_type(request)
    rate_limits = services.rate_limits
    peer = request.client.host if request.client is not None else None
    address = rate_limits.client_address(peer, request.headers.getlist("x-forwarded-for"))
    try:
        await rate_limits.check_address(address)
        if request.method == "GET":
            _check_query_string(request, services.settings.graphql.max_body_bytes)
        if request.method == "GET" and "query" not in request.query_params:
            if services.settings.graphql.graphiql and "text/html" in request.headers.get(
                "accept", ""
            ):
                return HTMLResponse(graphiql_html())
            raise RequestRefused(400, ErrorCode.BAD_REQUEST, "No GraphQL query in the request.")
        gql = await _read_request(request, services.settings.graphql)
    except RateLimited as limited:
        return _rate_limited(limited, request_id)
    except RequestRefused as refused:
        body = request_error(refused.code, refused.message, request_id)
        return _json(body, refused.status, request_id, JSON, refused.headers)

    try:
        principal = await services.verifier.principal(request.headers.get("authorization"))
    except Unauthenticated as exc:
        body = request_error(ErrorCode.UNAUTHENTICATED, str(exc), request_id)
        challenge = {"www-authenticate": 'Bearer error="invalid_token"'}
        return _json(body, 401, request_id, JSON, challenge)
    try:
        await rate_limits.check_principal(principal, address)
    except RateLimited as limited:
        return _rate_limited(limited, request_id)
    drafts = AuditDrafts()
    context = RequestContext(
        request_id=request_id,
        sources=services.sources,
        principal=principal,
        catalogue=services.catalogue,
        usage=services.audit.store.usage,
        max_batch=services.settings.graphql.max_batch,
        measures=services.measures,
        upstreams=services.upstreams,
        deadline=deadline,
        plans=services.load_plans,
        on_lookup=drafts.draft,
    )
    result = await services.executor.run(
        gql.query, gql.variables, gql.operation_name, context, principal
    )
    # A lookup refused whole before execution (strict access, or over the cost budget) is audited
    # as refused for each subject it named; over budget, nothing was denied by the policy, so its
    # entries name the lookup itself (`Query.subject`) as what was refused, not the plan's denials.
    refused_whole = result.refusal in (Refusal.FORBIDDEN, Refusal.TOO_COSTLY)
    denied_lookups = refused_lookups(result.plan, result.operation, gql.variables, refused_whole)
    audited_plan = None if result.refusal is Refusal.TOO_COSTLY else result.plan
    events = audit_events(context, audited_plan, request_id, denied_lookups, drafts)
    if events:
        try:
            await services.audit.commit(events)
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
    elif result.refusal in (Refusal.NO_OPERATION, Refusal.NOT_A_QUERY) or (
        not result.executed and media_type == GRAPHQL_RESPONSE
    ):
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


def _check_query_string(request: Request, max_bytes: int) -> None:
    """A GET's query string is held to the POST body's limit, before it is parsed."""
    if len(request.scope.get("query_string", b"")) > max_bytes:
        raise RequestRefused(
            414,
            ErrorCode.BAD_REQUEST,
            f"The query string is longer than {max_bytes} bytes; POST large requests.",
        )


async def _read_request(request: Request, limits: GraphQLSettings) -> GraphQLRequest:
    max_body = limits.max_body_bytes
    if request.method == "GET":
        params = request.query_params
        return _parse_payload(
            {
                "query": params.get("query"),
                "variables": _json_param(params.get("variables")),
                "operationName": params.get("operationName"),
            },
            limits,
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
            400, ErrorCode.BAD_REQUEST, _not_json("The request body", exc)
        ) from exc
    return _parse_payload(payload, limits)


def _parse_payload(payload: object, limits: GraphQLSettings) -> GraphQLRequest:
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
    if variables:
        _check_variables(variables, limits)
    if name is not None and not isinstance(name, str):
        raise RequestRefused(400, ErrorCode.BAD_REQUEST, "`operationName` must be a string.")
    return GraphQLRequest(query, variables, name)


def _json_param(raw: str | None) -> object:
    if raw is None or raw == "":
        return None
    try:
        return orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        raise RequestRefused(400, ErrorCode.BAD_REQUEST, _not_json("`variables`", exc)) from exc


def _not_json(what: str, error: orjson.JSONDecodeError) -> str:
    if "depth limit" in error.msg:  # orjson refuses more than 1024 levels
        return f"{what} is JSON nested too deeply (more than 1024 levels)."
    return f"{what} is not valid JSON (UTF-8)."


def _check_variables(variables: dict[str, Any], limits: GraphQLSettings) -> None:
    """Refuse variables nested deeper or larger than the limits, before graphql-core coerces
    them (recursively) or anything copies them: the schema's inputs are at most a list of ids."""
    max_depth = limits.max_variables_depth
    level: list[object] = [variables]
    depth = 0
    while level:
        depth += 1
        if depth > max_depth:
            raise RequestRefused(
                400,
                ErrorCode.BAD_REQUEST,
                f"`variables` are nested more than {max_depth} levels deep.",
            )
        below: list[object] = []
        for value in level:
            if isinstance(value, dict):
                below.extend(value.values())
            elif isinstance(value, list):
                below.extend(value)
        level = [value for value in below if isinstance(value, dict | list)]
    size = len(orjson.dumps(variables))
    if size > limits.max_variables_bytes:
        raise RequestRefused(
            400,
            ErrorCode.BAD_REQUEST,
            f"`variables` take {size} bytes as JSON; at most {limits.max_variables_bytes} "
            "are allowed.",
        )


def _rate_limited(limited: RateLimited, request_id: str) -> Response:
    who = "this client address" if limited.what == "address" else "you"
    body = request_error(
        ErrorCode.RATE_LIMITED,
        f"Too many requests from {who}; retry after {limited.retry_after} s.",
        request_id,
        retryAfter=limited.retry_after,
    )
    return _json(body, 429, request_id, JSON, {"retry-after": str(limited.retry_after)})


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
