"""The browser chat: page, send → bot → history, button presses, long-poll wake-up."""

from __future__ import annotations

import asyncio

import aiohttp
from telegram import Bot, InlineKeyboardButton, InlineKeyboardMarkup

from bot.botapi import LocalBotApi

WEB_USER = 1000


async def test_page_is_served_with_indonesian_labels(
    api: LocalBotApi, http: aiohttp.ClientSession
) -> None:
    async with http.get(f"{api.base_url}/") as response:
        assert response.status == 200
        page = await response.text()
    assert "Tulis pesan…" in page
    assert "Kirim" in page
    async with http.get(f"{api.base_url}/webchat/static/webchat.js") as response:
        assert response.status == 200
        assert "textContent" in await response.text()
    async with http.get(f"{api.base_url}/webchat/static/../server.py") as response:
        assert response.status == 404


async def test_send_reply_history_and_press(
    api: LocalBotApi, bot: Bot, http: aiohttp.ClientSession
) -> None:
    base = f"{api.base_url}/webchat"
    async with http.post(f"{base}/send", json={"text": "/start"}) as response:
        assert (await response.json())["ok"]
    (update,) = await bot.get_updates()
    assert update.message.text == "/start"
    assert update.message.from_user.id == WEB_USER
    assert update.message.from_user.first_name == "Warga"

    async with http.get(f"{base}/history", params={"after": "0", "timeout": "0"}) as response:
        before = await response.json()
    assert [m["text"] for m in before["messages"]] == ["/start"]

    # A long poll that is waiting when the bot answers returns at once.
    waiting = asyncio.create_task(
        http.get(f"{base}/history", params={"after": str(before["seq"])})
    )
    await api.wait_until(lambda: api.webchat.waiting > 0)
    keyboard = InlineKeyboardMarkup([[InlineKeyboardButton("Ya", callback_data="ya")]])
    sent = await bot.send_message(
        WEB_USER, "<b>Halo</b> &lt;script&gt;", parse_mode="HTML", reply_markup=keyboard
    )
    response = await asyncio.wait_for(waiting, 5)
    history = await response.json()
    response.release()
    (message,) = history["messages"]
    assert message["from"] == "bot"
    assert message["text"] == "Halo <script>"
    assert message["entities"] == [{"offset": 0, "length": 4, "type": "bold"}]
    assert message["buttons"] == [[{"text": "Ya", "data": "ya", "url": None}]]

    async with http.post(
        f"{base}/press", json={"message_id": sent.message_id, "data": "ya"}
    ) as response:
        pressed = await response.json()
    (update,) = await bot.get_updates(offset=update.update_id + 1)
    assert update.callback_query.id == pressed["callback_query_id"]
    await update.callback_query.answer("Siap")
    await bot.edit_message_text("Halo lagi", chat_id=WEB_USER, message_id=sent.message_id)
    async with http.get(
        f"{base}/history", params={"after": str(history["seq"]), "timeout": "0"}
    ) as response:
        later = await response.json()
    assert [n["text"] for n in later["notices"]] == ["Siap"]
    (edited,) = later["messages"]
    assert (edited["message_id"], edited["text"], edited["edited"]) == (
        sent.message_id,
        "Halo lagi",
        True,
    )
    assert edited["buttons"] == []


async def test_press_unknown_button_is_refused(
    api: LocalBotApi, http: aiohttp.ClientSession
) -> None:
    async with http.post(
        f"{api.base_url}/webchat/press", json={"message_id": 99, "data": "x"}
    ) as response:
        assert (await response.json())["ok"] is False
    assert api.bot().queue == []
