"""Turn any error into the contract's shape: a safe message and a stable `extensions.code`.

Unexpected exceptions are logged with the request id and shown to the client only as `INTERNAL`
with that id, never with a stack trace, an upstream host or personal data.
"""

from __future__ import annotations

import logging
import traceback
from typing import Any

from graphql import GraphQLError

from connectors.errors import SourceError
from resolvers.errors import CodedError, ErrorCode

log = logging.getLogger(__name__)


def format_error(error: GraphQLError, request_id: str) -> dict[str, Any]:
    original = error.original_error
    while isinstance(original, GraphQLError):  # e.g. a variable's value that failed its type
        original = original.original_error
    extensions: dict[str, Any]
    if isinstance(original, CodedError):
        message, extensions = original.message, {"code": original.code.value, **original.extensions}
    elif isinstance(original, SourceError):
        message = str(original)
        extensions = {"code": original.code, "department": original.department}
    elif original is None:
        message = error.message
        extensions = dict(error.extensions or {})
        extensions.setdefault("code", ErrorCode.BAD_REQUEST.value)
    else:
        log.error(
            "internal error in request %s at %s: %s raised at %s",
            request_id,
            error.path,
            type(original).__name__,
            where_raised(original),
        )
        message = f"Internal error; quote request id {request_id} to the operators."
        extensions = {"code": ErrorCode.INTERNAL.value}
    formatted: dict[str, Any] = {"message": message}
    if error.locations:
        formatted["locations"] = [
            {"line": loc.line, "column": loc.column} for loc in error.locations
        ]
    if error.path is not None:
        formatted["path"] = error.path
    formatted["extensions"] = extensions
    return formatted


def where_raised(exc: BaseException) -> str:
    """Where an exception was raised (file:line of the innermost frame).

    Logged instead of the message and stack: an exception's message may quote a subject's id or an
    upstream host, and neither may reach a log line. The place is enough to find the bug.
    """
    frames = traceback.extract_tb(exc.__traceback__)
    if not frames:
        return "an unknown place"
    last = frames[-1]
    return f"{last.filename}:{last.lineno} in {last.name}"


def request_error(
    code: ErrorCode, message: str, request_id: str, **extensions: object
) -> dict[str, Any]:
    """The body of a request refused before any GraphQL ran (bad JSON, wrong media type, ...);
    `extensions` go beside the code (`retryAfter` of `RATE_LIMITED`)."""
    return {
        "errors": [{"message": message, "extensions": {"code": code.value, **extensions}}],
        "extensions": {"requestId": request_id},
    }
