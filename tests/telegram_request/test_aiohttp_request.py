"""AiohttpRequest against the local Bot API server over loopback HTTP."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
from telegram import Bot, InlineKeyboardButton, InlineKeyboardMarkup, LinkPreviewOptions
from telegram.error import BadRequest, Forbidden, NetworkError, TimedOut
from telegram.request import BaseRequest, HTTPXRequest

from bot.botapi import BotApiLimits, LocalBotApi
from bot.telegram.aiohttp_request import AiohttpRequest
from bot.telegram.channel import ChannelSettings, build_application
from bot.telegram.outbox import PacedRequest

TOKEN = "123456:LOCAL"
CITIZEN = 1000


@pytest.fixture
async def api() -> AsyncIterator[LocalBotApi]:
    server = LocalBotApi(BotApiLimits.unlimited())
    server.add_user(CITIZEN, "Warga", username="warga")
    await server.start()
    try:
        yield server
    finally:
        await server.stop()


def make_bot(api: LocalBotApi, request: BaseRequest | None = None) -> Bot:
    return Bot(
        TOKEN,
        base_url=api.bot_api_url,
        base_file_url=api.file_url,
        request=request or AiohttpRequest(),
        get_updates_request=AiohttpRequest(connection_pool_size=1),
    )


async def test_get_me(api: LocalBotApi) -> None:
    async with make_bot(api) as bot:
        me = await bot.get_me()
    assert me.username == "loket_bot"
    assert me.is_bot


async def test_send_message_with_markup(api: LocalBotApi) -> None:
    keyboard = InlineKeyboardMarkup([[InlineKeyboardButton("Menu ☰", callback_data="menu")]])
    async with make_bot(api) as bot:
        sent = await bot.send_message(
            CITIZEN,
            "<b>Halo</b> & selamat datang 🙏 di Timika",
            parse_mode="HTML",
            reply_markup=keyboard,
            link_preview_options=LinkPreviewOptions(is_disabled=True),
        )
    (stored,) = api.messages(CITIZEN)
    assert stored.message_id == sent.message_id
    assert stored.text == "Halo & selamat datang 🙏 di Timika"
    assert stored.entities[0]["type"] == "bold"
    assert stored.buttons == [[("Menu ☰", "menu")]]
    assert sent.reply_markup == keyboard


async def test_error_answers_become_ptb_errors(api: LocalBotApi) -> None:
    async with make_bot(api) as bot:
        with pytest.raises(BadRequest, match=r"(?i)chat not found"):
            await bot.send_message(424242, "halo")
        api.block_user(CITIZEN)
        with pytest.raises(Forbidden, match=r"(?i)blocked"):
            await bot.send_message(CITIZEN, "halo")


async def test_read_timeout_becomes_timed_out(api: LocalBotApi) -> None:
    # A long poll that the server holds for 3 s, read by a client that waits 0.2 s.
    url = f"{api.bot_api_url}{TOKEN}/getUpdates?timeout=3"
    async with AiohttpRequest() as request:
        with pytest.raises(TimedOut):
            await request.post(url, read_timeout=0.2)
    # The instance's default applies when a call passes none (BaseRequest.DEFAULT_NONE).
    async with AiohttpRequest(read_timeout=0.2) as request:
        with pytest.raises(TimedOut):
            await request.post(url)


async def test_connection_refused_becomes_network_error(api: LocalBotApi) -> None:
    url = api.bot_api_url
    await api.stop()
    async with AiohttpRequest(connect_timeout=1) as request:
        bot = Bot(TOKEN, base_url=url, request=request)
        with pytest.raises(NetworkError) as caught:
            await bot.get_me()
    assert not isinstance(caught.value, TimedOut)


async def test_send_document_upload_and_download(api: LocalBotApi) -> None:
    payload = b"%PDF-1.4 surat keterangan\x00\xff" * 100
    async with make_bot(api) as bot:
        sent = await bot.send_document(
            CITIZEN, document=payload, filename="surat ktp.pdf", caption="Surat Anda"
        )
        assert sent.document is not None
        downloaded = await (await bot.get_file(sent.document.file_id)).download_as_bytearray()
    (stored,) = api.messages(CITIZEN)
    assert stored.caption == "Surat Anda"
    assert stored.extra["document"]["file_name"] == "surat ktp.pdf"
    assert bytes(downloaded) == payload


async def test_lifecycle() -> None:
    request = AiohttpRequest()
    await request.initialize()
    await request.shutdown()
    await request.shutdown()  # idempotent
    with pytest.raises(RuntimeError, match="shut down"):
        await request.do_request("http://127.0.0.1:9/botx/getMe", "POST")
    await request.initialize()  # usable again
    await request.shutdown()


def test_timeouts_map_onto_aiohttp() -> None:
    request = AiohttpRequest(read_timeout=5, write_timeout=4, connect_timeout=3, pool_timeout=1)
    assert request.read_timeout == 5
    timeout = AiohttpRequest._timeout(5, 4, 3, 1)
    assert (timeout.sock_read, timeout.sock_connect, timeout.connect, timeout.total) == (
        5,
        3,
        4,
        13,
    )
    unbounded = AiohttpRequest._timeout(None, 4, 3, None)
    assert (unbounded.sock_read, unbounded.connect, unbounded.total) == (None, None, None)


def test_build_application_defaults_to_aiohttp() -> None:
    nothing: Any = None  # the front desk and translator are only used by the handlers
    settings = ChannelSettings(token=TOKEN, base_url="http://127.0.0.1:9/bot")
    application = build_application(nothing, nothing, settings)
    # Every call goes through the pacing wrapper (bot/telegram/outbox.py), around aiohttp.
    assert isinstance(application.bot.request, PacedRequest)
    assert isinstance(application.bot.request.inner, AiohttpRequest)
    # Bot keeps (get_updates_request, request); PTB exposes only the latter publicly.
    assert isinstance(application.bot._request[0], AiohttpRequest)
    explicit = HTTPXRequest()
    application = build_application(nothing, nothing, settings, request=explicit)
    assert isinstance(application.bot.request, PacedRequest)
    assert application.bot.request.inner is explicit
