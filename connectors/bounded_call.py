"""One HTTP call to a source, bounded in time, connections and size: what the registry connector
and the lower-level gateway connector both make, and fail in the same ways.

Everything the far end can do wrong on the wire ends as a `SourceError` naming the source:
no answer within the timeout (`SourceTimeout`), refused, reset or cut off mid-body
(`SourceUnavailable`, retryable: the read can safely be asked again), another failure at the
HTTP level (`SourceUnavailable`, not retryable), a body over the cap (`SourceBadResponse`,
refused before it fills memory). What the status and body mean is the caller's business.
"""

from __future__ import annotations

import asyncio
from collections.abc import Collection, Mapping
from typing import NamedTuple

import aiohttp
from yarl import URL

from connectors.errors import SourceBadResponse, SourceTimeout, SourceUnavailable
from connectors.retry import retry_after_s

_CHUNK = 64 * 1024


class HttpAnswer(NamedTuple):
    status: int
    body: bytes
    retry_after: float | None
    """The `Retry-After` of a 429 or 5xx answer, in seconds."""


class CallLimits(NamedTuple):
    """How one source's calls are bounded."""

    timeout_s: float
    """The whole call, waiting for a connection slot included."""
    slots: asyncio.Semaphore
    """At most this many calls to the source in flight, so a slow source cannot take every
    connection of the shared session from the others."""
    max_bytes: int
    client_timeout: aiohttp.ClientTimeout
    """aiohttp's own (the connect timeout only: the total is `timeout_s`, one timer per call)."""


async def bounded_call(
    session: aiohttp.ClientSession,
    method: str,
    url: URL,
    limits: CallLimits,
    *,
    source: str,
    kind: str = "registry",
    data: bytes | None = None,
    headers: Mapping[str, str] | None = None,
    skip_auto_headers: Collection[str] | None = None,
) -> HttpAnswer:
    try:
        async with (
            asyncio.timeout(limits.timeout_s),
            limits.slots,
            session.request(
                method,
                url,
                data=data,
                headers=headers,
                timeout=limits.client_timeout,
                skip_auto_headers=skip_auto_headers,
            ) as response,
        ):
            status = response.status
            retry_after = None
            if status == 429 or status >= 500:
                retry_after = retry_after_s(response.headers.get("Retry-After"))
            body = await _read_capped(response, limits.max_bytes, source, kind)
            return HttpAnswer(status, body, retry_after)
    except TimeoutError as exc:
        raise SourceTimeout(
            source, f"did not answer within {limits.timeout_s:g} s", kind=kind
        ) from exc
    except (aiohttp.ClientConnectionError, aiohttp.ClientPayloadError) as exc:
        raise SourceUnavailable(source, "could not be reached", kind=kind, retryable=True) from exc
    except aiohttp.ClientError as exc:
        raise SourceUnavailable(
            source, "failed at the HTTP level", kind=kind, retryable=False
        ) from exc


async def _read_capped(response: aiohttp.ClientResponse, cap: int, source: str, kind: str) -> bytes:
    """The body, refused as soon as it is known to exceed `cap`."""
    declared = response.content_length
    if declared is not None:
        if declared > cap:
            raise SourceBadResponse(source, "sent a response larger than allowed", kind=kind)
        return await response.read()  # aiohttp reads exactly Content-Length bytes
    body = bytearray()
    async for chunk in response.content.iter_chunked(_CHUNK):
        body += chunk
        if len(body) > cap:
            raise SourceBadResponse(source, "sent a response larger than allowed", kind=kind)
    return bytes(body)
