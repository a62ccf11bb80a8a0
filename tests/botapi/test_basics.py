"""Transport, envelope, tokens and the identity methods."""

from __future__ import annotations

import aiohttp
import pytest
from telegram import Bot
from telegram.error import InvalidToken

from bot.botapi import LocalBotApi
from tests.botapi.conftest import CITIZEN, TOKEN, make_bot


async def test_get_me_through_ptb(bot: Bot) -> None:
    me = await bot.get_me()
    assert me.id == 123456
    assert me.username == "loket_bot"
    assert me.is_bot


async def test_unknown_token_is_unauthorized(
    api: LocalBotApi, http: aiohttp.ClientSession
) -> None:
    async with http.post(f"{api.base_url}/bot999:NOPE/getMe") as response:
        assert response.status == 401
        assert await response.json() == {
            "ok": False,
            "error_code": 401,
            "description": "Unauthorized",
        }
    with pytest.raises(InvalidToken):
        async with make_bot(api, "999:NOPE"):
            pass


async def test_unknown_method_is_not_found(api: LocalBotApi, http: aiohttp.ClientSession) -> None:
    async with http.post(f"{api.base_url}/bot{TOKEN}/sendTelepathy") as response:
        assert response.status == 404
        body = await response.json()
    assert body == {"ok": False, "error_code": 404, "description": "Not Found"}
    assert api.errors[-1].method == "sendTelepathy"


async def test_methods_are_case_insensitive_and_accept_get_json_and_query(
    api: LocalBotApi, http: aiohttp.ClientSession
) -> None:
    url = f"{api.base_url}/bot{TOKEN}"
    async with http.get(f"{url}/GETME") as response:
        assert (await response.json())["result"]["username"] == "loket_bot"
    async with http.post(
        f"{url}/sendMessage",
        json={
            "chat_id": CITIZEN,
            "text": "json",
            "reply_markup": {"inline_keyboard": [[{"text": "A", "callback_data": "a"}]]},
        },
    ) as response:
        result = (await response.json())["result"]
    assert result["reply_markup"]["inline_keyboard"][0][0]["callback_data"] == "a"
    async with http.get(f"{url}/sendMessage", params={"chat_id": str(CITIZEN), "text": "q"}) as r:
        assert (await r.json())["result"]["text"] == "q"
    assert api.chat(CITIZEN).texts == ["json", "q"]


async def test_success_envelope_and_request_log(api: LocalBotApi, bot: Bot) -> None:
    await bot.send_message(CITIZEN, "halo")
    sent = api.requests[-1]
    assert sent.method == "sendMessage"
    assert sent.params == {"chat_id": str(CITIZEN), "text": "halo"}
    assert sent.status == 200
    record = api.chat(CITIZEN)
    assert record.requests[-1]["method"] == "sendMessage"
    assert record.messages[0].requests[0]["text"] == "halo"


async def test_second_bot_is_separate(api: LocalBotApi) -> None:
    api.add_bot("654321:OTHER", username="lain_bot", first_name="Lain")
    async with make_bot(api, "654321:OTHER") as other:
        assert (await other.get_me()).username == "lain_bot"
        api.send_text(CITIZEN, "untuk bot lain", bot="654321:OTHER")
        updates = await other.get_updates(timeout=0)
    assert [u.message.text for u in updates] == ["untuk bot lain"]
    assert api.bot().queue == []


async def test_another_bot_can_become_the_default(api: LocalBotApi) -> None:
    api.add_bot("777:LOKAL", username="loket_mimika_bot", first_name="Loket Mimika", default=True)
    async with make_bot(api, "777:LOKAL") as other:
        api.send_text(CITIZEN, "halo")  # the web chat and helpers now talk to this bot
        (update,) = await other.get_updates()
        await other.send_message(CITIZEN, "hai")
    assert update.message.text == "halo"
    assert api.chat(CITIZEN).texts == ["hai"]
