"""Sending, editing, deleting, buttons, commands, files: success and every error."""

from __future__ import annotations

import asyncio

import aiohttp
import pytest
from telegram import (
    Bot,
    BotCommand,
    BotCommandScopeAllGroupChats,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    LinkPreviewOptions,
    ReplyParameters,
)
from telegram.constants import ParseMode
from telegram.error import BadRequest, Forbidden

from bot.botapi import LocalBotApi, ManualClock
from tests.botapi.conftest import CITIZEN, TOKEN

KEYBOARD = InlineKeyboardMarkup(
    [
        [InlineKeyboardButton("KTP", callback_data="layanan:ktp")],
        [
            InlineKeyboardButton("KK", callback_data="layanan:kk"),
            InlineKeyboardButton("Situs", url="https://mimikakab.go.id"),
        ],
    ]
)


async def test_send_message_with_buttons_is_recorded_and_echoed(
    api: LocalBotApi, bot: Bot
) -> None:
    sent = await bot.send_message(
        CITIZEN,
        "<b>Halo</b> &amp; selamat datang",
        parse_mode=ParseMode.HTML,
        reply_markup=KEYBOARD,
    )
    assert sent.text == "Halo & selamat datang"
    assert sent.entities[0].type == "bold"
    assert (sent.entities[0].offset, sent.entities[0].length) == (0, 4)
    assert sent.reply_markup == KEYBOARD
    assert sent.from_user.username == "loket_bot"
    assert sent.chat.id == CITIZEN
    (stored,) = await api.wait_for_messages(CITIZEN, 1, timeout=1)
    assert stored.parse_mode == "HTML"
    assert stored.callback_data == ["layanan:ktp", "layanan:kk"]
    assert stored.buttons[1] == [("KK", "layanan:kk"), ("Situs", None)]
    assert api.stats.delivered[CITIZEN] == 1
    assert api.errors == []


async def test_reply_parameters_and_link_preview(api: LocalBotApi, bot: Bot) -> None:
    api.send_text(CITIZEN, "pertanyaan")
    (update,) = await bot.get_updates()
    answer = await bot.send_message(
        CITIZEN,
        "jawaban https://example.org",
        reply_parameters=ReplyParameters(update.message.message_id),
        link_preview_options=LinkPreviewOptions(is_disabled=True),
    )
    assert answer.reply_to_message.text == "pertanyaan"
    assert answer.link_preview_options.is_disabled
    with pytest.raises(BadRequest, match=r"^Message to be replied not found$"):
        await bot.send_message(CITIZEN, "x", reply_parameters=ReplyParameters(999))
    ok = await bot.send_message(
        CITIZEN, "x", reply_parameters=ReplyParameters(999, allow_sending_without_reply=True)
    )
    assert ok.reply_to_message is None


@pytest.mark.parametrize(
    ("kwargs", "description"),
    [
        ({"chat_id": 424242, "text": "x"}, "Bad Request: chat not found"),
        ({"chat_id": CITIZEN, "text": ""}, "Bad Request: message text is empty"),
        ({"chat_id": CITIZEN, "text": "   "}, "Bad Request: text must be non-empty"),
        ({"chat_id": CITIZEN, "text": "a" * 4097}, "Bad Request: message is too long"),
        (
            {"chat_id": CITIZEN, "text": "x", "parse_mode": "Textile"},
            "Bad Request: unsupported parse_mode",
        ),
        (
            {"chat_id": CITIZEN, "text": "<b>x", "parse_mode": "HTML"},
            "Bad Request: can't parse entities: Can't find end tag corresponding to start "
            'tag "b"',
        ),
        (
            {
                "chat_id": CITIZEN,
                "text": "x",
                "reply_markup": '{"inline_keyboard": [[{"text": "A", "callback_data": "'
                + "d" * 65
                + '"}]]}',
            },
            "Bad Request: BUTTON_DATA_INVALID",
        ),
        (
            {
                "chat_id": CITIZEN,
                "text": "x",
                "reply_markup": '{"inline_keyboard": [[{"text": "A"}]]}',
            },
            "Bad Request: can't parse inline keyboard button: Text buttons are unallowed in the "
            "inline keyboard",
        ),
        (
            {"chat_id": CITIZEN, "text": "x", "reply_markup": "{not json"},
            "Bad Request: can't parse reply keyboard markup JSON object",
        ),
    ],
)
async def test_send_message_errors_raw(
    api: LocalBotApi, http: aiohttp.ClientSession, kwargs: dict, description: str
) -> None:
    data = {key: str(value) for key, value in kwargs.items()}
    async with http.post(f"{api.base_url}/bot{TOKEN}/sendMessage", data=data) as response:
        assert response.status == 400
        assert response.content_type == "application/json"
        assert await response.json() == {
            "ok": False,
            "error_code": 400,
            "description": description,
        }
    assert api.errors[-1].description == description
    assert api.errors[-1].method == "sendMessage"


