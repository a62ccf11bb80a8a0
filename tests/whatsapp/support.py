"""Loket's WhatsApp adapter against the local Cloud API stand-in, over HTTP both ways.

A citizen's message is posted by the stand-in to Loket's webhook, signed as Meta signs it;
Loket records it, answers 200, handles it and sends its replies to the stand-in's Graph API,
which checks every one against WhatsApp's limits. ``settle`` waits, without sleeping, until
both sides have nothing in flight (webhooks posted, messages handled, statuses recorded).
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Callable
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass, field

from aiohttp import web

from bot.app import Loket
from bot.whatsapp.channel import WhatsAppSettings
from bot.whatsapp.service import WEBHOOK_PATH, WhatsAppService
from bot.whatsapp.standin import (
    ACCESS_TOKEN,
    APP_SECRET,
    PHONE_NUMBER_ID,
    VERIFY_TOKEN,
    CloudApiStandIn,
    Sent,
    StandInLimits,
)
from tests.support.app import FakeClock, running_loket


@dataclass
class Worker:
    """One Loket process's WhatsApp side: its web server and service."""

    service: WhatsAppService
    url: str
    runner: web.AppRunner


@dataclass
class WaDesk:
    loket: Loket
    api: CloudApiStandIn
    clock: FakeClock
    workers: list[Worker] = field(default_factory=list)

    @property
    def service(self) -> WhatsAppService:
        return self.workers[0].service

    async def settle(self) -> None:
        while True:
            await self.api.idle()
            for worker in self.workers:
                await worker.service.idle()
            if not self.api._tasks and not any(
                w.service.webhook._tasks or w.service.inbox.busy for w in self.workers
            ):
                return

    def citizen(self, wa_id: str | None, *, user_id: str | None = None) -> WaCitizen:
        return WaCitizen(self, wa_id, user_id)


@dataclass
class WaCitizen:
    desk: WaDesk
    wa_id: str | None
    user_id: str | None = None

    @property
    def address(self) -> str:
        return self.wa_id or self.user_id or ""

    def inbox(self) -> list[Sent]:
        return self.desk.api.to(self.address)

    async def send(self, text: str, **kwargs: object) -> list[Sent]:
        before = len(self.inbox())
        status = await self.desk.api.send_text(self.wa_id, text, user_id=self.user_id, **kwargs)
        assert status == 200
        await self.desk.settle()
        return self.inbox()[before:]

    def last(self) -> Sent:
        return self.inbox()[-1]

    def option(self, title: str) -> tuple[str, str]:
        for sent in reversed(self.inbox()):
            for option in sent.options:
                if option[0] == title:
                    return option
        raise AssertionError(f"no option {title!r} in {[s.options for s in self.inbox()]}")

    async def choose(self, title: str) -> list[Sent]:
        option = self.option(title)
        before = len(self.inbox())
        assert await self.desk.api.press(self.wa_id, option, user_id=self.user_id) == 200
        await self.desk.settle()
        return self.inbox()[before:]


def wa_settings(base_url: str) -> WhatsAppSettings:
    return WhatsAppSettings(
        phone_number_id=PHONE_NUMBER_ID,
        access_token=ACCESS_TOKEN,
        app_secret=APP_SECRET,
        verify_token=VERIFY_TOKEN,
        api_base_url=base_url,
    )


async def start_worker(loket: Loket, api: CloudApiStandIn) -> Worker:
    service = WhatsAppService.for_loket(loket, wa_settings(api.base_url))
    app = web.Application()
    service.add_routes(app)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    return Worker(service, f"http://127.0.0.1:{port}{WEBHOOK_PATH}", runner)


@asynccontextmanager
async def wa_desk(
    database_url: str,
    *,
    workers: int = 1,
    rate: StandInLimits | None = None,
    monotonic: Callable[[], float] = time.monotonic,
) -> AsyncIterator[WaDesk]:
    """``monotonic``: the stand-in's clock for its rate limits (a test's manual clock)."""
    clock = FakeClock()
    async with AsyncExitStack() as stack:
        lokets = [
            await stack.enter_async_context(running_loket(database_url, clock=clock))
            for _ in range(workers)
        ]
        api = CloudApiStandIn(
            clock=clock, rate=rate or StandInLimits.unlimited(), monotonic=monotonic
        )
        await api.start()
        stack.push_async_callback(api.stop)
        desk = WaDesk(lokets[0], api, clock)
        for loket in lokets:
            worker = await start_worker(loket, api)
            stack.push_async_callback(worker.runner.cleanup)
            await stack.enter_async_context(worker.service.running())
            desk.workers.append(worker)
        api.webhook_url = desk.workers[0].url
        yield desk
        await desk.settle()
        assert api.refusals == [], api.refusals
