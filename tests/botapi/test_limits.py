"""Flood control with an injected clock: 429s, retry_after, Retry-After header, stats."""

from __future__ import annotations

from datetime import timedelta

import aiohttp
import pytest
from telegram import Bot
from telegram.error import RetryAfter

from bot.botapi import BotApiLimits, LocalBotApi, ManualClock
from tests.botapi.conftest import CITIZEN, TOKEN


@pytest.fixture(autouse=True)
def _timedelta_retry_after(monkeypatch: pytest.MonkeyPatch) -> None:
    """PTB 22.8's RetryAfter.__init__ itself emits a PTBDeprecationWarning unless
    PTB_TIMEDELTA is set; with warnings as errors every 429 would fail otherwise."""
    monkeypatch.setenv("PTB_TIMEDELTA", "1")


@pytest.fixture
def limits() -> BotApiLimits:
    return BotApiLimits(per_chat_burst=1)


async def test_second_message_within_a_second_is_refused(
    api: LocalBotApi, bot: Bot, clock: ManualClock
) -> None:
    await bot.send_message(CITIZEN, "satu")
    with pytest.raises(RetryAfter) as info:
        await bot.send_message(CITIZEN, "dua")
    assert info.value.retry_after == timedelta(seconds=1)
    assert api.errors[-1].parameters == {"retry_after": 1}
    assert api.errors[-1].description == "Too Many Requests: retry after 1"
    clock.advance(1.0)
    await bot.send_message(CITIZEN, "dua")
    assert api.stats.delivered[CITIZEN] == 2
    assert api.stats.rate_limited == 1
    assert api.stats.rate_limited_by_chat[CITIZEN] == 1


async def test_429_shape_and_header(api: LocalBotApi, http: aiohttp.ClientSession) -> None:
    url = f"{api.base_url}/bot{TOKEN}/sendMessage"
    data = {"chat_id": str(CITIZEN), "text": "x"}
    async with http.post(url, data=data) as response:
        assert response.status == 200
    async with http.post(url, data=data) as response:
        assert response.status == 429
        assert response.headers["Retry-After"] == "1"
        assert await response.json() == {
            "ok": False,
            "error_code": 429,
            "description": "Too Many Requests: retry after 1",
            "parameters": {"retry_after": 1},
        }


async def test_group_limit_is_20_per_minute(
    api: LocalBotApi, bot: Bot, clock: ManualClock
) -> None:
    api.add_group(-100555, "Warga RT 3")
    for i in range(20):
        await bot.send_message(-100555, str(i))
    with pytest.raises(RetryAfter) as info:
        await bot.send_message(-100555, "21")
    assert info.value.retry_after == timedelta(seconds=3)  # a slot refills every 60/20 s
    clock.advance(3)
    await bot.send_message(-100555, "21")


async def test_global_limit_30_per_second_and_paid_broadcast(
    api: LocalBotApi, bot: Bot, clock: ManualClock
) -> None:
    for user_id in range(5000, 5031):
        api.add_user(user_id, f"Warga {user_id}")
    for user_id in range(5000, 5030):
        await bot.send_message(user_id, "pengumuman")
    with pytest.raises(RetryAfter):
        await bot.send_message(5030, "pengumuman")
    await bot.send_message(5030, "pengumuman", allow_paid_broadcast=True)
    assert api.stats.total_delivered == 31
    assert api.stats.rate_limited == 1
    clock.advance(1)
    api.add_user(5031, "Lagi")
    await bot.send_message(5031, "pengumuman")


async def test_default_burst_allows_three_messages() -> None:
    clock = ManualClock()
    server = LocalBotApi(BotApiLimits(), clock=clock)
    server.add_user(CITIZEN, "Warga")
    await server.start()
    try:
        async with Bot(TOKEN, base_url=server.bot_api_url) as client:
            for i in range(3):
                await client.send_message(CITIZEN, str(i))
            with pytest.raises(RetryAfter):
                await client.send_message(CITIZEN, "keempat")
            # Edits are not flood-controlled here.
            await client.edit_message_text("diubah", chat_id=CITIZEN, message_id=1)
    finally:
        await server.stop()
