"""Who is alive: one ``loket_workers`` row per running process on PostgreSQL.

A worker is alive while it holds a session advisory lock keyed by its id on a connection of
its own (PostgreSQL drops the lock the moment the process dies, even on SIGKILL, so a restart
recovers at once instead of waiting out a lease) *and* its heartbeat is younger than
``lease`` (a process that hangs without dying loses its claims too). The broadcast sender
uses :meth:`WorkerRegistry.live_ids` to turn into ``unknown`` only the claimed rows of dead
workers, never those of a live one that is sending the same announcement.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import logging
import os
import socket
from collections.abc import AsyncIterator

from sqlalchemy import delete, insert, select, text, update
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from bot.storage.models import LoketWorker, utcnow

logger = logging.getLogger(__name__)
WORKERS = LoketWorker.__table__
# Advisory lock namespaces (the two-int form): (namespace, id). Distinct from the migration
# lock in bot/storage/migrate.py, which uses the one-bigint form.
WORKER_LOCK_NAMESPACE = 0x4C4B5701  # worker liveness
INBOX_LOCK_NAMESPACE = 0x4C4B5702  # one citizen's inbox (bot/workers/inbox.py)


class WorkerRegistry:
    """This process's worker row; see the module docstring."""

    def __init__(
        self,
        engine: AsyncEngine,
        *,
        heartbeat: float = 2.0,
        lease: float = 15.0,
    ) -> None:
        self._engine = engine
        self.heartbeat = heartbeat
        self.lease = dt.timedelta(seconds=lease)
        self.id: int | None = None
        self._holder: AsyncConnection | None = None

    @contextlib.asynccontextmanager
    async def running(self) -> AsyncIterator[WorkerRegistry]:
        """Registers, holds the liveness lock and beats until the block ends."""
        await self._register()
        task = asyncio.create_task(self._beat(), name="worker-heartbeat")
        try:
            yield self
        finally:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
            await self._unregister()

    async def _register(self) -> None:
        now = utcnow()
        async with self._engine.begin() as connection:
            self.id = int(
                await connection.scalar(
                    insert(WORKERS)
                    .values(
                        host=socket.gethostname()[:64],
                        pid=os.getpid(),
                        started_at=now,
                        heartbeat_at=now,
                    )
                    .returning(WORKERS.c.id)
                )
            )
        # A connection kept for the process's life: its session holds the liveness lock.
        self._holder = await self._engine.connect()
        await self._holder.execute(
            text("SELECT pg_advisory_lock(:ns, :id)"), {"ns": WORKER_LOCK_NAMESPACE, "id": self.id}
        )
        await self._holder.commit()
        logger.info("worker %s registered", self.id)

    async def _unregister(self) -> None:
        if self._holder is not None:
            with contextlib.suppress(Exception):
                await self._holder.close()  # releases the lock
            self._holder = None
        if self.id is not None:
            with contextlib.suppress(Exception):
                async with self._engine.begin() as connection:
                    await connection.execute(delete(WORKERS).where(WORKERS.c.id == self.id))

    async def _beat(self) -> None:
        while True:
            await asyncio.sleep(self.heartbeat)
            try:
                async with self._engine.begin() as connection:
                    await connection.execute(
                        update(WORKERS)
                        .where(WORKERS.c.id == self.id)
                        .values(heartbeat_at=utcnow())
                    )
                    # Rows of workers dead for a long while are only clutter.
                    await connection.execute(
                        delete(WORKERS).where(WORKERS.c.heartbeat_at < utcnow() - 20 * self.lease)
                    )
            except Exception:  # a database hiccup: the next beat tries again
                logger.exception("worker heartbeat failed")

    async def live_ids(self, connection: AsyncConnection) -> set[int]:
        """Ids of the workers alive now (this one included), read on ``connection``."""
        fresh = {
            int(worker_id)
            for worker_id in (
                await connection.scalars(
                    select(WORKERS.c.id).where(WORKERS.c.heartbeat_at >= utcnow() - self.lease)
                )
            ).all()
        }
        locked = {
            int(objid)
            for objid in (
                await connection.scalars(
                    text(
                        "SELECT objid FROM pg_locks WHERE locktype = 'advisory' AND granted "
                        "AND classid = :ns AND database = "
                        "(SELECT oid FROM pg_database WHERE datname = current_database())"
                    ),
                    {"ns": WORKER_LOCK_NAMESPACE},
                )
            ).all()
        }
        live = fresh & locked
        if self.id is not None:
            live.add(self.id)
        return live
