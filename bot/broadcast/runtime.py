"""The announcement side of ``loket run`` on Telegram, wired in one place.

:class:`TelegramBroadcasts` builds what /umumkan needs before the PTB Application exists (the
composer its handlers call, the pacer its replies are counted into), and runs the
:class:`~bot.broadcast.service.BroadcastService` once the Application's bot can show progress.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
from collections.abc import AsyncIterator, Awaitable, Callable

from telegram import Bot

from bot.app import Loket
from bot.broadcast.compose import Composer
from bot.broadcast.pacer import Pacer
from bot.broadcast.service import BroadcastService
from bot.broadcast.telegram import TelegramProgress, TelegramSend
from bot.storage.models import utcnow

CHANNEL = "telegram"


class TelegramBroadcasts:
    def __init__(
        self,
        loket: Loket,
        token: str,
        *,
        base_url: str | None,
        rate: float,
        paid: bool = False,
        wallclock: Callable[[], dt.datetime] = utcnow,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        progress_interval: float = 5.0,
        shared_with: tuple[str, ...] = (),
    ) -> None:
        """``wallclock`` and ``sleep`` decide when scheduled announcements are due (tests
        drive them); the pacer always runs on the real monotonic clock."""
        self.loket = loket
        self.pacer = Pacer(rate)
        self.send = TelegramSend.create(token, base_url=base_url, paid_broadcast=paid)
        self.progress = TelegramProgress(None, loket.sessions)
        self.service = BroadcastService(
            loket.database,
            loket.sessions,
            self.send,
            channel=CHANNEL,
            pacer=self.pacer,
            translator=loket.translator,
            notifier=self.progress,
            wallclock=wallclock,
            sleep=sleep,
            progress_interval=progress_interval,
            shared_with=shared_with,  # WhatsApp's subscribers too (issue 16)
        )
        self.composer = Composer(
            loket.sessions,
            loket.region,
            loket.translator,
            CHANNEL,
            wake=self.service.wake,
            stop=self.service.cancel,
            clock=wallclock,
        )

    def note_replies(self, count: int) -> None:
        """Replies to citizens use the same per-bot budget: the broadcast makes room."""
        self.pacer.note_external(count)

    @contextlib.asynccontextmanager
    async def running(self, bot: Bot) -> AsyncIterator[BroadcastService]:
        """Sends due announcements (resuming interrupted ones) until the block ends."""
        self.progress.bot = bot
        await self.composer.load_awaiting()
        async with self.send, self.service.running() as service:
            yield service
