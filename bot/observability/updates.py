"""One log line and one metric sample per handled Telegram update.

The update processor is wrapped, so every update is seen exactly once whatever happens to
it: answered, dropped by the flood gate (``ApplicationHandlerStop`` before any handler), or
failed in a handler. The outcome is read from two small handlers this module adds to the
Application (an error handler, and a handler in the last group that only a fully handled
update reaches), through a context variable that PTB's handlers share with the processor
task. Nothing of the update's content is logged: its kind, id, outcome and duration only.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any

from telegram import Update
from telegram.ext import Application, BaseUpdateProcessor, ContextTypes, TypeHandler

logger = logging.getLogger("loket.updates")
# After every handler group the channel uses (flood gate -1, handlers 0).
LAST_GROUP = 1_000_000

UpdateRecorder = Callable[[str, str, float], None]


@dataclass(slots=True)
class _Progress:
    completed: bool = False
    failed: bool = False


_current: ContextVar[_Progress | None] = ContextVar("loket_update_progress", default=None)


def update_kind(update: object) -> str:
    """A small fixed set (a metric label): command, text, button, media, other."""
    if not isinstance(update, Update):
        return "other"
    if update.callback_query is not None:
        return "button"
    message = update.message
    if message is None:
        return "other"
    if message.text is not None:
        return "command" if message.text.startswith("/") else "text"
    return "media"


class UpdateObserver:
    """Times each update and reports ``(kind, outcome, seconds)`` to ``record`` and the log.

    ``outcome``: ``ok`` (handled to the end), ``error`` (a handler raised; the citizen got
    the polite error note), ``dropped`` (stopped early, by the flood gate).
    """

    def __init__(
        self,
        record: UpdateRecorder | None = None,
        *,
        clock: Callable[[], float] = time.perf_counter,
    ) -> None:
        self._record = record
        self._clock = clock

    def wrap(self, processor: BaseUpdateProcessor) -> BaseUpdateProcessor:
        """The processor to give ``ApplicationBuilder.concurrent_updates``."""
        return ObservedUpdateProcessor(processor, self)

    def attach(self, application: Application) -> None:  # type: ignore[type-arg]
        """Adds the two outcome handlers; call after the channel's own handlers are added."""
        application.add_handler(TypeHandler(object, self._completed), group=LAST_GROUP)
        application.add_error_handler(self._failed)

    async def _completed(self, _update: object, _context: ContextTypes.DEFAULT_TYPE) -> None:
        progress = _current.get()
        if progress is not None:
            progress.completed = True

    async def _failed(self, update: object, _context: ContextTypes.DEFAULT_TYPE) -> None:
        progress = _current.get()
        if progress is not None and update is not None:
            progress.failed = True

    async def observe(self, update: object, coroutine: Awaitable[Any]) -> None:
        progress = _Progress()
        token = _current.set(progress)
        started = self._clock()
        try:
            await coroutine
        except BaseException:
            progress.failed = True
            raise
        finally:
            _current.reset(token)
            seconds = self._clock() - started
            outcome = "error" if progress.failed else "ok" if progress.completed else "dropped"
            kind = update_kind(update)
            if self._record is not None:
                self._record(kind, outcome, seconds)
            logger.info(
                "update %s %s in %.1f ms",
                kind,
                outcome,
                seconds * 1000,
                extra={
                    "update_id": update.update_id if isinstance(update, Update) else None,
                    "kind": kind,
                    "outcome": outcome,
                    "duration_ms": round(seconds * 1000, 2),
                },
            )


class ObservedUpdateProcessor(BaseUpdateProcessor):
    """Delegates ordering to the wrapped processor and times the update's own processing
    (not its wait behind the same citizen's previous update)."""

    def __init__(self, inner: BaseUpdateProcessor, observer: UpdateObserver) -> None:
        super().__init__(inner.max_concurrent_updates)
        self._inner = inner
        self._observer = observer

    async def do_process_update(self, update: object, coroutine: Awaitable[Any]) -> None:
        await self._inner.do_process_update(update, self._observer.observe(update, coroutine))

    async def initialize(self) -> None:
        await self._inner.initialize()

    async def shutdown(self) -> None:
        await self._inner.shutdown()
