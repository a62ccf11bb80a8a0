"""Receives Telegram's webhook calls on aiohttp.

Only requests carrying the secret token set with setWebhook are accepted (compared in
constant time, so the secret cannot be guessed byte by byte from response times). The
update is queued and the request answered at once: Telegram waits for nobody. An update_id
seen before (Telegram re-sends after a timeout) is acknowledged and dropped.
"""

from __future__ import annotations

import hmac
import json
import logging
from collections import OrderedDict

from aiohttp import web
from telegram import Update
from telegram.ext import Application

logger = logging.getLogger(__name__)
SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"  # noqa: S105 - a header name
WEBHOOK_PATH = "/telegram/webhook"


class RecentIds:
    """A bounded memory of update ids already accepted."""

    def __init__(self, capacity: int = 50_000) -> None:
        self.capacity = capacity
        self._ids: OrderedDict[int, None] = OrderedDict()

    def add(self, update_id: int) -> bool:
        """True if new; False if seen before."""
        if update_id in self._ids:
            return False
        self._ids[update_id] = None
        if len(self._ids) > self.capacity:
            self._ids.popitem(last=False)
        return True


class WebhookReceiver:
    def __init__(self, application: Application, secret: str) -> None:  # type: ignore[type-arg]
        if not secret:
            raise ValueError("a webhook needs a secret token (WEBHOOK_SECRET)")
        self.application = application
        self._secret = secret.encode()
        self.seen = RecentIds()
        self.accepted = 0
        self.refused = 0

    async def handle(self, request: web.Request) -> web.Response:
        offered = request.headers.get(SECRET_HEADER, "").encode()
        if not hmac.compare_digest(offered, self._secret):
            self.refused += 1
            return web.Response(status=403, text="forbidden")
        try:
            data = json.loads(await request.read())
            update_id = int(data["update_id"])
            update = Update.de_json({**data, "update_id": update_id}, self.application.bot)
        except (ValueError, KeyError, TypeError, AttributeError):
            # Not JSON, or not an update PTB can read: refused before it is remembered, so a
            # corrected re-send is not mistaken for a duplicate.
            logger.warning("webhook body is not a readable update")
            return web.Response(status=400, text="bad update")
        if not self.seen.add(update_id):
            return web.Response(text="ok (duplicate)")
        await self.application.update_queue.put(update)
        self.accepted += 1
        return web.Response(text="ok")

    def add_routes(self, app: web.Application) -> None:
        app.router.add_post(WEBHOOK_PATH, self.handle)
