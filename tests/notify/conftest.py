"""Fixtures: a real Loket (on SQLite and on PostgreSQL: tests/support/database.py) with the
sandbox agencies, the push hook served on a loopback port, and a fake channel that records
what would have been sent."""

from __future__ import annotations

import asyncio
import json
from collections import deque
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from typing import Any

import aiohttp
import pytest
from aiohttp import web
from sqlalchemy import func, select

from bot.app import Loket, open_loket
from bot.engine.messages import Outbound
from bot.local import integration_env
from bot.notify.delivery import DeliveryResult
from bot.notify.service import Notifications, build_notifications
from bot.storage.models import FollowedApplication, StatusNotification
from integrations.push import SIGNATURE_HEADER, sign
from integrations.sandbox import SANDBOX_TOKEN
from tests.support.app import FakeClock, settings_for
from tests.support.conversation import Conversation

SECRET = "disdukcapil-hook-secret"
CHANNEL = "test"
RECEIVED = "9404-2026-000101"  # seeded: received
IN_PROCESS = "9404-2026-000102"  # seeded: in_process
AK1_IN_PROCESS = "AK1-2026-000201"  # seeded: in_process


class FakeDeliver:
    """A channel that records every message; answers from ``results``, else delivered."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, str, Outbound]] = []
        self.results: deque[DeliveryResult] = deque()
        self.called = asyncio.Event()

    async def __call__(self, channel: str, external_id: str, message: Outbound) -> DeliveryResult:
        self.calls.append((channel, external_id, message))
        self.called.set()
        return self.results.popleft() if self.results else DeliveryResult.DELIVERED

    @property
    def texts(self) -> list[str]:
        return [message.text for _c, _u, message in self.calls]


class Hook:
    """The push hook on a real loopback port, and an OPD that calls it."""

    def __init__(self, http: aiohttp.ClientSession, base: str) -> None:
        self.http = http
        self.base = base

    async def push(
        self,
        body: dict[str, Any] | bytes,
        *,
        opd: str = "disdukcapil",
        secret: str | None = SECRET,
        signature: str | None = None,
    ) -> tuple[int, Any]:
        raw = body if isinstance(body, bytes) else json.dumps(body).encode()
        headers = {"Content-Type": "application/json"}
        if signature is not None:
            headers[SIGNATURE_HEADER] = signature
        elif secret is not None:
            headers[SIGNATURE_HEADER] = sign(secret, raw)
        async with self.http.post(
            f"{self.base}/hooks/{opd}", data=raw, headers=headers
        ) as response:
            text = await response.text()
            return response.status, (json.loads(text) if text else None)


class World:
    """Agencies (sandbox), the database file and the clock outlive any one Loket: a restart
    opens a new Loket (and new notifications) on the same file."""

    def __init__(
        self, database_url: str, agencies: dict[str, str], http: aiohttp.ClientSession
    ) -> None:
        self.db = database_url  # SQLite or PostgreSQL: the database_url fixture
        self.agencies = agencies
        self.http = http
        self.clock = FakeClock()
        self.deliver = FakeDeliver()

    @asynccontextmanager
    async def running(self, **env: str) -> AsyncIterator[tuple[Loket, Notifications, Hook]]:
        """Loket + notifications (not started) + the hook served on a free port."""
        async with AsyncExitStack() as stack:
            loket = await stack.enter_async_context(
                open_loket(
                    settings_for(self.db),
                    clock=self.clock,
                    integration_env={**self.agencies, **env},
                )
            )
            notifications = build_notifications(loket, {CHANNEL: self.deliver}, pace=0)
            app = web.Application()
            notifications.add_routes(app)
            runner = web.AppRunner(app, access_log=None)
            await runner.setup()
            stack.push_async_callback(runner.cleanup)
            site = web.TCPSite(runner, "127.0.0.1", 0)
            await site.start()
            port = runner.addresses[0][1]
            yield loket, notifications, Hook(self.http, f"http://127.0.0.1:{port}")

    async def set_status(self, opd: str, number: str, **body: Any) -> None:
        """Changes a record in the sandbox (its admin route), as the agency's staff would:
        at the test's "now" unless the test says when (not the machine's calendar)."""
        kind = "applications" if opd == "disdukcapil" else "ak1"
        if kind == "applications":
            body.setdefault("updated_at", self.clock().isoformat(timespec="seconds"))
        url = f"{self.agencies[f'{opd.upper()}_API_URL']}/_admin/{kind}/{number}"
        headers = {"Authorization": f"Bearer {SANDBOX_TOKEN}"}
        async with self.http.post(url, json=body, headers=headers) as response:
            assert response.status == 200, await response.text()


@pytest.fixture
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as session:
        yield session


@pytest.fixture
async def agencies() -> AsyncIterator[dict[str, str]]:
    """The sandbox on a free port; Disdukcapil pushes (has a hook secret), Disnakertrans not."""
    async with integration_env({}) as env:
        yield {**env, "DISDUKCAPIL_HOOK_SECRET": SECRET}


@pytest.fixture
def world(database_url: str, agencies: dict[str, str], http: aiohttp.ClientSession) -> World:
    return World(database_url, agencies, http)


async def follow(
    loket: Loket, number: str = RECEIVED, *, user: str | None = None, locale: str | None = None
) -> Conversation:
    """A citizen checks the status through the real flow and asks to be told of changes."""
    chat = Conversation(loket, user, channel=CHANNEL, locale=locale)
    english = locale == "en"
    await chat.send("menu")
    if number.startswith("AK1"):
        await chat.click("Employment" if english else "Tenaga Kerja")
        await chat.click("Check job-seeker card" if english else "Cek kartu kuning")
    else:
        await chat.click("Population (Disdukcapil)" if english else "Kependudukan (Disdukcapil)")
        await chat.click("Check application" if english else "Cek status permohonan")
    await chat.send(number)
    await chat.click(
        "Tell me when the status changes" if english else "Beri tahu saya bila status berubah"
    )
    chat.assert_sane()
    return chat


def push_body(
    number: str = RECEIVED,
    status: str = "ready_for_pickup",
    updated_at: str = "2026-12-02T09:00:00+09:00",
    note: str | None = None,
) -> dict[str, Any]:
    return {"number": number, "status": status, "updated_at": updated_at, "note": note}


async def count(loket: Loket, model: Any, *where: Any) -> int:
    async with loket.sessions() as session:
        return await session.scalar(select(func.count()).select_from(model).where(*where)) or 0


async def follows(loket: Loket) -> list[FollowedApplication]:
    async with loket.sessions() as session:
        return list(
            await session.scalars(select(FollowedApplication).order_by(FollowedApplication.id))
        )


async def outbox(loket: Loket) -> list[StatusNotification]:
    async with loket.sessions() as session:
        return list(
            await session.scalars(select(StatusNotification).order_by(StatusNotification.id))
        )
