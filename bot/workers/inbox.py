"""Webhook updates in order per citizen across several workers, through one table.

Telegram (or a load balancer in front of N workers) may hand a citizen's next update to a
different worker than the previous one. Each worker's webhook receiver therefore:

1. records the update in ``inbox_updates`` (``update_id`` is the key: a redelivery is
   dropped) and commits, *then* answers 200;
2. kicks a drain of that citizen's inbox at once (no polling: the receiving worker does it).

A drain takes the citizen's PostgreSQL advisory lock with ``pg_try_advisory_lock`` on a
connection of a small lock pool. Holding it, it processes the citizen's unstarted rows in
``update_id`` order, marking each ``started_at`` just before handing it to python-telegram-bot
(at most once: a crash mid-update loses that one reply rather than sending two). When none
is left it unlocks, then looks once more: an update recorded by a worker whose try failed
while the lock was held is found by this re-check (its insert committed before its failed
try, which came before our unlock), and drained. So every update acknowledged with 200 is
processed exactly once, in update_id order, and nothing is stranded.

A worker that dies holding a citizen's lock frees it with its connection; the few updates it
had recorded but not started are picked up by the sweep (every ``sweep_interval`` seconds,
only for rows older than ``sweep_after``): the one timer here, and never on a reply's path.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import json
import logging
import zlib
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

from sqlalchemy import delete, select, text, update
from sqlalchemy.dialects import postgresql
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine

from bot.storage.models import InboxUpdate, utcnow
from bot.workers.registry import INBOX_LOCK_NAMESPACE

logger = logging.getLogger(__name__)
INBOX = InboxUpdate.__table__
Handle = Callable[[dict[str, Any]], Awaitable[None]]


def lock_id(key: str) -> int:
    """The citizen's advisory lock id: a signed 32-bit hash of the ordering key (a collision
    only makes two citizens wait for each other, never reorders anything)."""
    value = zlib.crc32(key.encode())
    return value - (1 << 32) if value >= 1 << 31 else value


class Inbox:
    """See the module docstring. ``handle`` processes one update (its JSON as received)."""

    def __init__(
        self,
        engine: AsyncEngine,
        handle: Handle,
        *,
        lock_pool: int = 20,
        sweep_interval: float = 5.0,
        sweep_after: float = 10.0,
        keep: dt.timedelta = dt.timedelta(days=1),
    ) -> None:
        self._engine = engine
        self._handle = handle
        # Connections that hold citizens' locks while their updates are processed: a pool of
        # their own, so that they never starve the front desk's queries of connections.
        # Autocommit: each statement on them is one round trip, no BEGIN/COMMIT around it.
        self._locks_engine = create_async_engine(
            engine.url, pool_size=lock_pool, max_overflow=0, isolation_level="AUTOCOMMIT"
        )
        self._slots = asyncio.Semaphore(lock_pool)
        self._sweep_interval = sweep_interval
        self._sweep_after = dt.timedelta(seconds=sweep_after)
        self._keep = keep
        self._active: set[str] = set()
        self._dirty: set[str] = set()
        self._tasks: set[asyncio.Task[None]] = set()
        self.recorded = 0
        self.duplicates = 0
        self.processed = 0

    # -- receiving -----------------------------------------------------------------------

    async def record(self, update_id: int, key: str, payload: dict[str, Any]) -> bool:
        """Durably records one update; False if this update_id was recorded before."""
        statement = (
            postgresql.insert(INBOX)
            .values(
                update_id=update_id,
                ordering_key=key[:64],
                payload=json.dumps(payload, ensure_ascii=False),
                received_at=utcnow(),
            )
            .on_conflict_do_nothing(index_elements=[INBOX.c.update_id])
        )
        # One autocommitted statement, one round trip: the 200 waits for it, and Telegram
        # sends a bot's next update only after that answer (per connection).
        async with self._engine.connect() as connection:
            connection = await connection.execution_options(isolation_level="AUTOCOMMIT")
            inserted = (await connection.execute(statement)).rowcount == 1
        if inserted:
            self.recorded += 1
        else:
            self.duplicates += 1
        return inserted

    def kick(self, key: str) -> None:
        """Drains ``key``'s inbox in the background (or lets the running drain see more)."""
        if key in self._active:
            self._dirty.add(key)
            return
        self._active.add(key)
        task = asyncio.create_task(self._drain(key), name="inbox-drain")
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    # -- draining ------------------------------------------------------------------------

    async def _drain(self, key: str) -> None:
        try:
            while True:
                self._dirty.discard(key)
                try:
                    held = await self._drain_locked(key)
                    # Not held: the holder re-checks after its unlock, unless an update came
                    # in here meanwhile (dirty): its commit may be later than that re-check.
                    more = key in self._dirty or (held and await self._has_unstarted(key))
                except Exception:
                    logger.exception("inbox drain failed; the sweep retries it")
                    return
                if not more:
                    return
        finally:
            self._active.discard(key)

    async def _drain_locked(self, key: str) -> bool:
        """Processes ``key``'s unstarted updates in order if this worker gets its lock;
        False if another worker holds it."""
        lock = {"ns": INBOX_LOCK_NAMESPACE, "id": lock_id(key)}
        async with self._slots, self._locks_engine.connect() as holder:
            got = await holder.scalar(text("SELECT pg_try_advisory_lock(:ns, :id)"), lock)
            if not got:
                return False  # the holder re-checks after its unlock and finds ours
            try:
                while True:
                    row = await self._start_next(holder, key)
                    if row is None:
                        return True
                    update_id, payload = row
                    try:
                        await self._handle(json.loads(payload))
                    except Exception:  # a failed update must not block the citizen's next
                        logger.exception("update %s failed", update_id)
                    self.processed += 1
            finally:
                await holder.execute(text("SELECT pg_advisory_unlock(:ns, :id)"), lock)

    @staticmethod
    async def _start_next(holder: AsyncConnection, key: str) -> tuple[int, str] | None:
        """The citizen's oldest unstarted update, marked started (one autocommitted statement)
        before it is used."""
        oldest = (
            select(INBOX.c.update_id)
            .where(INBOX.c.ordering_key == key, INBOX.c.started_at.is_(None))
            .order_by(INBOX.c.update_id)
            .limit(1)
            .scalar_subquery()
        )
        row = (
            await holder.execute(
                update(INBOX)
                .where(INBOX.c.update_id == oldest)
                .values(started_at=utcnow())
                .returning(INBOX.c.update_id, INBOX.c.payload)
            )
        ).one_or_none()
        return None if row is None else (int(row.update_id), str(row.payload))

    async def _has_unstarted(self, key: str) -> bool:
        async with self._locks_engine.connect() as connection:
            found = await connection.scalar(
                select(INBOX.c.update_id)
                .where(INBOX.c.ordering_key == key, INBOX.c.started_at.is_(None))
                .limit(1)
            )
        return found is not None

    # -- the sweep -----------------------------------------------------------------------

    async def sweep(self) -> int:
        """Kicks every citizen with an update waiting longer than ``sweep_after`` (a worker
        died between recording and processing) and purges old processed rows."""
        now = utcnow()
        async with self._engine.begin() as connection:
            keys = (
                await connection.scalars(
                    select(INBOX.c.ordering_key)
                    .where(
                        INBOX.c.started_at.is_(None), INBOX.c.received_at < now - self._sweep_after
                    )
                    .distinct()
                )
            ).all()
            await connection.execute(
                delete(INBOX).where(
                    INBOX.c.started_at.is_not(None), INBOX.c.received_at < now - self._keep
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
                logger.exception("inbox sweep failed")
            await asyncio.sleep(self._sweep_interval)

    async def idle(self) -> None:
        """Returns when no drain of this worker is running (tests, benchmarks, shutdown)."""
        while self._tasks:
            await asyncio.gather(*list(self._tasks), return_exceptions=True)

    @contextlib.asynccontextmanager
    async def running(self) -> AsyncIterator[Inbox]:
        """The sweep runs for the block; on exit the drains in progress finish first."""
        sweeper = asyncio.create_task(self._sweeping(), name="inbox-sweep")
        try:
            yield self
        finally:
            sweeper.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await sweeper
            await self.idle()
            await self._locks_engine.dispose()
