"""Receives Telegram's webhook calls on aiohttp.

Only requests carrying the secret token set with setWebhook are accepted (compared in
constant time, so the secret cannot be guessed byte by byte from response times). The
update is queued and the request answered at once: Telegram waits for nobody. An update_id
seen before (Telegram re-sends after a timeout) is acknowledged and dropped.

With an ``inbox`` (several workers on PostgreSQL, bot/workers/inbox.py) the update is first
recorded in the shared ``inbox_updates`` table (the duplicate check then covers every
worker), answered 200 only once that is committed, and processed in update_id order per
citizen by whichever worker holds the citizen's lock. A database error answers 500, so
Telegram sends the update again later.
"""

from __future__ import annotations

import hmac
import json
import logging
from collections import OrderedDict

from aiohttp import web
from telegram import Update
from telegram.ext import Application

from bot.telegram.ordering import ordering_key
from bot.workers.inbox import Inbox

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
    def __init__(
        self,
        application: Application,  # type: ignore[type-arg]
        secret: str,
        *,
        inbox: Inbox | None = None,
    ) -> None:
        if not secret:
            raise ValueError("a webhook needs a secret token (WEBHOOK_SECRET)")
        self.application = application
        self._secret = secret.encode()
        self.seen = RecentIds()
        self.inbox = inbox
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
        if self.inbox is not None:
            return await self._record(update_id, update, data)
        if not self.seen.add(update_id):
            return web.Response(text="ok (duplicate)")
        await self.application.update_queue.put(update)
        self.accepted += 1
        return web.Response(text="ok")

    async def _record(
        self, update_id: int, update: Update, data: dict[str, object]
    ) -> web.Response:
        assert self.inbox is not None
        kind, value = ordering_key(update)
        key = f"update:{update_id}" if kind == "other" else f"{kind}:{value}"
        try:
            new = await self.inbox.record(update_id, key, {**data, "update_id": update_id})
        except Exception:  # not recorded: Telegram must send it again
            logger.exception("webhook update could not be recorded")
            return web.Response(status=500, text="not recorded")
        if not new:
            return web.Response(text="ok (duplicate)")
        receive = getattr(self.application.update_queue, "receive", None)
        if receive is not None:  # a button press is answered now, by the receiving worker
            receive(update)
        self.accepted += 1
        self.inbox.kick(key)
        return web.Response(text="ok")

    async def process(self, data: dict[str, object]) -> None:
        """Runs one recorded update through the Application (the inbox's ``handle``): the
        same update processor as queued updates, so logging and per-citizen order apply."""
        update = Update.de_json(data, self.application.bot)
        await self.application.update_processor.process_update(
            update, self.application.process_update(update)
        )

    async def idle(self) -> None:
        """Returns when no update taken from the inbox is being handled (before shutdown)."""
        if self.inbox is not None:
            await self.inbox.idle()

    def add_routes(self, app: web.Application) -> None:
        app.router.add_post(WEBHOOK_PATH, self.handle)
