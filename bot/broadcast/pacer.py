"""Client-side pacing of a broadcast: Telegram's limits, kept before Telegram enforces them.

One token bucket for all messages (``rate`` per second, default 30; up to 1,000 with paid
broadcasts), refilled continuously with a small burst (a tenth of a second's worth) so a short
stall of the sender is made up without ever exceeding the server's own bucket, plus a minimum
interval between two messages to the same chat (1 s). A 429 answer's ``retry_after`` pauses the
whole broadcast (:meth:`Pacer.pause_until`): Telegram counts the limit per bot, so every chat
would be refused alike.

The pacer belongs to the broadcast. The conversation bot never waits on it, so a pause slows
the announcement, not the citizens' replies; but each reply the conversation bot sends is
counted here (:meth:`Pacer.note_external`), without waiting, so the broadcast leaves that
share of Telegram's per-bot limit to the conversations instead of provoking 429s for them.
Clock and sleep are injectable: tests drive a :class:`bot.botapi.ManualClock` with a sleep
that advances it.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from typing import Protocol

Clock = Callable[[], float]
Sleep = Callable[[float], Awaitable[None]]

DEFAULT_RATE = 30.0  # Telegram's broadcast limit without paid broadcasts
MAX_RATE = 1000.0  # with allow_paid_broadcast
PER_CHAT_INTERVAL = 1.0
_EPSILON = 1e-9


class SharedSlots(Protocol):
    """A global budget shared with other processes (bot/workers/rate.py ``SharedRate``)."""

    async def take(self) -> None: ...


class Pacer:
    """Admits one message at a time: :meth:`acquire` returns when ``chat_id`` may be sent to."""

    def __init__(
        self,
        rate: float = DEFAULT_RATE,
        *,
        per_chat_interval: float = PER_CHAT_INTERVAL,
        burst: float | None = None,
        clock: Clock = time.monotonic,
        sleep: Sleep = asyncio.sleep,
    ) -> None:
        if not 0 < rate <= MAX_RATE:
            raise ValueError(f"rate must be in (0, {MAX_RATE:g}] messages per second")
        self.rate = rate
        self.per_chat_interval = per_chat_interval
        self.capacity = max(1.0, burst if burst is not None else rate / 10)
        self._clock = clock
        self._sleep = sleep
        self._tokens = 1.0  # start gently: no burst before the first message
        self._stamp: float | None = None
        self._paused_until = 0.0
        self._last_by_chat: dict[str, float] = {}
        self._lock = asyncio.Lock()
        self.waited = 0.0  # seconds spent waiting, for the report
        # Several workers (bot/workers/rate.py): global slots shared through the database;
        # None for one process, where this bucket alone is the global limit.
        self.shared: SharedSlots | None = None

    def pause_until(self, moment: float) -> None:
        """No message before ``moment`` (clock seconds): a 429's ``now + retry_after``."""
        self._paused_until = max(self._paused_until, moment)
        self._tokens = min(self._tokens, 1.0)  # no burst right after a pause either

    def note_external(self, count: int = 1) -> None:
        """Another sender of the same bot (a reply to a citizen) used ``count`` messages of
        the global budget. Never waits: the broadcast waits for it instead. The debt is
        bounded to one second's worth, so a busy chat hour slows but never stalls it."""
        self._refill(self._clock())
        self._tokens = max(self._tokens - count, -self.rate)

    @property
    def paused_until(self) -> float:
        return self._paused_until

    def _refill(self, now: float) -> None:
        if self._stamp is not None and now > self._stamp:
            self._tokens = min(self.capacity, self._tokens + (now - self._stamp) * self.rate)
        self._stamp = now if self._stamp is None else max(self._stamp, now)

    def wait_time(self, chat_id: str) -> float:
        """Seconds until a message to ``chat_id`` may go (0: now)."""
        now = self._clock()
        self._refill(now)
        waits = [self._paused_until - now]
        if self._tokens < 1.0:
            waits.append((1.0 - self._tokens) / self.rate)
        last = self._last_by_chat.get(chat_id)
        if last is not None:
            waits.append(last + self.per_chat_interval - now)
        wait = max(waits)
        return wait if wait > _EPSILON else 0.0  # float rounding must not loop forever

    async def acquire(self, chat_id: str) -> None:
        """Waits until a message to ``chat_id`` may go, and counts it as gone."""
        async with self._lock:  # one admission at a time, in order
            while (wait := self.wait_time(chat_id)) > 0:
                self.waited += wait
                await self._sleep(wait)
            if self.shared is not None:  # the other workers' sends count too
                await self.shared.take()
            now = self._clock()
            self._refill(now)
            self._tokens -= 1.0
            self._last_by_chat[chat_id] = now
            if len(self._last_by_chat) > 10_000:  # forget chats long past their interval
                horizon = now - self.per_chat_interval
                self._last_by_chat = {
                    chat: at for chat, at in self._last_by_chat.items() if at > horizon
                }
