"""getUpdates: long polling, offsets, limits, allowed_updates and conflicts."""

from __future__ import annotations

import asyncio

import aiohttp
import pytest
from telegram import Bot
from telegram.error import Conflict

from bot.botapi import LocalBotApi
from tests.botapi.conftest import CITIZEN, TOKEN


async def _until_polling(api: LocalBotApi, count: int = 1) -> None:
    """Wait until the server has seen ``count`` getUpdates calls start."""
    await api.wait_until(lambda: api.bot().poll_generation >= count)


async def test_long_poll_returns_as_soon_as_a_message_arrives(api: LocalBotApi, bot: Bot) -> None:
    loop = asyncio.get_running_loop()
    started = loop.time()
    poll = asyncio.create_task(bot.get_updates(timeout=30))
    await _until_polling(api)
    update = api.send_text(CITIZEN, "halo")
    updates = await asyncio.wait_for(poll, 10)
    assert loop.time() - started < 5  # far below the 30 s timeout
    assert [u.update_id for u in updates] == [update["update_id"]]
    assert updates[0].message.text == "halo"
    assert updates[0].message.from_user.first_name == "Warga"
    assert updates[0].message.chat.type == "private"


async def test_short_poll_with_nothing_pending_returns_empty(bot: Bot) -> None:
    assert await bot.get_updates(timeout=0) == ()


async def test_offset_confirms_updates(api: LocalBotApi, bot: Bot) -> None:
    first = api.send_text(CITIZEN, "satu")["update_id"]
    second = api.send_text(CITIZEN, "dua")["update_id"]
    assert second == first + 1
    assert [u.update_id for u in await bot.get_updates()] == [first, second]
    # Not confirmed yet: the same updates come again.
    assert [u.update_id for u in await bot.get_updates()] == [first, second]
    assert [u.update_id for u in await bot.get_updates(offset=second)] == [second]
    assert await bot.get_updates(offset=second + 1) == ()
    assert api.bot().queue == []


async def test_negative_offset_and_limit(api: LocalBotApi, bot: Bot) -> None:
    ids = [api.send_text(CITIZEN, str(i))["update_id"] for i in range(5)]
    assert [u.update_id for u in await bot.get_updates(limit=2)] == ids[:2]
    assert [u.update_id for u in await bot.get_updates(offset=-2)] == ids[3:]
    # The negative offset forgot everything before the last two.
    assert [u.update_id for u in await bot.get_updates()] == ids[3:]


async def test_allowed_updates_filter_is_remembered(api: LocalBotApi, bot: Bot) -> None:
    api.send_text(CITIZEN, "/start")
    await bot.get_updates(allowed_updates=["callback_query"])  # returns the earlier message
    await bot.get_updates(offset=-1)
    api.bot().queue.clear()
    api.send_text(CITIZEN, "dibuang")  # dropped at creation: only callback queries allowed
    sent = await bot.send_message(
        CITIZEN,
        "pilih",
        reply_markup={"inline_keyboard": [[{"text": "Ya", "callback_data": "y"}]]},
    )
    query_id = api.press_button(CITIZEN, sent.message_id, "y")
    updates = await bot.get_updates(timeout=0)  # no allowed_updates: previous setting kept
    assert [u.callback_query.id for u in updates] == [query_id]
    await bot.get_updates(offset=updates[-1].update_id + 1, allowed_updates=[])
    api.send_text(CITIZEN, "lagi")
    assert [u.message.text for u in await bot.get_updates(timeout=0)] == ["lagi"]


async def test_commands_carry_bot_command_entity(api: LocalBotApi, bot: Bot) -> None:
    api.send_text(CITIZEN, "/start kode")
    (update,) = await bot.get_updates()
    entity = update.message.entities[0]
    assert (entity.type, entity.offset, entity.length) == ("bot_command", 0, 6)


async def test_concurrent_get_updates_terminates_the_older(
    api: LocalBotApi, http: aiohttp.ClientSession
) -> None:
    url = f"{api.base_url}/bot{TOKEN}/getUpdates"
    older = asyncio.create_task(http.post(url, data={"timeout": "30"}))
    await _until_polling(api, 1)
    newer = asyncio.create_task(http.post(url, data={"timeout": "0"}))
    response = await asyncio.wait_for(older, 10)
    assert response.status == 409
    assert await response.json() == {
        "ok": False,
        "error_code": 409,
        "description": "Conflict: terminated by other getUpdates request; make sure that "
        "only one bot instance is running",
    }
    response.release()
    assert (await (await newer).json()) == {"ok": True, "result": []}


async def test_get_updates_with_webhook_set_is_a_conflict(bot: Bot) -> None:
    await bot.set_webhook("http://127.0.0.1:9/hook")
    with pytest.raises(Conflict) as info:
        await bot.get_updates()
    assert info.value.message == (
        "Conflict: can't use getUpdates method while webhook is active; use deleteWebhook to "
        "delete the webhook first"
    )
    await bot.delete_webhook()
    assert await bot.get_updates() == ()


async def test_set_webhook_terminates_a_long_poll(
    api: LocalBotApi, bot: Bot, http: aiohttp.ClientSession
) -> None:
    poll = asyncio.create_task(http.post(f"{api.base_url}/bot{TOKEN}/getUpdates?timeout=30"))
    await _until_polling(api)
    await bot.set_webhook("http://127.0.0.1:9/hook")
    response = await asyncio.wait_for(poll, 10)
    assert (await response.json())["description"] == "Conflict: terminated by setWebhook request"
    response.release()


async def test_callback_query_update_expires_after_150_seconds(
    api: LocalBotApi, bot: Bot, clock
) -> None:
    sent = await bot.send_message(
        CITIZEN, "x", reply_markup={"inline_keyboard": [[{"text": "A", "callback_data": "a"}]]}
    )
    api.press_button(CITIZEN, sent.message_id, "a")
    api.send_text(CITIZEN, "pesan")
    clock.advance(151)
    assert [u.message.text for u in await bot.get_updates()] == ["pesan"]


async def test_stop_releases_a_pending_long_poll(api: LocalBotApi, bot: Bot) -> None:
    poll = asyncio.create_task(bot.get_updates(timeout=40))
    await _until_polling(api)
    await api.stop()
    assert await asyncio.wait_for(poll, 10) == ()
