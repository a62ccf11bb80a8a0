"""``loket run``: serves Telegram with a token, or the local mode without one.

The local mode is what a newcomer sees first: the project's own Bot API server with a web chat
on 127.0.0.1, the agencies' sandbox, and the very same python-telegram-bot code path that
serves Telegram in production.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from aiohttp import web
from telegram.ext import Application

from bot.app import Loket, open_loket
from bot.local import integration_env
from bot.settings import Settings
from bot.telegram.channel import ChannelSettings, build_application
from bot.telegram.webhook import WEBHOOK_PATH, WebhookReceiver

logger = logging.getLogger(__name__)
LOCAL_TOKEN = "100000:LOKET-LOCAL-MODE"
POLL_TIMEOUT = 25


def _channel_settings(settings: Settings, token: str, base_url: str | None, *, polling: bool) -> ChannelSettings:
    return ChannelSettings(
        token=token, base_url=base_url, callback_secret=settings.callback_secret,
        flood_messages=settings.flood_messages, flood_window_seconds=settings.flood_window_seconds,
        polling=polling,
    )


@asynccontextmanager
async def running_application(application: Application, *, polling: bool) -> AsyncIterator[Application]:  # type: ignore[type-arg]
    """Initialises, starts (and polls), then stops and shuts down in the right order."""
    async with application:
        await application.start()
        if polling and application.updater is not None:
            await application.updater.start_polling(timeout=POLL_TIMEOUT, drop_pending_updates=False)
        try:
            yield application
        finally:
            if polling and application.updater is not None and application.updater.running:
                await application.updater.stop()
            await application.stop()


async def _wait_for_stop() -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError):
            loop.add_signal_handler(sig, stop.set)
    await stop.wait()


async def _serve_web(app: web.Application, host: str, port: int) -> web.AppRunner:
    runner = web.AppRunner(app)
    await runner.setup()
    await web.TCPSite(runner, host, port).start()
    return runner


async def run_local(loket: Loket, settings: Settings, port: int) -> None:
    from bot.botapi import BotApiLimits, LocalBotApi

    api = LocalBotApi(BotApiLimits())
    api.add_bot(LOCAL_TOKEN, username="loket_mimika_bot", first_name="Loket Mimika")
    base = await api.start("127.0.0.1", port)
    try:
        application = build_application(
            loket.frontdesk, loket.translator,
            _channel_settings(settings, LOCAL_TOKEN, f"{base}/bot", polling=True),
        )
        async with running_application(application, polling=True):
            print(f"Loket berjalan (mode lokal). Buka {base}/ di peramban untuk chat dengan bot.")
            print(f"Loket is running (local mode). Open {base}/ in a browser to chat with the bot.")
            print("Tekan Ctrl+C untuk berhenti.", flush=True)
            await _wait_for_stop()
    finally:
        await api.stop()


async def run_telegram(loket: Loket, settings: Settings, port: int) -> None:
    token = settings.telegram_token or ""
    webhook = bool(settings.webhook_url)
    application = build_application(
        loket.frontdesk, loket.translator,
        _channel_settings(settings, token, settings.telegram_api_base_url, polling=not webhook),
    )
    async with running_application(application, polling=not webhook):
        runner = None
        if webhook:
            web_app = web.Application()
            WebhookReceiver(application, settings.webhook_secret or "").add_routes(web_app)
            runner = await _serve_web(web_app, settings.listen_host, port)
            await application.bot.set_webhook(
                url=settings.webhook_url or "", secret_token=settings.webhook_secret,
                allowed_updates=["message", "callback_query"],
            )
            print(f"Loket serving Telegram by webhook on {settings.listen_host}:{port}{WEBHOOK_PATH}", flush=True)
        else:
            print("Loket serving Telegram by long polling.", flush=True)
        try:
            await _wait_for_stop()
        finally:
            if runner is not None:
                await runner.cleanup()


async def run(settings: Settings, *, port: int | None = None) -> int:
    port = port or settings.listen_port
    if settings.webhook_url and not settings.webhook_secret:
        print("WEBHOOK_URL needs WEBHOOK_SECRET (see .env.example).")
        return 2
    async with integration_env(settings.env) as env, open_loket(settings, integration_env=env) as loket:
        if settings.telegram_token:
            await run_telegram(loket, settings, port)
        else:
            await run_local(loket, settings, port)
    return 0
