"""Webhook mode: WebhookReceiver on an aiohttp test server in front of the Application."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer

from bot.botapi import BotApiLimits, LocalBotApi
from bot.telegram.aiohttp_request import AiohttpRequest
from bot.telegram.channel import ALLOWED_UPDATES
from bot.telegram.webhook import SECRET_HEADER, WEBHOOK_PATH, WebhookReceiver
from tests.telegram.support import TIMEOUT, Citizen, Desk, GatedRequest, HeldReply

SECRET = "rahasia-webhook-9f3a"


@pytest.fixture
def polling() -> bool:
    return False


@pytest.fixture
def limits() -> BotApiLimits:
    return BotApiLimits.unlimited(webhook_retry_initial_delay=0.01)


class Hook:
    """The receiver served over HTTP, and a client posting to it as Telegram (or not)."""

    def __init__(self, receiver: WebhookReceiver, server: TestServer) -> None:
        self.receiver = receiver
        self.server = server
        self.url = str(server.make_url(WEBHOOK_PATH))

    async def post(self, update: dict[str, Any], secret: str | None = SECRET) -> tuple[int, str]:
        headers = {} if secret is None else {SECRET_HEADER: secret}
        async with (
            aiohttp.ClientSession() as session,
            session.post(self.url, data=json.dumps(update), headers=headers) as response,
        ):
            return response.status, await response.text()


@pytest.fixture
async def hook(desk: Desk) -> AsyncIterator[Hook]:
    assert desk.application is not None
    assert desk.application.updater is None  # nothing polls: updates come only by webhook
    app = web.Application()
    receiver = WebhookReceiver(desk.application, SECRET)
    receiver.add_routes(app)
    server = TestServer(app, host="127.0.0.1")
    await server.start_server()
    try:
        yield Hook(receiver, server)
    finally:
        await server.close()


def text_update(
    update_id: int, citizen: Citizen, text: str, message_id: int = 900
) -> dict[str, Any]:
    """An update as Telegram would post it (built by hand: it never passed the server)."""
    sender = {
        "id": citizen.user_id,
        "is_bot": False,
        "first_name": "Yosina",
        "language_code": "id",
    }
    return {
        "update_id": update_id,
        "message": {
            "message_id": message_id,
            "date": 1_790_000_000,
            "chat": {"id": citizen.chat_id, "type": "private", "first_name": "Yosina"},
            "from": sender,
            "text": text,
        },
    }


async def test_updates_from_the_bot_api_server_arrive_with_the_secret(
    api: LocalBotApi, desk: Desk, hook: Hook, warga: Citizen
) -> None:
    assert desk.application is not None
    await desk.application.bot.set_webhook(
        hook.url, secret_token=SECRET, allowed_updates=list(ALLOWED_UPDATES)
    )
    reply = await warga.send("/start ktp_baru")
    assert reply.text.startswith("KTP-el baru")
    reply = await warga.click("Menu utama")
    assert "Menu utama" in reply.text
    deliveries = api.bot().deliveries
    assert [d.status for d in deliveries] == [200, 200]
    assert all(d.secret_token_sent == SECRET for d in deliveries)
    assert hook.receiver.accepted == 2


async def test_missing_or_wrong_secret_is_refused_and_not_processed(
    desk: Desk, hook: Hook, warga: Citizen
) -> None:
    assert desk.application is not None
    for secret in (None, "", "rahasia-webhook-9f3b", SECRET + "x", SECRET[:-1]):
        status, _ = await hook.post(text_update(7001, warga, "/start"), secret=secret)
        assert status == 403, secret
    assert hook.receiver.refused == 5
    assert hook.receiver.accepted == 0
    assert desk.application.update_queue.qsize() == 0

    # The genuine update after them is the only one handled (one citizen's updates are
    # handled in order, so a refused one, had it been queued, would have come first).
    status, _ = await hook.post(text_update(7002, warga, "syarat kia"))
    assert status == 200
    await warga.tracker.wait_updates([7002])
    assert 7001 not in warga.tracker.update_ids
    (answer,) = warga.bot_messages()
    assert answer.visible_text.startswith("KIA")


async def test_right_secret_is_answered_at_once_and_processed(
    desk: Desk, hook: Hook, warga: Citizen
) -> None:
    """The reply is held at the HTTP layer, so processing cannot finish; the webhook call
    must still be answered 200 (Telegram waits for nobody)."""
    held = HeldReply(warga.chat_id)
    await desk.restart(request=GatedRequest(AiohttpRequest(), held), polling=False)
    assert desk.application is not None
    hook.receiver.application = desk.application
    try:
        async with asyncio.timeout(TIMEOUT):
            status, body = await hook.post(text_update(7101, warga, "syarat akta kelahiran"))
            assert (status, body) == (200, "ok")
            await held.held.wait()
        assert 7101 not in warga.tracker.update_ids  # still being processed
    finally:
        held.release.set()
    await warga.tracker.wait_updates([7101])
    (answer,) = warga.bot_messages()
    assert answer.visible_text.startswith("Akta kelahiran")


async def test_the_same_update_twice_is_processed_once(
    desk: Desk, hook: Hook, warga: Citizen
) -> None:
    update = text_update(7201, warga, "syarat ktp baru")
    assert await hook.post(update) == (200, "ok")
    assert await hook.post(update) == (200, "ok (duplicate)")  # Telegram re-sent it
    assert await hook.post(text_update(7202, warga, "menu", message_id=901)) == (200, "ok")
    await warga.tracker.wait_updates([7201, 7202])
    texts = [m.visible_text for m in warga.bot_messages()]
    assert len(texts) == 2
    assert texts[0].startswith("KTP-el baru")
    assert "Menu utama" in texts[1]
    assert hook.receiver.accepted == 2


async def test_edited_messages_and_junk_are_not_answered(
    desk: Desk, hook: Hook, warga: Citizen
) -> None:
    edited = text_update(7301, warga, "syarat ktp baru")
    edited["edited_message"] = {**edited.pop("message"), "edit_date": 1_790_000_100}
    assert await hook.post(edited) == (200, "ok")
    for junk in (
        {"not": "an update"},
        {"update_id": "tujuh"},
        {"update_id": 7303, "message": "teks"},
        {"update_id": 7304, "message": {"text": "tanpa tanggal"}},
        [7305],
    ):
        status, _ = await hook.post(junk)  # type: ignore[arg-type]
        assert status == 400, junk
    async with (
        aiohttp.ClientSession() as session,
        session.post(hook.url, data=b"{", headers={SECRET_HEADER: SECRET}) as response,
    ):
        assert response.status == 400
    assert await hook.post(text_update(7302, warga, "menu")) == (200, "ok")
    await warga.tracker.wait_updates([7301, 7302])
    (answer,) = warga.bot_messages()
    assert "Menu utama" in answer.visible_text
