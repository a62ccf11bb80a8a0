"""``loket run``: serves Telegram with a token, or the local mode without one.

The local mode is what a newcomer sees first: the project's own Bot API server with a web chat
on 127.0.0.1, the agencies' sandbox, and the very same python-telegram-bot code path that
serves Telegram in production.
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import logging
import signal
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from aiohttp import web
from telegram.ext import Application

from bot.app import Loket, open_loket
from bot.booking.reminders import build_reminders
from bot.broadcast.runtime import TelegramBroadcasts
from bot.console.inbox import telegram_files
from bot.console.service import ConsoleService
from bot.handoff.service import running_replies
from bot.handoff.watch import running_watch
from bot.local import integration_env, unconnected_opds
from bot.notify.service import build_notifications
from bot.observability.service import Observability
from bot.retention import RetentionJob
from bot.settings import Settings
from bot.telegram.channel import ALLOWED_UPDATES, CHANNEL, ChannelSettings, build_application
from bot.telegram.notify import TelegramDeliver
from bot.telegram.webhook import WEBHOOK_PATH, WebhookReceiver
from bot.whatsapp.channel import CHANNEL as WA_CHANNEL
from bot.whatsapp.channel import WhatsAppSettings
from bot.whatsapp.local import LOCAL_SETTINGS as LOCAL_WHATSAPP
from bot.whatsapp.local import LocalWhatsApp, WhatsAppSide
from bot.whatsapp.webhook import WEBHOOK_PATH as WA_WEBHOOK
from bot.workers.runtime import running_workers

logger = logging.getLogger(__name__)
LOCAL_TOKEN = "100000:LOKET-LOCAL-MODE"  # noqa: S105 - the local server's fixed token
POLL_TIMEOUT = 25


def _channel_settings(
    settings: Settings, token: str, base_url: str | None, *, polling: bool
) -> ChannelSettings:
    return ChannelSettings(
        token=token,
        base_url=base_url,
        callback_secret=settings.callback_secret,
        flood_messages=settings.flood_messages,
        flood_window_seconds=settings.flood_window_seconds,
        polling=polling,
    )


@asynccontextmanager
async def running_application(
    application: Application,  # type: ignore[type-arg]
    *,
    polling: bool,
) -> AsyncIterator[Application]:  # type: ignore[type-arg]
    """Initialises, starts (and polls), then stops and shuts down in the right order.

    The same steps as PTB's ``run_polling``, which owns the event loop and so cannot be used
    here; that includes the ``post_init``/``post_stop``/``post_shutdown`` hooks, which PTB
    calls only from ``run_polling``/``run_webhook`` (``post_init`` registers the commands).
    """
    async with application:
        if application.post_init is not None:
            await application.post_init(application)
        updater = application.updater if polling else None
        try:
            if updater is not None:
                await updater.start_polling(
                    timeout=POLL_TIMEOUT,
                    drop_pending_updates=False,
                    allowed_updates=list(ALLOWED_UPDATES),
                )
            await application.start()
            yield application
        finally:
            if updater is not None and updater.running:
                await updater.stop()
            if application.running:
                await application.stop()
                if application.post_stop is not None:
                    await application.post_stop(application)
    if application.post_shutdown is not None:
        await application.post_shutdown(application)


def _telegram_side(
    loket: Loket,
    settings: Settings,
    channel: ChannelSettings,
    console: ConsoleService,
    observability: Observability,
    *,
    shared_with: tuple[str, ...] = (),
) -> tuple[Application, TelegramBroadcasts]:  # type: ignore[type-arg]
    """The PTB Application with every handler, and the announcements it sends: the same in
    the local mode and on Telegram, only the channel settings differ."""
    # Announcements (/umumkan): their own Bot connection pool, paced to the limit.
    broadcasts = TelegramBroadcasts(
        loket,
        channel.token,
        base_url=channel.base_url,
        rate=settings.broadcast_rate,
        paid=settings.broadcast_paid,
        shared_with=shared_with,  # WhatsApp's subscribers through the same queue (issue 16)
    )
    console.console.wake_broadcasts = broadcasts.service.wake  # queued from the console
    application = build_application(
        loket.frontdesk,
        loket.translator,
        channel,
        staff=loket.staff,
        composer=broadcasts.composer,
        # One pacer for every message of the bot: replies and staff notices take its
        # interactive lane, ahead of the announcements (issue 12, items 4 and 5).
        pacer=broadcasts.pacer,
        observer=observability.updates,  # one log line + metrics per update (issue 7)
        flow_commands=console.commands,  # /admin, /versi, /kembalikan, uploads (issue 6)
    )
    # Citizens' photos and documents in tickets, shown to officers in the inbox (issue 15).
    console.console.fetch_file = telegram_files(application.bot)
    return application, broadcasts


async def _wait_for_stop() -> None:
    """Returns on the first SIGINT/SIGTERM; a second one during shutdown interrupts it."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    installed = []
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError):
            loop.add_signal_handler(sig, stop.set)
            installed.append(sig)
    try:
        await stop.wait()
    finally:
        for sig in installed:
            loop.remove_signal_handler(sig)


