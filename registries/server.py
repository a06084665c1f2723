"""One reference registry listening on a TCP port, which tests can stop and start again.

Stopping closes the listener and every connection, so the next request is refused, exactly like a
department that went down; starting again binds the same port (first start on port 0 picks one),
keeping faults and counters, so a test sees the gateway recover against the same URL.
"""

from __future__ import annotations

import types

from aiohttp import web

from registries.app import RegistryState, build_app
from registries.dataset import Dataset
from registries.faults import Faults

SHUTDOWN_TIMEOUT_S = 0.25
"""How long a stop waits for in-flight requests (a hung one never finishes) before cancelling."""


class RegistryServer:
    """The registry API of `department` served on `host:port` (0 = an ephemeral port)."""

    def __init__(
        self,
        department: str,
        dataset: Dataset,
        host: str = "127.0.0.1",
        port: int = 0,
        faults: Faults | None = None,
    ) -> None:
        self.state = RegistryState(department, dataset, faults)
        self.host = host
        self._port = port
        self._runner: web.AppRunner | None = None

    @property
    def department(self) -> str:
        return self.state.department

    @property
    def port(self) -> int:
        """The bound port (known once started; kept across stops)."""
        return self._port

    @property
    def url(self) -> str:
        if self._port == 0:
            raise RuntimeError("the registry has not been started, so it has no port yet")
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self._port}"

    @property
    def running(self) -> bool:
        return self._runner is not None

    async def start(self) -> None:
        if self._runner is not None:
            raise RuntimeError(f"the {self.department} registry is already running")
        runner = web.AppRunner(
            build_app(self.state),
            access_log=None,
            handler_cancellation=True,
            shutdown_timeout=SHUTDOWN_TIMEOUT_S,
        )
        await runner.setup()
        try:
            site = web.TCPSite(runner, self.host, self._port, reuse_address=True)
            await site.start()
        except BaseException:
            await runner.cleanup()
            raise
        self._port = int(runner.addresses[0][1])
        self._runner = runner

    async def stop(self) -> None:
        """Close the listener and all connections; a no-op when not running."""
        runner, self._runner = self._runner, None
        if runner is not None:
            await runner.cleanup()

    async def __aenter__(self) -> RegistryServer:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: types.TracebackType | None,
    ) -> None:
        await self.stop()
