"""Loket with its admin console, on the local Bot API, for the console tests.

``ConsoleDesk`` is the Telegram tests' ``Desk`` (real PTB Application over HTTP against
``LocalBotApi``) with the console wired as ``loket run`` wires it: the same FlowVersions and
sign-in store behind /admin, /versi, /kembalikan, .yaml uploads and the web pages, served on
its own 127.0.0.1 port.
"""

from __future__ import annotations

import re
from contextlib import AsyncExitStack
from typing import Any

from aiohttp import web
from telegram.request import BaseRequest

from bot.app import Loket, open_loket
from bot.broadcast.pacer import Pacer
from bot.broadcast.runtime import TelegramBroadcasts
from bot.console.service import ConsoleService
from bot.runner import running_application
from bot.telegram.channel import build_application
from tests.support.app import FakeClock
from tests.telegram.support import (
    TOKEN,
    Citizen,
    Desk,
    Reply,
    UpdateTracker,
    mirror_server_limits,
)

ADMIN_ID = 9001
STAFF_ID = 9002
LINK = re.compile(r"http://\S+/masuk\?t=\S+")


class ConsoleDesk(Desk):
    """The Telegram desk with the web console on its own port. ``clock``: a fake clock for
    Loket and the console both (review and due dates, queue days, waiting times)."""

    console: ConsoleService | None = None
    clock: FakeClock | None = None

    async def open_loket(self) -> Loket:
        if self.clock is None:
            return await super().open_loket()
        assert self._stack is None
        self._stack = AsyncExitStack()
        self.loket = await self._stack.enter_async_context(
            open_loket(self.settings, integration_env=self.integration_env, clock=self.clock)
        )
        return self.loket

    async def start(self, *, request: BaseRequest | None = None, polling: bool = True) -> None:
        loket = await self.open_loket()
        assert self._stack is not None
        console = ConsoleService.for_loket(loket)
        web_app = web.Application()
        console.mount(web_app)
        runner = web.AppRunner(web_app, access_log=None)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        self._stack.push_async_callback(runner.cleanup)
        server: Any = site._server
        port = server.sockets[0].getsockname()[1]
        console.set_origin(f"http://127.0.0.1:{port}")
        if self.clock is not None:
            console.console.clock = self.clock
        self.console = console
        broadcasts = None
        pacer = None
        if self.broadcast_options is not None:  # announcements sent, as in `loket run`
            options = {"rate": 30.0, **self.broadcast_options}
            broadcasts = TelegramBroadcasts(loket, TOKEN, base_url=self.api.bot_api_url, **options)
            console.console.wake_broadcasts = broadcasts.service.wake
            pacer = broadcasts.pacer
        elif not self.api.limits.rate_limits_enabled:
            pacer = Pacer()
        if pacer is not None:
            mirror_server_limits(pacer, self.api.limits)
        application = build_application(
            loket.frontdesk,
            loket.translator,
            self.channel_settings(polling=polling),
            request=request,
            staff=loket.staff,
            flow_commands=console.commands,
            composer=broadcasts.composer if broadcasts is not None else None,
            pacer=pacer,
        )
        self.tracker = UpdateTracker(application)
        self.application = application
        await self._stack.enter_async_context(running_application(application, polling=polling))
        if broadcasts is not None:
            await self._stack.enter_async_context(broadcasts.running(application.bot))
            self.broadcasts = broadcasts

    @property
    def url(self) -> str:
        assert self.console is not None
        return self.console.url()


async def sign_in_link(person: Citizen) -> str:
    """Sends /admin as ``person`` and returns the link the bot answered with."""
    reply = await person.send("/admin")
    found = LINK.search(reply.text)
    assert found is not None, reply.text
    return found.group(0)


async def send_document(person: Citizen, data: bytes, file_name: str) -> Reply:
    """``person`` sends a file (as an admin uploads a flow) and waits for the answer."""
    api = person.desk.api
    return await person._exchange(
        lambda: person._queued(
            api.send_document(person.user_id, data, file_name, mime_type="application/x-yaml")
        )
    )