class PortBusy(Exception):
    """The HTTP port is taken by another program: ``loket`` says so in one line (bot/cli.py)
    instead of ending with an OSError traceback a newcomer cannot read."""

    def __init__(self, host: str, port: int) -> None:
        self.host, self.port = host, port
        super().__init__(
            f"port {host}:{port} sudah dipakai program lain; pilih port lain dengan LOKET_PORT "
            f"(mis. LOKET_PORT={port + 1 if port < 65535 else 8081}) / port {host}:{port} is "
            "already in use; "
            "set LOKET_PORT to choose another"
        )


@asynccontextmanager
async def _port_checked(host: str, port: int) -> AsyncIterator[None]:
    """Turns the bind error of ``host:port`` into PortBusy (any OSError but a busy port, such
    as an address this machine does not have, stays as it is)."""
    try:
        yield
    except OSError as error:
        if error.errno != errno.EADDRINUSE and "address already in use" not in str(error):
            raise
        raise PortBusy(host, port) from None


async def _serve_web(app: web.Application, host: str, port: int) -> web.AppRunner:
    runner = web.AppRunner(app)
    await runner.setup()
    try:
        async with _port_checked(host, port):
            await web.TCPSite(runner, host, port).start()
    except PortBusy:
        await runner.cleanup()
        raise
    return runner


async def run_local(
    loket: Loket, settings: Settings, port: int, observability: Observability | None = None
) -> None:
    from bot.botapi import BotApiLimits, LocalBotApi

    # The web chat talks as a citizen to the server's default bot, so Loket must be that bot.
    # Telegram's real flood limits stay on: the local mode should behave like production.
    api = LocalBotApi(
        BotApiLimits(), token=LOCAL_TOKEN, username="loket_mimika_bot", first_name="Loket Mimika"
    )
    # Status notifications; OPD pushes (POST /hooks/{opd}) are served on the same port.
    notifications = build_notifications(loket, {})
    notifications.add_routes(api.app)
    # Observability (issue 7): GET /healthz and GET /metrics next to the web chat.
    observability = observability or Observability.for_loket(loket)
    observability.add_routes(api.app)
    # The admin console (issue 6) at /konsol on the same port; sign in by sending /admin.
    console = ConsoleService.for_loket(loket, public_url=settings.console_base_url)
    console.mount(api.app)
    # WhatsApp (issue 16): the Cloud API stand-in, its web chat page at /wa/ and Loket's
    # webhook, all on this port (bot/whatsapp/local.py).
    local_wa = LocalWhatsApp(api.app)
    whatsapp = WhatsAppSide(loket, LOCAL_WHATSAPP, api.app)
    try:
        async with _port_checked("127.0.0.1", port):
            base = await api.start("127.0.0.1", port)
    except PortBusy:
        await api.stop()
        raise
    console.set_origin(base)
    try:
        wa_page = await local_wa.attach(base, whatsapp)
        channel = _channel_settings(settings, LOCAL_TOKEN, api.bot_api_url, polling=True)
        application, broadcasts = _telegram_side(
            loket, settings, channel, console, observability, shared_with=(WA_CHANNEL,)
        )
        deliver = TelegramDeliver.for_channel(application.bot, channel)
        notifications.delivery.add_channel(CHANNEL, deliver)
        whatsapp.join(
            notifications, broadcasts.service, broadcasts.progress, rate=settings.whatsapp_rate
        )
        reminders = build_reminders(loket, {CHANNEL: deliver})  # queue numbers (issue 18)
        async with (
            running_application(application, polling=True),
            notifications.running(),
            reminders.running(),
            broadcasts.running(application.bot),
            whatsapp.running(),
            # Officers' replies from the inbox (issue 15), delivered once each.
            running_replies(
                loket, {CHANNEL: TelegramDeliver.for_channel(application.bot, channel)}
            ),
            # A notice to on-duty staff when a ticket waits past its SLA (issue 15).
            running_watch(
                loket,
                {CHANNEL: TelegramDeliver.for_channel(application.bot, channel)},
                console.url,
            ),
        ):
            print(f"Loket berjalan (mode lokal). Buka {base}/ di peramban untuk chat dengan bot.")
            print(
                f"Loket is running (local mode). Open {base}/ in a browser to chat with the bot."
            )
            print(f"WhatsApp (uji coba lokal / local trial): {wa_page}")
            print(f"Konsol admin: {console.url()}/ (kirim /admin ke bot untuk tautan masuk).")
            print("Tekan Ctrl+C untuk berhenti.", flush=True)
            await _wait_for_stop()
    finally:
        await local_wa.stop()
        await api.stop()


