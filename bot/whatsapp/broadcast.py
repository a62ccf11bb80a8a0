"""Announcements to WhatsApp subscribers, through the same durable queue as Telegram's.

:class:`WhatsAppBroadcasts` runs a :class:`~bot.broadcast.service.BroadcastService` for the
``whatsapp`` channel next to Telegram's: the queue is shared (``shared_with``), each sender
claims only its channel's rows, so a crash, a restart or a cancellation behaves exactly as
on Telegram. WhatsApp's own limits pace it: 80 messages/s per business number by default
(``WHATSAPP_RATE``), one message about every 6 s to one citizen (Meta's pair rate limit).

:class:`WhatsAppSend` maps the Graph API's answers onto the broadcast's outcomes:

* accepted: ``sent`` (inside the window as text in WhatsApp's markup, outside it as the
  approved announcement template; 131047 falls back to the template, bot/whatsapp/channel.py);
* 130429 (the number's throughput): ``retry_after``, which pauses the whole broadcast;
* 131056 (too many messages to this citizen): that row alone is tried again after
  ``PAIR_INTERVAL`` at least; the others go on;
* 131026 (the number cannot receive) or a citizen gone: ``blocked``, marked inactive like a
  Telegram 403 (131026 reported later by status webhook is marked there);
* a server error or no answer: ``transient``; any other refusal: ``failed``.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import TYPE_CHECKING

from bot.broadcast.pacer import Pacer
from bot.broadcast.sender import Media, Outcome
from bot.broadcast.service import BroadcastService, ProgressNotifier
from bot.broadcast.verify import find_reference
from bot.notify.delivery import DeliveryResult
from bot.storage.models import utcnow
from bot.whatsapp import limits
from bot.whatsapp.channel import CHANNEL, WhatsAppChannel

if TYPE_CHECKING:
    from bot.app import Loket

DEFAULT_RATE = 80.0  # messages per second per business phone number (Meta's default)
PAIR_INTERVAL = 6.0  # about one message every 6 s to one citizen
THROTTLE_PAUSE = 2.0  # 130429 carries no retry-after: the broadcast pauses this long


class WhatsAppSend:
    """The broadcast's ``Send`` over the WhatsApp channel; never raises for Meta's answers."""

    def __init__(self, channel: WhatsAppChannel, pacer: Pacer) -> None:
        self.channel = channel
        self.pacer = pacer

    async def __call__(self, chat_id: str, text: str, media: Media | None = None) -> Outcome:
        # A photo's Telegram file id means nothing to WhatsApp: its caption goes as text.
        reference = find_reference(text) or ""
        result, error = await self.channel.deliver_announcement(chat_id, text, reference)
        if result is DeliveryResult.DELIVERED:
            return Outcome.sent()
        reason = "not a WhatsApp citizen" if error is None else str(error)
        if result is DeliveryResult.BLOCKED:
            return Outcome.blocked(reason)
        if error is not None and error.code == limits.RATE_LIMIT_HIT:
            return Outcome.wait(THROTTLE_PAUSE)
        if error is not None and error.code == limits.PAIR_RATE_LIMIT:
            return Outcome.transient(reason, not_before=PAIR_INTERVAL)
        if result is DeliveryResult.RETRY:
            return Outcome.transient(reason)
        return Outcome.failed(reason)


def whatsapp_pacer(
    rate: float = DEFAULT_RATE,
    *,
    clock: Callable[[], float] | None = None,
    sleep: Callable[[float], Awaitable[None]] | None = None,
) -> Pacer:
    """A pacer shaped like WhatsApp's limits: ``rate`` per second for the number, one
    message per ``PAIR_INTERVAL`` to a citizen (no burst for announcements)."""
    options: dict[str, object] = {}
    if clock is not None:
        options["clock"] = clock
    if sleep is not None:
        options["sleep"] = sleep
    return Pacer(
        rate,
        per_chat_interval=PAIR_INTERVAL,
        chat_rate=1.0 / PAIR_INTERVAL,
        chat_burst=1,
        **options,  # type: ignore[arg-type]
    )


class ReportOnly:
    """The author's report (on Telegram) without a second stream of progress edits: the
    Telegram sender already edits the live message with the counts of every channel."""

    def __init__(self, notifier: ProgressNotifier) -> None:
        self._notifier = notifier

    async def progress(self, announcement_id: int, progress: object) -> None:
        return None

    async def finished(self, announcement_id: int, report: object) -> None:
        await self._notifier.finished(announcement_id, report)  # type: ignore[arg-type]


class WhatsAppBroadcasts:
    def __init__(
        self,
        loket: Loket,
        channel: WhatsAppChannel,
        *,
        rate: float = DEFAULT_RATE,
        shared_with: tuple[str, ...] = ("telegram",),
        notifier: ProgressNotifier | None = None,
        pacer: Pacer | None = None,
        wallclock: Callable[[], dt.datetime] = utcnow,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        **sender_options: object,
    ) -> None:
        self.pacer = pacer or whatsapp_pacer(rate)
        self.send = WhatsAppSend(channel, self.pacer)
        # Replies to citizens use the number's budget too: the broadcast makes room.
        channel.on_sent = self.pacer.note_external
        self.service = BroadcastService(
            loket.database,
            loket.sessions,
            self.send,
            channel=CHANNEL,
            pacer=self.pacer,
            translator=loket.translator,
            notifier=None if notifier is None else ReportOnly(notifier),
            wallclock=wallclock,
            sleep=sleep,
            shared_with=shared_with,
            **sender_options,
        )

    @contextlib.asynccontextmanager
    async def running(self) -> AsyncIterator[BroadcastService]:
        async with self.service.running() as service:
            yield service
