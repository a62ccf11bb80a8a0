"""The broadcast rate shared by every worker: one row, a next-free-slot time (GCRA).

Each worker reserves a few send slots at a time with one UPDATE on the shared row: the row's
``next_at`` moves on by ``count / rate`` seconds from ``max(next_at, now)``, and the worker
gets the slots in between. Slots of all workers together are therefore spaced ``1 / rate``
apart whatever the number of workers, so two senders of the same announcement stay within
Telegram's 30 messages per second as one does. Times are the database server's clock, turned
into this process's monotonic clock at once, so the workers' clocks need not agree.
"""

from __future__ import annotations

import asyncio
import time
from collections import deque
from collections.abc import Awaitable, Callable

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

Clock = Callable[[], float]
Sleep = Callable[[float], Awaitable[None]]

_RESERVE = text(
    "INSERT INTO broadcast_rate_slots (name, next_at) "
    "VALUES (:name, extract(epoch from clock_timestamp()) + :span) "
    "ON CONFLICT (name) DO UPDATE SET next_at = "
    "greatest(broadcast_rate_slots.next_at, extract(epoch from clock_timestamp())) + :span "
    "RETURNING next_at, extract(epoch from clock_timestamp())"
)


class SharedRate:
    """Global send slots for one bot's broadcasts, reserved ``batch`` at a time."""

    def __init__(
        self,
        engine: AsyncEngine,
        rate: float,
        *,
        name: str = "telegram",
        batch: int | None = None,
        clock: Clock = time.monotonic,
        sleep: Sleep = asyncio.sleep,
    ) -> None:
        self._engine = engine
        self.rate = rate
        self.name = name
        self.batch = batch or max(1, int(rate / 10))
        self._clock = clock
        self._sleep = sleep
        self._slots: deque[float] = deque()
        self._lock = asyncio.Lock()
        self.reservations = 0

    async def _reserve(self) -> None:
        span = self.batch / self.rate
        async with self._engine.begin() as connection:
            next_at, db_now = (
                await connection.execute(_RESERVE, {"name": self.name, "span": span})
            ).one()
        local_now = self._clock()
        first = local_now + (float(next_at) - span - float(db_now))
        self._slots.extend(first + i / self.rate for i in range(self.batch))
        self.reservations += 1

    async def take(self) -> None:
        """Waits for this worker's next global slot; stale slots (not used in time) are
        dropped, never used late in a burst."""
        async with self._lock:
            now = self._clock()
            while self._slots and self._slots[0] < now - 1.0 / self.rate:
                self._slots.popleft()
            if not self._slots:
                await self._reserve()
            slot = self._slots.popleft()
            wait = slot - self._clock()
            if wait > 0:
                await self._sleep(wait)
