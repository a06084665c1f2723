"""The gateway as `credit-gateway serve` runs it, or (`--mode off`) with access control and audit
taken out, for `bench/access.py` to compare the two in one run. Benchmark code only: the product
has no switch that turns either off.

"Off" keeps everything else identical: a fixed principal instead of verifying a token, a policy
that grants every field (so the plan prunes nothing), and an audit log that records nothing.
"""

from __future__ import annotations

import argparse
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import uvicorn
from starlette.applications import Starlette

from gateway.app import create_app
from gateway.cli import tune_garbage_collector
from gateway.execution import Executor
from gateway.policy import Grants, Policy
from gateway.server import uvicorn_config
from gateway.settings import load_settings
from resolvers.principal import Principal

OFFICE = Principal(
    "bench-office",
    department="credit_office",
    roles=frozenset({"credit_office"}),
    scopes=frozenset({"pii"}),
)
EVERYTHING = Grants(frozenset(), frozenset({"Query.subject", "Query.subjects", "Query.matters"}))


class FixedPrincipal:
    async def principal(self, authorization: str | None) -> Principal:
        return OFFICE


class NoAudit:
    """Records nothing; keeps the real store for `Query.usage`."""

    def __init__(self, real: Any) -> None:
        self.store = real.store
        self._real = real

    async def aclose(self) -> None:
        await self._real.aclose()

    async def record(self, events: Sequence[object]) -> list[object]:
        return []

    async def commit(self, events: Sequence[object]) -> None:
        return None


def without_audit(app: Starlette) -> None:
    """Access control as shipped, an audit that records nothing: what the audit alone costs."""
    original = app.router.lifespan_context

    @asynccontextmanager
    async def lifespan(application: Starlette) -> AsyncIterator[None]:
        async with original(application):
            services = application.state.services
            services.audit = NoAudit(services.audit)
            yield

    app.router.lifespan_context = lifespan


def without_access_control(app: Starlette) -> None:
    original = app.router.lifespan_context

    @asynccontextmanager
    async def lifespan(application: Starlette) -> AsyncIterator[None]:
        async with original(application):
            services = application.state.services
            services.verifier = FixedPrincipal()
            services.executor = Executor(
                services.schema,
                services.settings.graphql,
                Policy({"credit_office": EVERYTHING}),
            )
            services.audit = NoAudit(services.audit)
            yield

    app.router.lifespan_context = lifespan


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.access_app")
    parser.add_argument("--config", type=Path, required=True)
    parser.add_argument("--mode", choices=["on", "off", "no-audit"], required=True)
    args = parser.parse_args(argv)
    settings = load_settings(args.config)
    app = create_app(settings)
    if args.mode == "off":
        without_access_control(app)
    elif args.mode == "no-audit":
        without_audit(app)
    config = uvicorn_config(app, settings)  # the very options `credit-gateway serve` uses
    tune_garbage_collector()
    uvicorn.Server(config).run()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
