"""Receives the Cloud API's webhook on aiohttp: ``GET`` and ``POST /whatsapp/webhook``.

``GET`` is Meta's verification handshake: ``hub.mode=subscribe`` and a ``hub.verify_token``
equal (in constant time) to WHATSAPP_VERIFY_TOKEN echo ``hub.challenge``; anything else 403.

``POST`` carries messages and statuses. It fails closed: without an app secret no receiver
is built (``loket run`` refuses to start), a body larger than 3 MB is refused before it is
read whole, and the ``X-Hub-Signature-256`` HMAC-SHA256 of the raw body must match (constant
time) or the request is answered 401 (missing) / 403 (wrong) and nothing is recorded.
Messages are recorded in the deduplicating inbox (``bot/whatsapp/inbox.py``), the request is
answered 200, and they are handled after; statuses are handled after the 200 too. A database
error answers 500, so Meta delivers the webhook again later.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import logging
from collections.abc import Awaitable
from typing import Any

from aiohttp import web

from bot.privacy import mask_identifiers
from bot.whatsapp import limits
from bot.whatsapp.channel import WhatsAppChannel, identity
from bot.whatsapp.inbox import WhatsAppInbox

logger = logging.getLogger(__name__)
WEBHOOK_PATH = "/whatsapp/webhook"
SIGNATURE_HEADER = "X-Hub-Signature-256"


def signature(app_secret: str, body: bytes) -> str:
    """The header value Meta sends: ``sha256=`` and the hex HMAC-SHA256 of the raw body."""
    return "sha256=" + hmac.new(app_secret.encode(), body, hashlib.sha256).hexdigest()


class WhatsAppWebhook:
    def __init__(
        self,
        channel: WhatsAppChannel,
        inbox: WhatsAppInbox,
        *,
        app_secret: str,
        verify_token: str,
        phone_number_id: str,
        max_body: int = limits.MAX_WEBHOOK_BODY,
    ) -> None:
        if not app_secret:
            raise ValueError("a WhatsApp webhook needs the app secret (WHATSAPP_APP_SECRET)")
        if not verify_token:
            raise ValueError("a WhatsApp webhook needs WHATSAPP_VERIFY_TOKEN")
        self.channel = channel
        self.inbox = inbox
        self._secret = app_secret
        self._verify = verify_token.encode()
        self.phone_number_id = phone_number_id
        self.max_body = max_body
        self._tasks: set[asyncio.Task[None]] = set()
        self.accepted = 0
        self.refused = 0

    async def verify(self, request: web.Request) -> web.Response:
        mode = request.query.get("hub.mode", "")
        offered = request.query.get("hub.verify_token", "").encode()
        challenge = request.query.get("hub.challenge", "")
        if mode == "subscribe" and hmac.compare_digest(offered, self._verify) and challenge:
            return web.Response(text=challenge)
        return web.Response(status=403, text="forbidden")

    async def receive(self, request: web.Request) -> web.Response:
        if (request.content_length or 0) > self.max_body:
            self.refused += 1
            return web.Response(status=413, text="too large")
        body = bytearray()
        async for chunk in request.content.iter_chunked(64 * 1024):
            body.extend(chunk)
            if len(body) > self.max_body:
                self.refused += 1
                return web.Response(status=413, text="too large")
        raw = bytes(body)
        offered = request.headers.get(SIGNATURE_HEADER, "")
        if not offered:
            self.refused += 1
            return web.Response(status=401, text="signature missing")
        if not hmac.compare_digest(offered.encode(), signature(self._secret, raw).encode()):
            self.refused += 1
            return web.Response(status=403, text="bad signature")
        try:
            data = json.loads(raw)
            changes = [
                change.get("value") or {}
                for entry in data.get("entry") or []
                for change in entry.get("changes") or []
                if change.get("field") == "messages"
            ]
        except (ValueError, AttributeError, TypeError):
            logger.warning("WhatsApp webhook body is not a readable notification")
            return web.Response(status=400, text="bad body")
        statuses: list[dict[str, Any]] = []
        try:
            for value in changes:
                metadata = value.get("metadata") or {}
                if str(metadata.get("phone_number_id", "")) != self.phone_number_id:
                    logger.warning("WhatsApp webhook for another phone number ignored")
                    continue
                await self._record(value)
                statuses.extend(s for s in value.get("statuses") or [] if isinstance(s, dict))
        except Exception:  # not recorded: Meta must deliver it again
            logger.exception("WhatsApp webhook could not be recorded")
            return web.Response(status=500, text="not recorded")
        for status in statuses:
            self._later(self.channel.handle_status(status))
        self.accepted += 1
        return web.Response(text="ok")

    async def _record(self, value: dict[str, Any]) -> None:
        contacts = [c for c in value.get("contacts") or [] if isinstance(c, dict)]
        for message in value.get("messages") or []:
            if not isinstance(message, dict) or not message.get("id"):
                continue
            contact = _contact_for(message, contacts)
            who = identity(message, contact)
            if who is None:
                logger.warning("WhatsApp message without a sender dropped")
                continue
            key = f"wa:{who}"
            if await self.inbox.record(
                str(message["id"]), key, {"message": message, "contact": contact}
            ):
                self.inbox.kick(key)
            else:
                logger.info("WhatsApp message delivered again, dropped: %s", mask_identifiers(key))

    def _later(self, work: Awaitable[None]) -> None:
        async def run() -> None:
            try:
                await work
            except Exception:
                logger.exception("WhatsApp status failed")

        task = asyncio.create_task(run(), name="whatsapp-status")
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def idle(self) -> None:
        """Returns when every recorded message and status of this worker has been handled."""
        while self._tasks or self.inbox.busy:
            await asyncio.gather(*list(self._tasks), return_exceptions=True)
            await self.inbox.idle()

    def add_routes(self, app: web.Application) -> None:
        app.router.add_get(WEBHOOK_PATH, self.verify)
        app.router.add_post(WEBHOOK_PATH, self.receive)


def _contact_for(message: dict[str, Any], contacts: list[dict[str, Any]]) -> dict[str, Any]:
    """The ``contacts`` entry of the message's sender (by wa_id or user id), else the first."""
    sender = message.get("from") or message.get("from_user_id")
    for contact in contacts:
        if sender and sender in (contact.get("wa_id"), contact.get("user_id")):
            return contact
    return contacts[0] if contacts else {}