async def test_errors_as_ptb_sees_them(api: LocalBotApi, bot: Bot) -> None:
    with pytest.raises(BadRequest, match=r"^Chat not found$"):
        await bot.send_message(424242, "x")
    with pytest.raises(BadRequest, match=r"^Message is too long$"):
        await bot.send_message(CITIZEN, "é" * 4097)
    # 4096 visible characters are fine even though the HTML source is longer.
    await bot.send_message(CITIZEN, "<i>" + "a" * 4096 + "</i>", parse_mode=ParseMode.HTML)
    with pytest.raises(BadRequest, match=r"^Button_data_invalid$"):
        await bot.send_message(
            CITIZEN,
            "x",
            reply_markup=InlineKeyboardMarkup(
                [[InlineKeyboardButton("A", callback_data="é" * 33)]]
            ),
        )
    with pytest.raises(BadRequest, match=r"^Can't parse entities: unsupported start tag"):
        await bot.send_message(CITIZEN, "1 < 2", parse_mode=ParseMode.HTML)


async def test_blocked_and_deactivated_users(api: LocalBotApi, bot: Bot) -> None:
    api.block_user(CITIZEN)
    with pytest.raises(Forbidden) as blocked:
        await bot.send_message(CITIZEN, "x")
    assert blocked.value.message == "Forbidden: bot was blocked by the user"
    assert api.errors[-1].error_code == 403
    api.unblock_user(CITIZEN)
    await bot.send_message(CITIZEN, "lagi")
    api.add_user(2000, "Almarhum")
    api.deactivate_user(2000)
    with pytest.raises(Forbidden) as gone:
        await bot.send_message(2000, "x")
    assert gone.value.message == "Forbidden: user is deactivated"


async def test_citizen_writing_again_unblocks(api: LocalBotApi, bot: Bot) -> None:
    api.block_user(CITIZEN)
    api.send_text(CITIZEN, "/start")
    await bot.send_message(CITIZEN, "selamat datang kembali")


async def test_edit_message_text_and_errors(api: LocalBotApi, bot: Bot) -> None:
    sent = await bot.send_message(CITIZEN, "menunggu", reply_markup=KEYBOARD)
    edited = await bot.edit_message_text(
        "<b>selesai</b>", chat_id=CITIZEN, message_id=sent.message_id, parse_mode="HTML"
    )
    assert edited.text == "selesai"
    assert edited.edit_date is not None
    assert edited.reply_markup is None  # no reply_markup in the edit removes the keyboard
    stored = api.messages(CITIZEN)[0]
    assert stored.text == "selesai"
    assert stored.edits[0]["text"] == "menunggu"
    assert [r["method"] for r in stored.requests] == ["sendMessage", "editMessageText"]
    with pytest.raises(BadRequest) as same:
        await bot.edit_message_text(
            "<b>selesai</b>", chat_id=CITIZEN, message_id=sent.message_id, parse_mode="HTML"
        )
    assert api.errors[-1].description == (
        "Bad Request: message is not modified: specified new message content and reply markup "
        "are exactly the same as a current content and reply markup of the message"
    )
    assert same.value.message.startswith("Message is not modified")
    # Same text but different formatting is a modification.
    await bot.edit_message_text("selesai", chat_id=CITIZEN, message_id=sent.message_id)
    with pytest.raises(BadRequest, match=r"^Message to edit not found$"):
        await bot.edit_message_text("x", chat_id=CITIZEN, message_id=999)
    api.send_text(CITIZEN, "punya warga")
    citizen_message_id = api.bot().messages[CITIZEN][sent.message_id + 1].message_id
    with pytest.raises(BadRequest, match=r"^Message can't be edited$"):
        await bot.edit_message_text("x", chat_id=CITIZEN, message_id=citizen_message_id)


