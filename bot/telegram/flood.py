"""Per-citizen flood control: a burst from one person must not crowd out everyone else."""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from enum import Enum


class Verdict(Enum):
    ALLOW = "allow"
    WARN = "warn"  # first message over the limit: answer once with a slow-down note
    DROP = "drop"  # further messages in the same window: ignored


@dataclass(slots=True)
class _Window:
    times: deque[float] = field(default_factory=deque)
    warned: bool = False


class FloodControl:
    """At most ``limit`` messages per ``window`` seconds per user (sliding window)."""

    def __init__(
        self, limit: int, window: float, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.limit = limit
        self.window = window
        self._clock = clock
        self._users: dict[int, _Window] = {}

    def check(self, user_id: int) -> Verdict:
        now = self._clock()
        state = self._users.setdefault(user_id, _Window())
        while state.times and now - state.times[0] >= self.window:
            state.times.popleft()
        if len(state.times) < self.limit:
            state.times.append(now)
            state.warned = False
            return Verdict.ALLOW
        if not state.warned:
            state.warned = True
            return Verdict.WARN
        return Verdict.DROP

    def forget_idle(self) -> None:
        """Drops users with no recent messages, so memory stays bounded."""
        now = self._clock()
        for user_id in [
            u for u, s in self._users.items() if not s.times or now - s.times[-1] >= self.window
        ]:
            del self._users[user_id]
