"""Wires WhatsApp into a running Loket: the Graph API client, the channel, the inbox and the
webhook routes. ``loket run`` (bot/runner.py) and the tests build it the same way::

    whatsapp = WhatsAppService.for_loket(loket, settings)
    whatsapp.add_routes(web_app)                    # GET/POST /whatsapp/webhook
    notifications.delivery.add_channel("whatsapp", whatsapp.channel)
    async with whatsapp.running():
        ...
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from typing import TYPE_CHECKING

from aiohttp import web

from bot.whatsapp.channel import CHANNEL, WhatsAppChannel, WhatsAppSettings
from bot.whatsapp.client import GraphClient
from bot.whatsapp.inbox import WhatsAppInbox
from bot.whatsapp.webhook import WEBHOOK_PATH, WhatsAppWebhook

if TYPE_CHECKING:
    from bot.app import Loket

__all__ = ["CHANNEL", "WEBHOOK_PATH", "WhatsAppService", "WhatsAppSettings"]


class WhatsAppService:
    def __init__(self, channel: WhatsAppChannel, webhook: WhatsAppWebhook) -> None:
        self.channel = channel
        self.webhook = webhook
        self.inbox = webhook.inbox

    @classmethod
    def for_loket(cls, loket: Loket, settings: WhatsAppSettings) -> WhatsAppService:
        """Raises ValueError when the settings cannot be served safely (no app secret...)."""
        problems = settings.problems()
        if problems:
            raise ValueError("; ".join(problems))
        client = GraphClient(
            settings.api_base_url, settings.phone_number_id, settings.access_token
        )
        channel = WhatsAppChannel(
            loket.frontdesk,
            loket.translator,
            loket.sessions,
            client,
            templates=settings.templates,
            clock=loket.clock,
        )
        inbox = WhatsAppInbox(loket.database, channel.handle_message)
        webhook = WhatsAppWebhook(
            channel,
            inbox,
            app_secret=settings.app_secret,
            verify_token=settings.verify_token,
            phone_number_id=settings.phone_number_id,
        )
        return cls(channel, webhook)

    def add_routes(self, app: web.Application) -> None:
        self.webhook.add_routes(app)

    async def idle(self) -> None:
        await self.webhook.idle()

    @contextlib.asynccontextmanager
    async def running(self) -> AsyncIterator[WhatsAppService]:
        await self.channel.client.start()
        try:
            async with self.inbox.running():
                yield self
                await self.webhook.idle()
        finally:
            await self.channel.client.close()