async def run_telegram(
    loket: Loket, settings: Settings, port: int, observability: Observability | None = None
) -> None:
    wa_settings = WhatsAppSettings.from_settings(settings)
    token = settings.telegram_token or ""
    observability = observability or Observability.for_loket(loket)  # issue 7
    webhook = bool(settings.webhook_url)
    channel = _channel_settings(
        settings, token, settings.telegram_api_base_url, polling=not webhook
    )
    # The admin console (issue 6) at /konsol on the listen_host web server below.
    console = ConsoleService.for_loket(loket, public_url=settings.console_base_url)
    console.set_origin(f"http://{settings.listen_host}:{port}")
    application, broadcasts = _telegram_side(
        loket,
        settings,
        channel,
        console,
        observability,
        shared_with=(WA_CHANNEL,) if wa_settings is not None else (),
    )
    deliver = TelegramDeliver.for_channel(application.bot, channel)
    notifications = build_notifications(loket, {CHANNEL: deliver})
    # Queue-number reminders (issue 18): each worker runs the loop; a claim sends each once.
    reminders = build_reminders(loket, {CHANNEL: deliver})
    # WhatsApp (issue 16): its webhook on the same web server, its citizens notified and
    # reached by the same announcements (refused at start without an app secret: run()).
    web_app = web.Application()
    whatsapp = None
    if wa_settings is not None:
        whatsapp = WhatsAppSide(loket, wa_settings, web_app)
        whatsapp.join(
            notifications, broadcasts.service, broadcasts.progress, rate=settings.whatsapp_rate
        )
    receiver = WebhookReceiver(application, settings.webhook_secret or "") if webhook else None
    async with (
        # Several workers on PostgreSQL (issue 7, bot/workers): registered before the
        # broadcast loop starts, so that it never takes a live worker's rows for dead ones.
        running_workers(
            loket.database,
            broadcasts,
            settings.broadcast_rate,
            receiver,
            env=settings.env,
        ),
        running_application(application, polling=not webhook),
        notifications.running(),
        reminders.running(),
        broadcasts.running(application.bot),
        whatsapp.running() if whatsapp is not None else contextlib.nullcontext(),
        # Officers' replies from the inbox (issue 15): each claimed by one worker, sent once.
        running_replies(loket, {CHANNEL: TelegramDeliver.for_channel(application.bot, channel)}),
        # A notice to on-duty staff when a ticket waits past its SLA (issue 15).
        running_watch(
            loket, {CHANNEL: TelegramDeliver.for_channel(application.bot, channel)}, console.url
        ),
    ):
        runner = None
        if receiver is not None:
            receiver.add_routes(web_app)
            notifications.add_routes(web_app)  # OPD status pushes: POST /hooks/{opd}
            observability.add_routes(web_app)  # GET /healthz, GET /metrics (issue 7)
            console.mount(web_app)  # the admin console at /konsol (issue 6)
            runner = await _serve_web(web_app, settings.listen_host, port)
            await application.bot.set_webhook(
                url=settings.webhook_url or "",
                secret_token=settings.webhook_secret,
                allowed_updates=list(ALLOWED_UPDATES),
            )
            print(
                "Loket serving Telegram by webhook on "
                f"{settings.listen_host}:{port}{WEBHOOK_PATH}",
                flush=True,
            )
        else:
            print("Loket serving Telegram by long polling.", flush=True)
            # The HTTP port serves /healthz and /metrics (issue 7), and the status pushes of
            # an OPD that pushes changes.
            notifications.add_routes(web_app)
            observability.add_routes(web_app)
            console.mount(web_app)  # the admin console at /konsol (issue 6)
            runner = await _serve_web(web_app, settings.listen_host, port)
            print(f"Health and metrics on {settings.listen_host}:{port}/healthz", flush=True)
            if notifications.hook.opds:
                print(f"Status pushes on {settings.listen_host}:{port}/hooks/{{opd}}", flush=True)
        if whatsapp is not None:
            print(f"WhatsApp webhook on {settings.listen_host}:{port}{WA_WEBHOOK}", flush=True)
        try:
            await _wait_for_stop()
        finally:
            if runner is not None:
                await runner.cleanup()
            if receiver is not None:  # updates taken from the inbox finish while PTB runs
                await receiver.idle()


async def run(settings: Settings, *, port: int | None = None) -> int:
    port = settings.listen_port if port is None else port  # --port 0 picks a free port
    if settings.webhook_url and not settings.webhook_secret:
        print("WEBHOOK_URL needs WEBHOOK_SECRET (see .env.example).")
        return 2
    wa_settings = WhatsAppSettings.from_settings(settings)
    if wa_settings is not None and wa_settings.problems():  # fail closed (issue 16)
        print(
            "WhatsApp is configured but cannot be served safely: "
            + "; ".join(wa_settings.problems())
            + " (docs/whatsapp.md)."
        )
        return 2
    telegram = bool(settings.telegram_token)
    async with (
        # The sandbox only in the local mode (issue 14): its data are invented.
        integration_env(settings.env, telegram=telegram) as env,
        open_loket(settings, integration_env=env) as loket,
        # The retention period (issue 7): at start, then daily (bot/retention.py).
        RetentionJob(loket.sessions, settings.retention_days, clock=loket.clock).running(),
    ):
        if telegram:
            missing = unconnected_opds(env)
            if missing:
                logger.warning(
                    "agencies not connected (no <OPD>_API_URL): %s; their status checks answer "
                    "that the bot cannot check them yet, with the office's contacts",
                    ", ".join(missing),
                )
            await run_telegram(loket, settings, port)
        else:
            await run_local(loket, settings, port)
    return 0
