"""The stable error codes of the GraphQL contract, and the exception that carries one.

Clients branch on `extensions.code`, never on messages; the codes are listed in DESIGN.md and must
not be renamed. Messages say what was wrong with the client's input and never include internals.
"""

from __future__ import annotations

import enum


class ErrorCode(enum.StrEnum):
    INVALID_SUBJECT_ID = "INVALID_SUBJECT_ID"
    UNAUTHENTICATED = "UNAUTHENTICATED"
    FORBIDDEN = "FORBIDDEN"
    PURPOSE_REQUIRED = "PURPOSE_REQUIRED"
    UNKNOWN_MATTER = "UNKNOWN_MATTER"
    SOURCE_UNAVAILABLE = "SOURCE_UNAVAILABLE"
    SOURCE_TIMEOUT = "SOURCE_TIMEOUT"
    SOURCE_BAD_RESPONSE = "SOURCE_BAD_RESPONSE"
    QUERY_TOO_DEEP = "QUERY_TOO_DEEP"
    QUERY_TOO_COMPLEX = "QUERY_TOO_COMPLEX"
    BATCH_TOO_LARGE = "BATCH_TOO_LARGE"
    RATE_LIMITED = "RATE_LIMITED"
    AUDIT_UNAVAILABLE = "AUDIT_UNAVAILABLE"
    BAD_REQUEST = "BAD_REQUEST"
    INTERNAL = "INTERNAL"


class CodedError(Exception):
    """An error a client can act on: its message is safe to show, its code is stable."""

    def __init__(self, code: ErrorCode, message: str, **extensions: object) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.extensions = extensions
