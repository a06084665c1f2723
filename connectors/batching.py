"""Splitting a lookup of many ids into batches of the size a source accepts, sent concurrently.

A batch that fails as a whole (`SourceError`) fails only its own ids; anything else is a bug and
propagates. Shared by the registry runtime and the upstream-gateway connector.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import TypeVar

from connectors.errors import SourceError

R = TypeVar("R")


async def fetch_in_batches(
    ids: Sequence[str],
    size: int,
    fetch_batch: Callable[[Sequence[str]], Awaitable[Mapping[str, R | SourceError | None]]],
) -> dict[str, R | SourceError | None]:
    chunks = [ids[i : i + size] for i in range(0, len(ids), size)]
    if len(chunks) == 1:
        return dict(await fetch_batch(chunks[0]))
    answers = await asyncio.gather(
        *(fetch_batch(chunk) for chunk in chunks), return_exceptions=True
    )
    results: dict[str, R | SourceError | None] = {}
    for chunk, answer in zip(chunks, answers, strict=True):
        if isinstance(answer, SourceError):
            results.update(dict.fromkeys(chunk, answer))
        elif isinstance(answer, BaseException):
            raise answer
        else:
            results.update(answer)
    return results
