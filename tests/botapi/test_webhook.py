"""Webhook delivery to a real aiohttp receiver: secret header, retries, reply-in-body."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from aiohttp import web
from telegram import Bot, Update

from bot.botapi import BotApiLimits, LocalBotApi
from tests.botapi.conftest import CITIZEN


@pytest.fixture
def limits() -> BotApiLimits:
    return BotApiLimits.unlimited(webhook_retry_initial_delay=0.01)


@dataclass
class Receiver:
    """A stand-in for the bot's webhook endpoint."""

    url: str = ""
    received: list[tuple[dict[str, Any], str | None]] = field(default_factory=list)
    statuses: list[int] = field(default_factory=list)
    reply: dict[str, Any] | None = None
    arrived: asyncio.Queue[dict[str, Any]] = field(default_factory=asyncio.Queue)

    async def handle(self, request: web.Request) -> web.Response:
        body = await request.json()
        self.received.append((body, request.headers.get("X-Telegram-Bot-Api-Secret-Token")))
        status = self.statuses.pop(0) if self.statuses else 200
        if status == 200:
            self.arrived.put_nowait(body)
            if self.reply is not None:
                return web.json_response(self.reply)
        return web.Response(status=status)


@pytest.fixture
async def receiver() -> AsyncIterator[Receiver]:
    hook = Receiver()
    app = web.Application()
    app.router.add_post("/hook", hook.handle)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    hook.url = f"http://127.0.0.1:{port}/hook"
    try:
        yield hook
    finally:
        await runner.cleanup()


async def test_updates_are_posted_with_the_secret(
    api: LocalBotApi, bot: Bot, receiver: Receiver
) -> None:
    assert await bot.set_webhook(receiver.url, secret_token="rahasia_Loket-1")
    sent = api.send_text(CITIZEN, "halo webhook")
    body = await asyncio.wait_for(receiver.arrived.get(), 5)
    assert body == sent
    assert receiver.received[0][1] == "rahasia_Loket-1"
    update = Update.de_json(body, bot)
    assert update.message.text == "halo webhook"
    info = await bot.get_webhook_info()
    assert info.url == receiver.url
    assert info.pending_update_count == 0
    assert api.bot().deliveries[-1].status == 200


async def test_failed_delivery_is_retried_and_reported(
    api: LocalBotApi, bot: Bot, receiver: Receiver
) -> None:
    receiver.statuses = [500, 403]
    await bot.set_webhook(receiver.url)
    api.send_text(CITIZEN, "coba lagi")
    body = await asyncio.wait_for(receiver.arrived.get(), 5)
    assert body["message"]["text"] == "coba lagi"
    assert [d.status for d in api.bot().deliveries] == [500, 403, 200]
    info = await bot.get_webhook_info()
    assert info.last_error_message == "Wrong response from the webhook: 403 Forbidden"


async def test_method_in_the_webhook_response_is_executed(
    api: LocalBotApi, bot: Bot, receiver: Receiver
) -> None:
    receiver.reply = {"method": "sendMessage", "chat_id": CITIZEN, "text": "dibalas lewat body"}
    await bot.set_webhook(receiver.url)
    api.send_text(CITIZEN, "halo")
    (message,) = await api.wait_for_messages(CITIZEN, 1, timeout=5)
    assert message.text == "dibalas lewat body"


@pytest.mark.parametrize(
    ("secret", "description"),
    [
        ("a" * 257, "Secret token is too long"),
        ("tidak boleh spasi", "Secret token contains unallowed characters"),
    ],
)
async def test_secret_token_validation(bot: Bot, secret: str, description: str) -> None:
    from telegram.error import BadRequest

    with pytest.raises(BadRequest) as info:
        await bot.set_webhook("http://127.0.0.1:9/hook", secret_token=secret)
    assert info.value.message == description


async def test_drop_pending_updates(api: LocalBotApi, bot: Bot) -> None:
    api.send_text(CITIZEN, "lama")
    await bot.delete_webhook(drop_pending_updates=True)
    assert await bot.get_updates() == ()
