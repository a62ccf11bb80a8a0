"""The staff commands on the Telegram channel: /peran (admins) and /umumkan (staff, admins).

The handlers sit before the ordinary ones (bot/telegram/channel.py). For anyone not allowed
to use a command they hand the update to the ordinary command path unchanged, so a citizen
gets exactly the engine's answer to an unknown command: nothing tells them the command
exists. While a staff member is typing an announcement (its text, or its send time), their
next message goes to the draft instead of the conversation engine. Replies are plain
Indonesian (staff-facing, not in the catalogues).
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import re
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING

from telegram import (
    Bot,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    LinkPreviewOptions,
    Message,
    Update,
)
from telegram.constants import ParseMode
from telegram.error import RetryAfter, TelegramError
from telegram.ext import ContextTypes, filters

from bot.broadcast.compose import Actor, Composer, StaffMessage
from bot.broadcast.sender import Media
from bot.staff.roles import ADMIN, RoleCommandError, StaffDesk, parse_role_command

if TYPE_CHECKING:
    from bot.console.commands import Answer, FlowCommands

logger = logging.getLogger(__name__)
Handler = Callable[[Update, ContextTypes.DEFAULT_TYPE], Awaitable[None]]

# Commands only staff or admins may use; never registered with setMyCommands for everyone.
STAFF_COMMANDS = ("peran", "umumkan", "admin", "versi", "kembalikan")
_PATTERN = re.compile(r"^/(?:" + "|".join(STAFF_COMMANDS) + r")(?:@\w+)?(?:\s|$)", re.IGNORECASE)
STAFF_COMMAND_FILTER = filters.Regex(_PATTERN)
CALLBACK_PREFIX = "umk:"
SEND_ATTEMPTS = 3
MAX_RETRY_SECONDS = 30.0
CALLBACK_PATTERN = r"^umk:\d+:"
# The admin console's Telegram side (issue 6, bot/console/commands.py): a .yaml document from
# an admin is a flow upload; its confirm buttons carry ``flw:ok`` / ``flw:no``.
FLOW_CALLBACK_PATTERN = r"^flw:(?:ok|no)$"
FLOW_DOCUMENT_FILTER = filters.Document.FileExtension("yaml")


def split_command(text: str) -> tuple[str, str]:
    """``/Peran@loket_bot beri 1 admin`` -> (``peran``, ``beri 1 admin``)."""
    head, _, argument = text[1:].partition(" ")
    return head.split("@", 1)[0].lower(), argument.strip()


class ComposingFilter(filters.MessageFilter):
    """Messages of staff members whose draft waits for typed input (cheap: a set lookup)."""

    def __init__(self, composer: Composer) -> None:
        super().__init__(name="ComposingFilter")
        self.composer = composer

    def filter(self, message: Message) -> bool:
        user = message.from_user
        return user is not None and str(user.id) in self.composer.awaiting


def _markup(message: StaffMessage, draft_id: int | None) -> InlineKeyboardMarkup | None:
    if not message.buttons or draft_id is None:
        return None
    return InlineKeyboardMarkup(
        [
            [
                InlineKeyboardButton(
                    b.label, callback_data=f"{CALLBACK_PREFIX}{draft_id}:{b.action}"
                )
                for b in row
            ]
            for row in message.buttons
        ]
    )


async def send_staff_messages(
    bot: Bot, chat_id: int | str, messages: list[StaffMessage]
) -> list[Message]:
    """Shows the composer's messages: HTML text, or a photo/document with an HTML caption.
    A 429 (a preview is two messages in a row to one chat) is waited out, as for citizens."""
    sent = []
    for message in messages:
        sent.append(await _retrying(lambda message=message: _send_one(bot, chat_id, message)))
    return sent


async def _send_one(bot: Bot, chat_id: int | str, message: StaffMessage) -> Message:
    markup = _markup(message, message.draft_id)
    if message.media is None:
        return await bot.send_message(
            chat_id, message.html, parse_mode=ParseMode.HTML, reply_markup=markup
        )
    send = bot.send_photo if message.media.kind == "photo" else bot.send_document
    return await send(
        chat_id,
        message.media.file_id,
        caption=message.html,
        parse_mode=ParseMode.HTML,
        reply_markup=markup,
    )


async def _retrying(call: Callable[[], Awaitable[Message]]) -> Message:
    for attempt in range(1, SEND_ATTEMPTS + 1):
        try:
            return await call()
        except RetryAfter as error:
            wait = error.retry_after
            seconds = wait.total_seconds() if isinstance(wait, dt.timedelta) else float(wait)
            if attempt == SEND_ATTEMPTS or seconds > MAX_RETRY_SECONDS:
                raise
            await asyncio.sleep(seconds)
    raise AssertionError("unreachable")  # pragma: no cover


class StaffCommands:
    def __init__(
        self,
        desk: StaffDesk,
        fallback: Handler,
        *,
        composer: Composer | None = None,
        message_fallback: Handler | None = None,
        callback_fallback: Handler | None = None,
        flows: FlowCommands | None = None,
    ) -> None:
        self.desk = desk
        self.flows = flows  # /admin, /versi, /kembalikan and .yaml uploads (issue 6)
        self.fallback = fallback  # the ordinary command handler (unknown command answer)
        self.composer = composer
        self.message_fallback = message_fallback  # ordinary text / unsupported handler
        self.callback_fallback = callback_fallback  # ordinary button handler

    async def _actor(self, telegram_id: int) -> Actor | None:
        found = await self.desk.actor(telegram_id)
        if found is None:
            return None
        user_id, roles = found
        return Actor(user_id, str(telegram_id), roles)

    async def on_command(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        message = update.effective_message
        user = update.effective_user
        chat = update.effective_chat
        if message is None or message.text is None or user is None or chat is None:
            return
        command, argument = split_command(message.text)
        if command == "peran" and await self.desk.is_admin(user.id):
            await context.bot.send_message(chat.id, await self.peran(user.id, argument))
            return
        if command == "umumkan" and self.composer is not None:
            actor = await self._actor(user.id)
            replies = None if actor is None else await self.composer.command(actor, argument)
            if replies is not None:
                await send_staff_messages(context.bot, chat.id, replies)
                return
        if self.flows is not None and command in ("admin", "versi", "kembalikan"):
            answer = await self._flow_command(command, user.id, argument)
            if answer is not None:
                await self._send_answer(context.bot, chat.id, answer)
                return
        await self.fallback(update, context)

    # -- the admin console's Telegram side (issue 6) ------------------------------------------

    async def _flow_command(self, command: str, telegram_id: int, argument: str) -> Answer | None:
        assert self.flows is not None
        if command == "admin":
            return await self.flows.sign_in(telegram_id)
        if command == "versi":
            return await self.flows.list_versions(telegram_id)
        return await self.flows.rollback(telegram_id, argument)

    async def _send_answer(self, bot: Bot, chat_id: int, answer: Answer) -> None:
        markup = None
        if answer.confirm:
            markup = InlineKeyboardMarkup(
                [
                    [
                        InlineKeyboardButton("Terbitkan", callback_data="flw:ok"),
                        InlineKeyboardButton("Batal", callback_data="flw:no"),
                    ]
                ]
            )
        await bot.send_message(
            chat_id,
            answer.text,
            reply_markup=markup,
            link_preview_options=LinkPreviewOptions(is_disabled=True),
        )

    async def on_flow_document(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """A .yaml document: an admin's flow upload; anyone else's is an ordinary message."""
        message = update.effective_message
        user = update.effective_user
        chat = update.effective_chat
        if message is None or message.document is None or user is None or chat is None:
            return
        document = message.document
        answer = None
        if self.flows is not None:

            async def load() -> bytes:
                file = await context.bot.get_file(document.file_id)
                return bytes(await file.download_as_bytearray())

            answer = await self.flows.upload(
                user.id, document.file_name or "", document.file_size, load
            )
        if answer is None:
            if self.message_fallback is not None:
                await self.message_fallback(update, context)
            return
        await self._send_answer(context.bot, chat.id, answer)

    async def on_flow_button(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        query = update.callback_query
        if query is None or query.data is None:
            return
        answer = None
        if self.flows is not None:
            answer = await self.flows.confirm(query.from_user.id, query.data == "flw:ok")
        if answer is None:  # a citizen pressing a forged button: an ordinary stale button
            if self.callback_fallback is not None:
                await self.callback_fallback(update, context)
            return
        try:
            await query.answer()
        except TelegramError as error:
            logger.info("answerCallbackQuery failed: %s", error)
        chat = update.effective_chat
        if chat is not None:
            await self._send_answer(context.bot, chat.id, answer)

    async def on_compose(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """A message of a staff member whose draft waits for its text or its send time."""
        message = update.effective_message
        user = update.effective_user
        chat = update.effective_chat
        if message is None or user is None or chat is None or self.composer is None:
            return
        media = None
        if message.photo:
            media = Media("photo", message.photo[-1].file_id)
        elif message.document is not None:
            media = Media("document", message.document.file_id)
        if media is not None:
            text_html, text_plain = message.caption_html or "", message.caption or ""
        else:
            text_html, text_plain = message.text_html or "", message.text or ""
        actor = await self._actor(user.id)
        replies = None
        if actor is not None and (media is not None or message.text is not None):
            replies = await self.composer.message(actor, text_html, text_plain, media)
        if replies is None:
            self.composer.awaiting.discard(str(user.id))
            if self.message_fallback is not None:
                await self.message_fallback(update, context)
            return
        await send_staff_messages(context.bot, chat.id, replies)

    async def on_button(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        query = update.callback_query
        if query is None or query.data is None or self.composer is None:
            return
        actor = await self._actor(query.from_user.id)
        if actor is None:  # a citizen pressing a forged staff button: an ordinary stale button
            if self.callback_fallback is not None:
                await self.callback_fallback(update, context)
            return
        _, draft_id, action = query.data.split(":", 2)
        try:
            await query.answer()
        except TelegramError as error:
            logger.info("answerCallbackQuery failed: %s", error)
        replies = await self.composer.button(actor, int(draft_id), action)
        chat = update.effective_chat
        if chat is not None:
            await send_staff_messages(context.bot, chat.id, replies)

    async def peran(self, actor_telegram_id: int, argument: str) -> str:
        try:
            command = parse_role_command(argument, self.desk.opds)
        except RoleCommandError as error:
            return str(error)
        if command.action == "list":
            holders = await self.desk.list_roles()
            if not holders:
                return "Belum ada peran staf atau admin."
            lines = ["Peran di Loket (selain warga):"]
            for holder in holders:
                source = " (ADMIN_TELEGRAM_IDS)" if holder.seeded else ""
                lines.append(f"- {holder.grant.label()}: {holder.telegram_id}{source}")
            return "\n".join(lines)
        assert command.grant is not None
        label = command.grant.label()
        try:
            changed = await self.desk.change(actor_telegram_id, command)
        except PermissionError:  # lost the admin role in the meantime
            return "Perintah ditolak: Anda bukan admin lagi."
        who = command.telegram_id
        if command.action == "grant":
            if not changed:
                return f"{who} sudah memiliki peran {label}."
            return f"Peran {label} diberikan kepada {who}. Tercatat di log audit."
        if not changed:
            return f"{who} tidak memiliki peran {label}."
        note = " Anda tidak lagi admin." if who == actor_telegram_id and label == ADMIN else ""
        return f"Peran {label} dicabut dari {who}. Tercatat di log audit.{note}"
