"""Builds the notification machinery for a running Loket and runs its background tasks::

notifications = build_notifications(loket, {"telegram": TelegramDeliver(bot, key)})
notifications.add_routes(web_app)       # POST /hooks/{opd}, before the app starts
async with notifications.running():     # the delivery loop (and the poller)
    ...
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING

from aiohttp import web

from bot.frontdesk import Clock
from bot.notify.changes import ChangeRecorder
from bot.notify.delivery import Deliver, DeliveryLoop
from bot.notify.hooks import PushHook
from bot.notify.poller import Poller, poll_intervals
from bot.notify.source import StatusSource
from integrations.settings import IntegrationSettings

if TYPE_CHECKING:
    from bot.app import Loket

logger = logging.getLogger(__name__)


@dataclass(slots=True)
class Notifications:
    recorder: ChangeRecorder
    hook: PushHook
    poller: Poller
    delivery: DeliveryLoop
    stop_timeout: float = 10.0  # longest wait for the message in hand when stopping

    def add_routes(self, app: web.Application) -> None:
        """Serves ``POST /hooks/{opd}`` on ``app`` (before it starts)."""
        self.hook.add_routes(app)

    @asynccontextmanager
    async def running(self) -> AsyncIterator[Notifications]:
        """Runs the delivery loop (and the poller, if any OPD is polled) until the block ends."""
        tasks = [asyncio.create_task(self.delivery.run(), name="loket-notify-delivery")]
        if self.poller.intervals:
            tasks.append(asyncio.create_task(self.poller.run(), name="loket-notify-poller"))
        logger.info(
            "status notifications: pushes from %s, polling %s",
            ", ".join(sorted(self.hook.opds)) or "no OPD",
            ", ".join(f"{opd} every {s:g}s" for opd, s in sorted(self.poller.intervals.items()))
            or "no OPD",
        )
        try:
            yield self
        finally:
            for poller in tasks[1:]:
                poller.cancel()  # a poll in flight is simply repeated at the next start
            self.delivery.stop()  # lets the message in hand be sent *and* marked
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(asyncio.shield(tasks[0]), self.stop_timeout)
            for task in tasks:
                task.cancel()
            for task in tasks:
                with contextlib.suppress(asyncio.CancelledError):
                    await task


def build_notifications(
    loket: Loket,
    deliver: Mapping[str, Deliver],
    *,
    integrations: IntegrationSettings | None = None,
    clock: Clock | None = None,
    sweep_interval: float = 60.0,
    pace: float = 0.05,  # at most 20 messages a second, under Telegram's 30
) -> Notifications:
    """``deliver`` maps a channel (``telegram``) to its sender; ``integrations`` and ``clock``
    default to those Loket was opened with (hook secrets, poll intervals)."""
    settings = integrations if integrations is not None else loket.integrations
    clock = clock or loket.clock
    recorder = ChangeRecorder(loket.sessions)
    source = StatusSource(loket.clients)
    hook = PushHook({opd: s.hook_secret for opd, s in settings.opds.items()}, recorder)
    poller = Poller(
        loket.sessions, source, recorder, poll_intervals(settings, source.opds), clock=clock
    )
    delivery = DeliveryLoop(
        loket.sessions,
        loket.frontdesk,
        loket.translator,
        deliver,
        clock=clock,
        sweep_interval=sweep_interval,
        pace=pace,
    )
    recorder.set_listener(delivery.wake)
    return Notifications(recorder=recorder, hook=hook, poller=poller, delivery=delivery)
