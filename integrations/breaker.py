"""A circuit breaker per OPD, so a dead backend answers "unavailable" at once.

Without it every citizen asking about a down OPD would wait the full timeout, and the bot
would keep hammering a server that is trying to recover. The clock is injected so tests can
move time instead of sleeping.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Literal

Clock = Callable[[], float]
BreakerState = Literal["closed", "open", "half_open"]


class CircuitBreaker:
    """Opens after ``failure_threshold`` consecutive failures; one probe after ``cooldown``.

    closed: calls pass; failures are counted, a success resets the count.
    open: calls are refused until ``cooldown`` seconds have passed since it opened.
    half_open: exactly one probe call passes; its success closes, its failure reopens.
    """

    def __init__(
        self, failure_threshold: int = 5, cooldown: float = 30.0, clock: Clock = time.monotonic
    ) -> None:
        if failure_threshold < 1:
            raise ValueError("failure_threshold must be at least 1")
        self._threshold = failure_threshold
        self._cooldown = cooldown
        self._clock = clock
        self._failures = 0
        self._opened_at: float | None = None
        self._probe_in_flight = False

    @property
    def state(self) -> BreakerState:
        if self._opened_at is None:
            return "closed"
        if self._clock() - self._opened_at >= self._cooldown:
            return "half_open"
        return "open"

    @property
    def consecutive_failures(self) -> int:
        return self._failures

    def allow(self) -> bool:
        """Whether a call may go out now; in half-open state this reserves the single probe."""
        state = self.state
        if state == "closed":
            return True
        if state == "open" or self._probe_in_flight:
            return False
        self._probe_in_flight = True
        return True

    def record_success(self) -> None:
        self._failures = 0
        self._opened_at = None
        self._probe_in_flight = False

    def record_failure(self) -> None:
        self._failures += 1
        was_probe = self._probe_in_flight
        self._probe_in_flight = False
        if was_probe or self._failures >= self._threshold:
            self._opened_at = self._clock()

    def abandon(self) -> None:
        """The call was cancelled by us (not the OPD's fault): free the probe slot."""
        self._probe_in_flight = False
