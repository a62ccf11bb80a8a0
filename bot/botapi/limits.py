"""Flood control and the other tunable limits of the local Bot API server.

Telegram's published broadcast limits (about 30 messages/s overall, about 1 message/s to one
chat with short bursts tolerated, 20 messages/min to a group) are what make a broadcast to a
whole regency slow; benchmarks and broadcast tests need the same pressure locally. They are
modelled as token buckets driven by an injectable clock so tests can step time instead of
sleeping.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field

Clock = Callable[[], float]


@dataclass(frozen=True)
class BotApiLimits:
    """Everything about the server that a test or a benchmark may want to tune.

    ``per_chat_burst`` exists because Telegram tolerates short bursts to one chat; with the
    default of 3 a bot may answer one citizen message with up to three messages at once,
    and a fourth within the same second gets a 429. Set it to 1 for the strict reading
    "more than one message per second to a chat is refused".
    """

    rate_limits_enabled: bool = True
    global_per_second: float = 30.0
    per_chat_per_second: float = 1.0
    per_chat_burst: int = 3
    per_group_per_minute: float = 20.0
    paid_broadcast_per_second: float = 1000.0
    callback_answer_deadline: float = 15.0
    max_text_length: int = 4096
    max_caption_length: int = 1024
    max_callback_answer_length: int = 200
    max_buttons_per_row: int = 8
    max_buttons_total: int = 100
    long_poll_max_timeout: float = 50.0
    webhook_retry_initial_delay: float = 1.0
    webhook_retry_max_delay: float = 60.0
    webhook_timeout: float = 30.0

    @classmethod
    def unlimited(cls, **overrides: object) -> BotApiLimits:
        """Limits with flood control switched off (local chat, most functional tests)."""
        return cls(rate_limits_enabled=False, **overrides)  # type: ignore[arg-type]


@dataclass
class ManualClock:
    """A clock that only moves when told to; pass ``clock=ManualClock()`` to the server."""

    now: float = 1000.0

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        """Move time forward, e.g. past a callback deadline or a flood-control window."""
        self.now += seconds


def default_clock() -> float:
    """Monotonic seconds; the default clock of the server."""
    return time.monotonic()


@dataclass
class TokenBucket:
    """``capacity`` messages at once, refilled at ``rate`` messages per second."""

    rate: float
    capacity: float
    tokens: float = field(init=False)
    stamp: float | None = field(default=None, init=False)

    def __post_init__(self) -> None:
        self.tokens = self.capacity

    def _refill(self, now: float) -> None:
        if self.stamp is not None:
            self.tokens = min(self.capacity, self.tokens + (now - self.stamp) * self.rate)
        self.stamp = now

    def wait_time(self, now: float) -> float:
        """Seconds until one message may pass (0 when it may pass now)."""
        self._refill(now)
        if self.tokens >= 1.0:
            return 0.0
        return (1.0 - self.tokens) / self.rate

    def take(self, now: float) -> None:
        """Consume one message; call only after :meth:`wait_time` returned 0."""
        self._refill(now)
        self.tokens -= 1.0


class FloodControl:
    """Per-bot flood control: one global bucket plus one bucket per chat.

    A refused message consumes nothing, like Telegram, so a well-behaved client that waits
    ``retry_after`` seconds gets through.
    """

    def __init__(self, limits: BotApiLimits, clock: Clock) -> None:
        self._limits = limits
        self._clock = clock
        self._global = TokenBucket(limits.global_per_second, max(1.0, limits.global_per_second))
        self._paid = TokenBucket(
            limits.paid_broadcast_per_second, max(1.0, limits.paid_broadcast_per_second)
        )
        self._chats: dict[int, TokenBucket] = {}

    def _chat_bucket(self, chat_id: int, is_group: bool) -> TokenBucket:
        bucket = self._chats.get(chat_id)
        if bucket is None:
            if is_group:
                per_minute = self._limits.per_group_per_minute
                bucket = TokenBucket(per_minute / 60.0, max(1.0, per_minute))
            else:
                bucket = TokenBucket(
                    self._limits.per_chat_per_second, max(1, self._limits.per_chat_burst)
                )
            self._chats[chat_id] = bucket
        return bucket

    def check(self, chat_id: int, *, is_group: bool, paid: bool = False) -> int:
        """Admit one message now: 0 if it passes, else the ``retry_after`` seconds (>= 1)."""
        if not self._limits.rate_limits_enabled:
            return 0
        now = self._clock()
        overall = self._paid if paid else self._global
        buckets = [overall, self._chat_bucket(chat_id, is_group)]
        wait = max(bucket.wait_time(now) for bucket in buckets)
        if wait > 0:
            return max(1, math.ceil(wait))
        for bucket in buckets:
            bucket.take(now)
        return 0

    def reset(self) -> None:
        """Forget all history (e.g. between benchmark rounds)."""
        self._global = TokenBucket(self._global.rate, self._global.capacity)
        self._paid = TokenBucket(self._paid.rate, self._paid.capacity)
        self._chats.clear()