async def test_edit_reply_markup(api: LocalBotApi, bot: Bot) -> None:
    sent = await bot.send_message(CITIZEN, "pilih", reply_markup=KEYBOARD)
    other = InlineKeyboardMarkup([[InlineKeyboardButton("Kembali", callback_data="back")]])
    edited = await bot.edit_message_reply_markup(CITIZEN, sent.message_id, reply_markup=other)
    assert edited.reply_markup == other
    with pytest.raises(BadRequest, match=r"^Message is not modified"):
        await bot.edit_message_reply_markup(CITIZEN, sent.message_id, reply_markup=other)
    assert api.messages(CITIZEN)[0].callback_data == ["back"]


async def test_button_press_and_callback_answers(api: LocalBotApi, bot: Bot) -> None:
    sent = await bot.send_message(CITIZEN, "pilih", reply_markup=KEYBOARD)
    query_id = api.press_button(CITIZEN, sent.message_id, "layanan:kk")
    (update,) = await bot.get_updates()
    query = update.callback_query
    assert (query.id, query.data, query.from_user.id) == (query_id, "layanan:kk", CITIZEN)
    assert query.message.message_id == sent.message_id
    waiter = asyncio.create_task(api.wait_for_callback_answer(query_id, timeout=5))
    assert await query.answer("Dipilih: KK")
    answer = await waiter
    assert (answer.text, answer.show_alert) == ("Dipilih: KK", False)
    with pytest.raises(BadRequest) as twice:
        await bot.answer_callback_query(query_id)
    assert api.errors[-1].description == (
        "Bad Request: query is too old and response timeout expired or query ID is invalid"
    )
    assert twice.value.message.startswith("Query is too old")
    with pytest.raises(BadRequest, match=r"^Query is too old"):
        await bot.answer_callback_query("nope")
    with pytest.raises(ValueError, match="no button"):
        api.press_button(CITIZEN, sent.message_id, "never-shown")


async def test_callback_answer_deadline_and_text_limit(
    api: LocalBotApi, bot: Bot, clock: ManualClock
) -> None:
    sent = await bot.send_message(CITIZEN, "pilih", reply_markup=KEYBOARD)
    late = api.press_button(CITIZEN, sent.message_id, "layanan:ktp")
    clock.advance(15.5)
    with pytest.raises(BadRequest, match=r"^Query is too old"):
        await bot.answer_callback_query(late)
    query_id = api.press_button(CITIZEN, sent.message_id, "layanan:ktp")
    with pytest.raises(BadRequest, match=r"^Message_too_long$"):
        await bot.answer_callback_query(query_id, "x" * 201)
    assert await bot.answer_callback_query(query_id, "x" * 200, show_alert=True)


async def test_commands(api: LocalBotApi, bot: Bot) -> None:
    commands = [BotCommand("start", "Mulai"), BotCommand("bantuan", "Bantuan")]
    assert await bot.set_my_commands(commands)
    assert await bot.set_my_commands([BotCommand("start", "Start")], language_code="en")
    assert await bot.set_my_commands(
        [BotCommand("lapor", "Lapor")], scope=BotCommandScopeAllGroupChats()
    )
    assert await bot.get_my_commands() == tuple(commands)
    assert api.commands == [
        {"command": "start", "description": "Mulai"},
        {"command": "bantuan", "description": "Bantuan"},
    ]
    assert api.get_commands(language_code="en") == [{"command": "start", "description": "Start"}]
    assert api.get_commands({"type": "all_group_chats"})[0]["command"] == "lapor"
    for bad in ("Start", "/start", "a" * 33, "mulai-sekarang", ""):
        with pytest.raises(BadRequest, match=r"^Bot_command_invalid$"):
            await bot.set_my_commands([BotCommand(bad, "x")])
    with pytest.raises(BadRequest, match=r"^Command description must be non-empty$"):
        await bot.set_my_commands([BotCommand("start", " ")])
    with pytest.raises(BadRequest):
        await bot.set_my_commands([BotCommand("start", "d" * 257)])
    assert await bot.delete_my_commands()
    assert api.commands == []


