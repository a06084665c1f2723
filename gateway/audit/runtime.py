"""The audit log's lifetime inside the app: open the store, run the writer, close both."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from gateway.audit.log import AuditLog
from gateway.audit.settings import AuditSettings
from gateway.audit.store import open_store


async def start_audit_log(settings: AuditSettings) -> AuditLog:
    """Open the configured store and start its writer; undo with `stop_audit_log`.

    Raises `AuditStoreError` if the store cannot be opened, so a gateway that could not record
    lookups never starts serving them.
    """
    store = open_store(settings.url, table=settings.table)
    await store.open()
    log = AuditLog(
        store, max_pending=settings.max_pending, commit_timeout_s=settings.commit_timeout_s
    )
    try:
        await log.start()
    except BaseException:
        await store.close()
        raise
    return log


async def stop_audit_log(log: AuditLog) -> None:
    """Commit the entries already taken, stop the writer, then close the store."""
    try:
        await log.aclose()
    finally:
        await log.store.close()


@asynccontextmanager
async def running_audit_log(settings: AuditSettings) -> AsyncIterator[AuditLog]:
    """`start_audit_log` ... `stop_audit_log` as one block, for a lifespan written with `async
    with`."""
    log = await start_audit_log(settings)
    try:
        yield log
    finally:
        await stop_audit_log(log)
