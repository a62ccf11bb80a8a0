"""WhatsApp messages recorded before the 200, handled once, in order per citizen.

Meta delivers a webhook at least once: after a timeout, or to another worker behind the
load balancer, the same message comes again. Each message is inserted into
``whatsapp_inbound`` with its ``wamid`` as a unique key (``ON CONFLICT DO NOTHING``), and only
the worker whose insert took it handles it: a duplicate is acknowledged and dropped, on one
worker as on several, on SQLite as on PostgreSQL. A message is marked ``started_at`` in the
statement that takes it, so it is handled at most once.

One citizen's messages are handled one at a time, in the order recorded (``seq``): inside a
worker by a per-citizen drain task; across workers on PostgreSQL under the citizen's advisory
lock, with the same re-check after unlock as ``bot/workers/inbox.py``, so a message recorded
while another worker held the lock is not stranded. Rows a dead worker left unstarted are
picked up by ``sweep`` (called at start and then every ``sweep_interval`` seconds).
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import json
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

from sqlalchemy import delete, func, select, text, update
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from bot.storage.db import READ_ONLY
from bot.storage.models import WhatsAppInbound, utcnow
from bot.storage.repo import dialect_insert
from bot.workers.inbox import lock_id

logger = logging.getLogger(__name__)
TABLE = WhatsAppInbound.__table__
LOCK_NAMESPACE = 0x4C4B5716  # one WhatsApp citizen's inbox (issue 16)
Handle = Callable[[dict[str, Any]], Awaitable[None]]


class WhatsAppInbox:
    def __init__(
        self,
        engine: AsyncEngine,
        handle: Handle,
        *,
        concurrency: int = 8,
        sweep_interval: float = 30.0,
        sweep_after: float = 60.0,
        keep: dt.timedelta = dt.timedelta(days=1),
    ) -> None:
        self._engine = engine
        self._handle = handle
        self._postgres = engine.dialect.name == "postgresql"
        self._insert = dialect_insert(engine.dialect.name)
        self._autocommit: dict[str, Any] = (
            {"isolation_level": "AUTOCOMMIT"} if self._postgres else {READ_ONLY: True}
        )
        self._slots = asyncio.Semaphore(concurrency)  # connections held by drains
        self._sweep_interval = sweep_interval
        self._sweep_after = dt.timedelta(seconds=sweep_after)
        self._keep = keep
        self._active: set[str] = set()
        self._dirty: set[str] = set()
        self._tasks: set[asyncio.Task[None]] = set()
        self.recorded = 0
        self.duplicates = 0
        self.processed = 0

    async def record(self, message_id: str, key: str, payload: dict[str, Any]) -> bool:
        """Durably records one message; False if this ``wamid`` was recorded before (by any
        worker). Committed before it returns: the 200 waits for it."""
        statement = (
            self._insert(TABLE)
            .values(
                message_id=message_id[:200],
                ordering_key=key[:80],
                payload=json.dumps(payload, ensure_ascii=False),
                received_at=utcnow(),
            )
            .on_conflict_do_nothing(index_elements=[TABLE.c.message_id])
        )
        async with self._engine.begin() as connection:
            inserted = (await connection.execute(statement)).rowcount == 1
        if inserted:
            self.recorded += 1
        else:
            self.duplicates += 1
        return inserted

    def kick(self, key: str) -> None:
        """Handles ``key``'s recorded messages in the background."""
        if key in self._active:
            self._dirty.add(key)
            return
        self._active.add(key)
        task = asyncio.create_task(self._drain(key), name="whatsapp-drain")
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _drain(self, key: str) -> None:
        try:
            while True:
                self._dirty.discard(key)
                try:
                    held = await self._drain_locked(key)
                    more = key in self._dirty or (held and await self._has_unstarted(key))
                except Exception:
                    logger.exception("WhatsApp inbox drain failed; the sweep retries it")
                    return
                if not more:
                    return
        finally:
            self._active.discard(key)

    async def _drain_locked(self, key: str) -> bool:
        async with self._slots, self._engine.connect() as holder:
            # Each statement commits on its own (no transaction is held while a message is
            # handled): AUTOCOMMIT on PostgreSQL; on SQLite the driver's own autocommit, since
            # a SQLAlchemy "begin" there takes the write lock (bot/storage/db.py).
            holder = await holder.execution_options(**self._autocommit)
            lock = {"ns": LOCK_NAMESPACE, "id": lock_id(key)}
            if self._postgres:
                got = await holder.scalar(text("SELECT pg_try_advisory_lock(:ns, :id)"), lock)
                if not got:
                    return False  # the holder re-checks after its unlock and finds ours
            try:
                while True:
                    row = await self._start_next(holder, key)
                    if row is None:
                        return True
                    seq, payload = row
                    try:
                        await self._handle(json.loads(payload))
                    except Exception:  # one failed message must not block the citizen's next
                        logger.exception("WhatsApp message %s failed", seq)
                    self.processed += 1
            finally:
                if self._postgres:
                    await holder.execute(text("SELECT pg_advisory_unlock(:ns, :id)"), lock)

    @staticmethod
    async def _start_next(holder: AsyncConnection, key: str) -> tuple[int, str] | None:
        """The citizen's oldest unstarted message, marked started in the same statement."""
        oldest = (
            select(func.min(TABLE.c.seq))
            .where(TABLE.c.ordering_key == key, TABLE.c.started_at.is_(None))
            .scalar_subquery()
        )
        row = (
            await holder.execute(
                update(TABLE)
                .where(TABLE.c.seq == oldest, TABLE.c.started_at.is_(None))
                .values(started_at=utcnow())
                .returning(TABLE.c.seq, TABLE.c.payload)
            )
        ).one_or_none()
        return None if row is None else (int(row.seq), str(row.payload))

    async def _has_unstarted(self, key: str) -> bool:
        async with self._engine.connect() as connection:
            found = await connection.scalar(
                select(TABLE.c.seq)
                .where(TABLE.c.ordering_key == key, TABLE.c.started_at.is_(None))
                .limit(1)
            )
        return found is not None

    async def sweep(self) -> int:
        """Kicks every citizen with a message left unstarted longer than ``sweep_after`` (a
        worker died between recording and handling) and purges old handled rows."""
        now = utcnow()
        async with self._engine.begin() as connection:
            keys = (
                await connection.scalars(
                    select(TABLE.c.ordering_key)
                    .where(
                        TABLE.c.started_at.is_(None), TABLE.c.received_at < now - self._sweep_after
                    )
                    .distinct()
                )
            ).all()
            await connection.execute(
                delete(TABLE).where(
                    TABLE.c.started_at.is_not(None), TABLE.c.received_at < now - self._keep
                )
            )
        for key in keys:
            self.kick(key)
        return len(keys)

    async def _sweeping(self) -> None:
        while True:
            try:
                await self.sweep()
            except Exception:
                logger.exception("WhatsApp inbox sweep failed")
            await asyncio.sleep(self._sweep_interval)

    @property
    def busy(self) -> bool:
        return bool(self._tasks)

    async def idle(self) -> None:
        """Returns when no drain of this worker is running (tests, shutdown)."""
        while self._tasks:
            await asyncio.gather(*list(self._tasks), return_exceptions=True)

    @contextlib.asynccontextmanager
    async def running(self) -> AsyncIterator[WhatsAppInbox]:
        sweeper = asyncio.create_task(self._sweeping(), name="whatsapp-inbox-sweep")
        try:
            yield self
        finally:
            sweeper.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await sweeper
            await self.idle()