async def test_delete_message_and_chat_action(api: LocalBotApi, bot: Bot) -> None:
    sent = await bot.send_message(CITIZEN, "sementara")
    assert await bot.send_chat_action(CITIZEN, "typing")
    assert await bot.delete_message(CITIZEN, sent.message_id)
    assert api.messages(CITIZEN)[0].deleted
    with pytest.raises(BadRequest, match=r"^Message to delete not found$"):
        await bot.delete_message(CITIZEN, sent.message_id)
    assert api.chat(CITIZEN).actions == ["typing"]
    with pytest.raises(BadRequest, match=r"^Wrong parameter action in request$"):
        await bot.send_chat_action(CITIZEN, "dancing")


async def test_photo_and_document_upload_and_download(api: LocalBotApi, bot: Bot) -> None:
    png = (
        bytes.fromhex("89504e470d0a1a0a0000000d49484452")
        + (640).to_bytes(4, "big")
        + (480).to_bytes(4, "big")
        + b"\x08\x06\x00\x00\x00"
    )
    photo = await bot.send_photo(CITIZEN, png, caption="<b>Formulir</b>", parse_mode="HTML")
    assert photo.caption == "Formulir"
    assert photo.caption_entities[0].type == "bold"
    assert (photo.photo[-1].width, photo.photo[-1].height) == (640, 480)
    again = await bot.send_photo(CITIZEN, photo.photo[-1].file_id)
    assert again.photo[-1].file_unique_id == photo.photo[-1].file_unique_id
    document = await bot.send_document(CITIZEN, b"%PDF-1.4 isi", filename="syarat.pdf")
    assert document.document.file_name == "syarat.pdf"
    telegram_file = await bot.get_file(document.document.file_id)
    assert await telegram_file.download_as_bytearray() == bytearray(b"%PDF-1.4 isi")
    with pytest.raises(BadRequest, match=r"^Message caption is too long$"):
        await bot.send_photo(CITIZEN, png, caption="c" * 1025)
    with pytest.raises(BadRequest, match=r"^Wrong file identifier/http url specified$"):
        await bot.send_document(CITIZEN, "not-a-file-id")
    assert [m.kind for m in api.messages(CITIZEN)] == ["photo", "photo", "document"]


async def test_group_chats(api: LocalBotApi, bot: Bot) -> None:
    api.send_text(CITIZEN, "/lapor@loket_bot jalan rusak", chat_id=-100777, chat_type="group")
    (update,) = await bot.get_updates()
    assert update.message.chat.type == "group"
    assert update.message.chat.id == -100777
    assert update.message.entities[0].length == len("/lapor@loket_bot")
    reply = await bot.send_message(-100777, "Terima kasih")
    assert reply.chat.title


async def test_citizen_variants(api: LocalBotApi, bot: Bot) -> None:
    first = api.send_text(CITIZEN, "salah ketik")
    api.send_edited_text(CITIZEN, first["message"]["message_id"], "sudah benar")
    api.send_photo(CITIZEN, caption="foto KTP")
    api.send_sticker(CITIZEN)
    api.send_location(CITIZEN, -4.546, 136.883)
    api.send_contact(CITIZEN, "+6281234567890")
    api.send_document(CITIZEN, b"isi", "surat.pdf")
    updates = await bot.get_updates()
    assert updates[1].edited_message.text == "sudah benar"
    assert updates[2].message.photo and updates[2].message.caption == "foto KTP"
    assert updates[3].message.sticker.emoji == "👍"
    assert updates[4].message.location.latitude == pytest.approx(-4.546)
    assert updates[5].message.contact.phone_number == "+6281234567890"
    assert updates[6].message.document.file_name == "surat.pdf"
    photo_file = await bot.get_file(updates[2].message.photo[-1].file_id)
    assert (await photo_file.download_as_bytearray()).startswith(b"\x89PNG")


async def test_wait_for_messages_times_out_with_a_useful_message(api: LocalBotApi) -> None:
    with pytest.raises(TimeoutError, match="expected 1 bot message"):
        await api.wait_for_messages(CITIZEN, 1, timeout=0.05)


async def test_reset_forgets_observations(api: LocalBotApi, bot: Bot) -> None:
    await bot.send_message(CITIZEN, "x")
    with pytest.raises(BadRequest):
        await bot.send_message(424242, "x")
    api.reset()
    assert api.errors == []
    assert api.requests == []
    assert api.messages(CITIZEN) == []
    assert api.stats.total_delivered == 0
