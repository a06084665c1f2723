"""The floor the gateway's cold latency is compared with: the same stack asking the same registries,
doing none of the gateway's own work.

A starlette route served by uvicorn with the gateway's own uvicorn options, asking the four
registries of the gateway's config for the subject in the request's variables, concurrently, over
one aiohttp session with the gateway's connection limits, and answering their bodies as they came.
No GraphQL, no id check, cache, single-flight, retries, validation, access plan or audit.

The gateway cannot be faster than this on the same machine: whatever the floor adds to the slowest
registry is what the HTTP stack, the extra hop and a four-way fan-out from one event loop cost here,
and the gateway's latency minus the floor's is its own work. `bench.fanout` measures it in the same
run, interleaved with the gateway, so the report can say how much of the goal's 15 % the machine
and the stack take before the gateway does anything.

With ``--validate`` the floor also does the one piece of the gateway's work that the registry API
makes inherent: it decodes each record and validates it against the department's record model,
as the connector does (orjson, then pydantic, with the department in the validation context). The
difference between the two floors is what validation alone costs where it runs, on a core that
has been idle for the registries' wait, not in a loop that keeps it warm.

Run by `bench.fanout` as ``python -m bench.floor_app --config gateway.toml [--validate]``.
"""

from __future__ import annotations

import argparse
import asyncio
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from pathlib import Path
from urllib.parse import quote

import aiohttp
import orjson
import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response

from bench.baseline_app import graphql_route_app
from connectors.catalog import record_models
from gateway.server import uvicorn_config
from gateway.services import upstream_session
from gateway.settings import Settings, load_settings


def create_app(settings: Settings, validate: bool = False) -> Starlette:
    """POST /graphql: `{"variables": {"id": ...}}` -> every registry's answer for that id (each
    record validated first, with `validate`; a record that does not validate is a 500)."""
    connectors = settings.enabled_connectors
    bases = {department: str(c.base_url).rstrip("/") for department, c in connectors.items()}
    models = record_models(connectors) if validate else {}

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        app.state.session = upstream_session(settings.http)
        try:
            yield
        finally:
            await app.state.session.close()

    async def ask(
        session: aiohttp.ClientSession, department: str, subject_id: str
    ) -> tuple[int, bytes]:
        url = f"{bases[department]}/v1/subjects/{quote(subject_id, safe='')}"
        async with session.get(url, headers={"Accept": "application/json"}) as response:
            status, body = response.status, await response.read()
        model = models.get(department)
        if model is not None and status == 200:
            model.model_validate(orjson.loads(body), context={"department": department})
        return status, body

    async def graphql(request: Request) -> Response:
        subject_id = str(orjson.loads(await request.body())["variables"]["id"])
        session = request.app.state.session
        answers = await asyncio.gather(*(ask(session, d, subject_id) for d in bases))
        statuses = ",".join(str(status) for status, _ in answers).encode()
        records = b",".join(body for _, body in answers)
        return Response(
            b'{"statuses":[' + statuses + b'],"records":[' + records + b"]}",
            media_type="application/json",
        )

    return graphql_route_app(graphql, lifespan)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m bench.floor_app",
        description="The four registries of a gateway config, asked with no gateway work "
        "(benchmark).",
    )
    parser.add_argument("--config", type=Path, required=True, help="the gateway's config")
    parser.add_argument(
        "--validate",
        action="store_true",
        help="decode and validate each record as the gateway's connector does",
    )
    args = parser.parse_args(argv)
    settings = load_settings(args.config)
    uvicorn.Server(uvicorn_config(create_app(settings, args.validate), settings)).run()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
