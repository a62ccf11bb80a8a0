"""Fixtures: a started LocalBotApi and PTB clients pointed at it over loopback HTTP."""

from __future__ import annotations

from collections.abc import AsyncIterator

import aiohttp
import pytest
from telegram import Bot

from bot.botapi import BotApiLimits, LocalBotApi, ManualClock

TOKEN = "123456:LOCAL"
CITIZEN = 1000


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock()


@pytest.fixture
def limits() -> BotApiLimits:
    """Flood control off unless a test asks for it."""
    return BotApiLimits.unlimited()


@pytest.fixture
async def api(limits: BotApiLimits, clock: ManualClock) -> AsyncIterator[LocalBotApi]:
    server = LocalBotApi(limits, clock=clock)
    server.add_user(CITIZEN, "Warga", username="warga")
    await server.start()
    try:
        yield server
    finally:
        await server.stop()


def make_bot(api: LocalBotApi, token: str = TOKEN) -> Bot:
    return Bot(token, base_url=api.bot_api_url, base_file_url=api.file_url)


@pytest.fixture
async def bot(api: LocalBotApi) -> AsyncIterator[Bot]:
    async with make_bot(api) as client:
        yield client


@pytest.fixture
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as session:
        yield session
