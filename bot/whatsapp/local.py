"""WhatsApp in ``loket run``: the local mode's stand-in and web chat page, and the wiring
that is the same in both modes (webhook routes, notifications, announcements).

In the local mode everything is served on the one port of the local Bot API: the Telegram
web chat at ``/``, the WhatsApp one at ``/wa/``, the Graph API stand-in at ``/v23.0/...``
and Loket's own ``/whatsapp/webhook``, which the stand-in signs with its fixed app secret.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from typing import TYPE_CHECKING

from aiohttp import web

from bot.broadcast.service import BroadcastService, ProgressNotifier
from bot.whatsapp.broadcast import WhatsAppBroadcasts
from bot.whatsapp.channel import CHANNEL, WhatsAppSettings
from bot.whatsapp.service import WEBHOOK_PATH, WhatsAppService
from bot.whatsapp.standin import (
    ACCESS_TOKEN,
    APP_SECRET,
    PHONE_NUMBER_ID,
    VERIFY_TOKEN,
    CloudApiStandIn,
)
from bot.whatsapp.webchat import PREFIX, WhatsAppWebChat

if TYPE_CHECKING:
    from bot.app import Loket
    from bot.notify.service import Notifications

LOCAL_SETTINGS = WhatsAppSettings(
    phone_number_id=PHONE_NUMBER_ID,
    access_token=ACCESS_TOKEN,
    app_secret=APP_SECRET,
    verify_token=VERIFY_TOKEN,
    api_base_url="http://127.0.0.1/v23.0",  # replaced by the real port at start
)


class WhatsAppSide:
    """Loket's WhatsApp: the webhook routes on ``app`` (before it starts), then
    :meth:`join` the notifications and Telegram's announcement queue."""

    def __init__(self, loket: Loket, settings: WhatsAppSettings, app: web.Application) -> None:
        self.loket = loket
        self.service = WhatsAppService.for_loket(loket, settings)
        self.service.add_routes(app)
        self.broadcasts: WhatsAppBroadcasts | None = None

    def join(
        self,
        notifications: Notifications,
        telegram: BroadcastService | None,
        author: ProgressNotifier | None,
        *,
        rate: float,
    ) -> None:
        """Status notifications and announcements reach WhatsApp citizens too; ``rate``:
        the number's messages per second for announcements (WHATSAPP_RATE)."""
        notifications.delivery.add_channel(CHANNEL, self.service.channel)
        self.broadcasts = WhatsAppBroadcasts(
            self.loket,
            self.service.channel,
            rate=rate,
            notifier=author,
            shared_with=("telegram",) if telegram is not None else (),
        )
        if telegram is not None:
            telegram.share_queue(self.broadcasts.service)

    @contextlib.asynccontextmanager
    async def running(self) -> AsyncIterator[WhatsAppSide]:
        async with contextlib.AsyncExitStack() as stack:
            await stack.enter_async_context(self.service.running())
            if self.broadcasts is not None:
                await stack.enter_async_context(self.broadcasts.running())
            yield self


class LocalWhatsApp:
    """The stand-in and its web chat page, mounted on the local mode's server."""

    def __init__(self, app: web.Application) -> None:
        self.api = CloudApiStandIn()
        self.api.mount(app)
        self.page = WhatsAppWebChat(self.api)
        self.page.setup(app)

    async def attach(self, origin: str, side: WhatsAppSide) -> str:
        """Once the server listens at ``origin``: the stand-in posts to Loket's webhook there
        and Loket sends to the stand-in there. Returns the page's address."""
        base = await self.api.attach(origin, f"{origin}{WEBHOOK_PATH}")
        side.service.channel.client.rebase(base, PHONE_NUMBER_ID)
        return f"{origin}{PREFIX}/"

    async def stop(self) -> None:
        self.page.close()
        await self.api.stop()
