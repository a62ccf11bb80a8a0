"""Client-side pacing of a broadcast: Telegram's limits, kept before Telegram enforces them.

One token bucket for all messages (``rate`` per second, default 30; up to 1,000 with paid
broadcasts), refilled continuously with a small burst (a tenth of a second's worth) so a short
stall of the sender is made up without ever exceeding the server's own bucket, plus a minimum
interval between two messages to the same chat (1 s). A 429 answer's ``retry_after`` pauses the
whole broadcast (:meth:`Pacer.pause_until`): Telegram counts the limit per bot, so every chat
would be refused alike.

Every message of the bot goes through one pacer (issue 12), in one of two lanes:

* the **bulk** lane (:meth:`Pacer.acquire`): announcements. It only takes a token while
  ``reserve`` tokens stay in the bucket, and never while an interactive message waits;
* the **interactive** lane (:meth:`Pacer.acquire_interactive`): replies to citizens and the
  messages to staff (confirmations, the live progress message and its edits, reports).
  Telegram's ~30 messages/s is its limit on *bulk notifications*; a reply to a citizen who
  just wrote is limited per chat. So with no announcement going out, replies wait for their
  chat's bucket only (and count into the global bucket, so an announcement that starts next
  leaves room for them; a 429 is still waited out by the caller, bot/telegram/outbox.py).
  While an announcement is going out, replies share its budget: they may use the reserve at
  once and take every token as it refills while they wait, so they stay prompt and the
  broadcast uses what is left. A 429's pause (:meth:`Pacer.pause_until`) holds the bulk
  lane only.

Both lanes share one set of per-chat buckets shaped like Telegram's (1 message/s, a burst of
3): a chat never gets more than the server accepts, whichever code path sends to it.
:meth:`Pacer.note_external` still counts a message sent without waiting (a caller that does
not pace itself). Clock and sleep are injectable: tests drive a
:class:`bot.botapi.ManualClock` with a sleep that advances it.
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
# Telegram's per-chat limit as the local Bot API models it (bot/botapi/limits.py): about one
# message per second, a burst of three tolerated.
CHAT_RATE = 1.0
CHAT_BURST = 3
# Telegram's ~30/s is a limit on bulk notifications: replies share it only while an
# announcement is going out (one admitted within this many seconds, or one waiting).
BULK_ACTIVE_WINDOW = 1.0
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
        reserve: float | None = None,
        chat_rate: float = CHAT_RATE,
        chat_burst: int = CHAT_BURST,
        clock: Clock = time.monotonic,
        sleep: Sleep = asyncio.sleep,
    ) -> None:
        """``reserve``: tokens only interactive messages may use (default a third of a
        second's worth, capped so the bucket stays within Telegram's one-second burst)."""
        if not 0 < rate <= MAX_RATE:
            raise ValueError(f"rate must be in (0, {MAX_RATE:g}] messages per second")
        self.rate = rate
        self.per_chat_interval = per_chat_interval
        self.capacity = max(1.0, burst if burst is not None else rate / 10)
        self.reserve = max(0.0, reserve if reserve is not None else min(rate / 3, 10.0))
        self.chat_rate = chat_rate
        self.chat_burst = max(1, chat_burst)
        self._clock = clock
        self._sleep = sleep
        # Start gently: the bulk lane gets no burst before its first message; the reserve is
        # there for the citizens from the start.
        self._tokens = 1.0 + self.reserve
        self._chat_tokens: dict[str, tuple[float, float]] = {}  # chat -> (tokens, stamp)
        self._chat_paused: dict[str, float] = {}
        self._interactive_waiting = 0
        self._interactive_lock = asyncio.Lock()
        self._chat_locks: dict[str, tuple[asyncio.Lock, int]] = {}  # lock, users
        self._stamp: float | None = None
        self._paused_until = 0.0
        self._last_by_chat: dict[str, float] = {}
        self._bulk_seen = float("-inf")  # when the bulk lane last admitted a message
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

    def now(self) -> float:
        """The pacer's clock (for a 429's ``now + retry_after``)."""
        return self._clock()

    @property
    def paused_until(self) -> float:
        return self._paused_until

    def _refill(self, now: float) -> None:
        if self._stamp is not None and now > self._stamp:
            self._tokens = min(
                self.capacity + self.reserve, self._tokens + (now - self._stamp) * self.rate
            )
        self._stamp = now if self._stamp is None else max(self._stamp, now)

    def _chat_level(self, chat_id: str, now: float) -> float:
        tokens, stamp = self._chat_tokens.get(chat_id, (float(self.chat_burst), now))
        return min(float(self.chat_burst), tokens + max(0.0, now - stamp) * self.chat_rate)

    def _chat_wait(self, chat_id: str, now: float, bucket: bool = True) -> float:
        """Seconds until ``chat_id``'s own bucket (and a 429 pause on it) lets one through."""
        level = self._chat_level(chat_id, now) if bucket else 1.0
        wait = 0.0 if level >= 1.0 else (1.0 - level) / self.chat_rate
        return max(wait, self._chat_paused.get(chat_id, 0.0) - now)

    def _take_chat(self, chat_id: str, now: float) -> None:
        self._chat_tokens[chat_id] = (self._chat_level(chat_id, now) - 1.0, now)
        if len(self._chat_tokens) > 10_000:  # forget chats whose bucket is full again
            full = self.chat_burst / self.chat_rate
            self._chat_tokens = {
                chat: (tokens, stamp)
                for chat, (tokens, stamp) in self._chat_tokens.items()
                if now - stamp < full
            }
            self._chat_paused = {c: t for c, t in self._chat_paused.items() if t > now}

    def pause_chat(self, chat_id: str, moment: float) -> None:
        """Nothing to ``chat_id`` before ``moment``: Telegram refused it with a 429."""
        self._chat_paused[chat_id] = max(self._chat_paused.get(chat_id, 0.0), moment)

    def wait_time(self, chat_id: str) -> float:
        """Seconds until an announcement to ``chat_id`` may go (0: now)."""
        now = self._clock()
        self._refill(now)
        waits = [self._paused_until - now, self._chat_wait(chat_id, now)]
        if self._tokens < 1.0 + self.reserve:
            waits.append((1.0 + self.reserve - self._tokens) / self.rate)
        if self._interactive_waiting:  # a citizen's reply goes first: give it a token's time
            waits.append(1.0 / self.rate)
        last = self._last_by_chat.get(chat_id)
        if last is not None:
            waits.append(last + self.per_chat_interval - now)
        wait = max(waits)
        return wait if wait > _EPSILON else 0.0  # float rounding must not loop forever

    async def acquire_interactive(self, chat_id: str, *, per_chat: bool = True) -> None:
        """Waits until a reply (or a staff message) to ``chat_id`` may go, and counts it.

        ``per_chat=False`` (an edit of a message already in the chat): the global budget and
        a 429 pause on the chat hold it, the chat's message bucket does not count it, as the
        Bot API's per-chat limit counts new messages.

        In order per chat, then in order across chats; never behind an announcement's pause
        or its per-chat interval, only behind Telegram's limits themselves.
        """
        lock, users = self._chat_locks.get(chat_id, (asyncio.Lock(), 0))
        self._chat_locks[chat_id] = (lock, users + 1)
        self._interactive_waiting += 1
        try:
            async with lock:
                while (wait := self._chat_wait(chat_id, self._clock(), per_chat)) > _EPSILON:
                    await self._sleep(wait)
                async with self._interactive_lock:
                    while True:
                        now = self._clock()
                        self._refill(now)
                        if self._tokens >= 1.0 - _EPSILON or not self._bulk_active(now):
                            break
                        await self._sleep((1.0 - self._tokens) / self.rate)
                    # In debt when no broadcast is out: the next announcement waits for it.
                    self._tokens = max(self._tokens - 1.0, -self.rate)
                    if per_chat:
                        self._take_chat(chat_id, now)
        finally:
            self._interactive_waiting -= 1
            lock, users = self._chat_locks[chat_id]
            if users <= 1:
                del self._chat_locks[chat_id]
            else:
                self._chat_locks[chat_id] = (lock, users - 1)

    def _bulk_active(self, now: float) -> bool:
        """An announcement is going out: one waits for admission or one went within the last
        second. Only then do replies share the bulk limit with it (replies first)."""
        return self._lock.locked() or now - self._bulk_seen < BULK_ACTIVE_WINDOW

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
            self._take_chat(chat_id, now)
            self._last_by_chat[chat_id] = now
            self._bulk_seen = now
            if len(self._last_by_chat) > 10_000:  # forget chats long past their interval
                horizon = now - self.per_chat_interval
                self._last_by_chat = {
                    chat: at for chat, at in self._last_by_chat.items() if at > horizon
                }
