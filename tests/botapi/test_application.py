"""A whole PTB Application (polling) against the local server, as `loket run` uses it."""

from __future__ import annotations

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.ext import (
    ApplicationBuilder,
    CallbackQueryHandler,
    CommandHandler,
    ContextTypes,
)

from bot.botapi import LocalBotApi
from tests.botapi.conftest import CITIZEN, TOKEN


async def _start(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    assert update.effective_message is not None
    keyboard = InlineKeyboardMarkup([[InlineKeyboardButton("Urus KTP", callback_data="ktp")]])
    await update.effective_message.reply_html(
        "<b>Selamat datang</b> di Loket!", reply_markup=keyboard
    )


async def _button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    query = update.callback_query
    assert query is not None
    await query.answer()
    await query.edit_message_text(f"Anda memilih: {query.data}")


async def test_polling_application_round_trip(api: LocalBotApi) -> None:
    app = (
        ApplicationBuilder()
        .token(TOKEN)
        .base_url(api.bot_api_url)
        .base_file_url(api.file_url)
        .build()
    )
    app.add_handler(CommandHandler("start", _start))
    app.add_handler(CallbackQueryHandler(_button))
    async with app:
        assert app.updater is not None
        await app.updater.start_polling(poll_interval=0, timeout=10)
        await app.start()
        try:
            api.send_text(CITIZEN, "/start")
            (welcome,) = await api.wait_for_messages(CITIZEN, 1, timeout=5)
            assert welcome.text == "Selamat datang di Loket!"
            assert welcome.buttons == [[("Urus KTP", "ktp")]]
            query_id = api.press_button(CITIZEN, welcome.message_id, "ktp")
            await api.wait_for_callback_answer(query_id, timeout=5)
            await api.wait_until(lambda: welcome.text == "Anda memilih: ktp")
            assert welcome.reply_markup is None
        finally:
            await app.updater.stop()
            await app.stop()
    calls = [r.method for r in api.requests]
    assert calls[:3] == ["getMe", "deleteWebhook", "getUpdates"]
    assert api.errors == []
