"""The floor the gateway's warm throughput is compared with: the same stack doing no GraphQL work.

A plain starlette route served by uvicorn with the gateway's own uvicorn options, answering every
POST with fixed bytes (a real gateway response, captured by the benchmark) under the same media
type. Whatever the gateway serves per second as a fraction of what this serves is the share of the
HTTP stack's capacity that the GraphQL work (parse-cache lookup, validation cache, execution, access
to the record cache, orjson) leaves; the stack itself (uvicorn, starlette, loopback TCP, the load
generator) costs the same in both.

Run by `bench.fanout` as ``python -m bench.baseline_app --body-file F --port 0``.
"""

from __future__ import annotations

import argparse
import uuid
from collections.abc import Awaitable, Callable, Sequence
from contextlib import AbstractAsyncContextManager
from pathlib import Path

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from gateway.server import uvicorn_config
from gateway.settings import ServerSettings, Settings


def create_app(body: bytes, media_type: str) -> Starlette:
    """An app whose POST /graphql reads the request and answers `body` as `media_type`."""

    async def graphql(request: Request) -> Response:
        # Read the body as the gateway must; a handler that ignores it would do less than any
        # real endpoint, and the comparison would flatter the floor.
        await request.body()
        return Response(body, media_type=media_type, headers={"x-request-id": uuid.uuid4().hex})

    return graphql_route_app(graphql)


def graphql_route_app(
    graphql: Callable[[Request], Awaitable[Response]],
    lifespan: Callable[[Starlette], AbstractAsyncContextManager[None]] | None = None,
) -> Starlette:
    """`graphql` at POST /graphql and a GET /healthz: the shape of the benchmark's reference apps
    (this one and `bench.floor_app`), so the benchmark starts and checks them like the gateway."""

    async def healthz(request: Request) -> Response:
        return Response(b'{"status":"ok"}', media_type="application/json")

    return Starlette(
        routes=[
            Route("/graphql", graphql, methods=["POST"]),
            Route("/healthz", healthz, methods=["GET"]),
        ],
        lifespan=lifespan,
    )


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m bench.baseline_app", description="Fixed-bytes starlette route (benchmark)."
    )
    parser.add_argument("--body-file", type=Path, required=True, help="the response body to serve")
    parser.add_argument("--media-type", default="application/json")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0, help="0 = ephemeral (logged by uvicorn)")
    args = parser.parse_args(argv)
    app = create_app(args.body_file.read_bytes(), args.media_type)
    # The options (and ASGI wrapper) of `credit-gateway serve` with the default `[server]`
    # settings, so that only the application differs.
    settings = Settings(server=ServerSettings(host=args.host, port=args.port))
    server = uvicorn.Server(uvicorn_config(app, settings))
    server.run()
    return 0 if server.started else 1


if __name__ == "__main__":
    raise SystemExit(main())
