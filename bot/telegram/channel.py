"""Connects python-telegram-bot to the front desk. Translation only: Update -> Inbound,
Outbound -> Bot API calls. No conversation logic lives here.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import re
from collections.abc import Callable
from dataclasses import dataclass

from telegram import Bot, BotCommand, CallbackQuery, LinkPreviewOptions, Message, Update
from telegram.constants import ChatType, ParseMode
from telegram.error import Forbidden, RetryAfter, TelegramError
from telegram.ext import (
    Application,
    ApplicationBuilder,
    ApplicationHandlerStop,
    BaseUpdateProcessor,
    CallbackQueryHandler,
    ContextTypes,
    MessageHandler,
    TypeHandler,
    filters,
)
from telegram.request import BaseRequest

from bot.broadcast.compose import Composer
from bot.broadcast.pacer import Pacer
from bot.console.commands import FlowCommands
from bot.engine.messages import Inbound, Outbound
from bot.frontdesk import FrontDesk
from bot.i18n import DEFAULT_LOCALE, N_, SUPPORTED_LOCALES, Translator, normalise_locale
from bot.observability.updates import UpdateObserver
from bot.privacy import mask_identifiers
from bot.staff.roles import StaffDesk
from bot.staff.telegram import (
    CALLBACK_PATTERN,
    FLOW_CALLBACK_PATTERN,
    FLOW_DOCUMENT_FILTER,
    STAFF_COMMAND_FILTER,
    ComposingFilter,
    StaffCommands,
)
from bot.telegram import callbacks
from bot.telegram.flood import FloodControl, Verdict
from bot.telegram.ordering import PerUserUpdateProcessor
from bot.telegram.outbox import EarlyAnswers, PacedRequest, ReceiptQueue, private_chat
from bot.telegram.render import TelegramMessage, to_telegram

logger = logging.getLogger(__name__)
CHANNEL = "telegram"
NO_PREVIEW = LinkPreviewOptions(is_disabled=True)

# Only what the handlers use; edited messages, reactions and the like are never fetched.
ALLOWED_UPDATES = ("message", "callback_query")

# (command, description as a gettext msgid). Registered with setMyCommands for every locale:
# Indonesian as the default, the others translated through the catalogues.
COMMANDS = (
    ("start", N_("Mulai dan tampilkan menu")),
    ("menu", N_("Menu utama layanan")),
    ("bantuan", N_("Cara memakai Loket")),
    ("bahasa", N_("Ganti bahasa")),
    ("batal", N_("Batalkan percakapan ini")),
    ("hapusdata", N_("Hapus data saya")),
)


@dataclass(frozen=True, slots=True)
class ChannelSettings:
    token: str
    base_url: str | None = None
    base_file_url: str | None = None
    callback_secret: str = ""
    flood_messages: int = 8
    flood_window_seconds: float = 10.0
    polling: bool = True


class TelegramHandlers:
    """The handler callbacks, with their dependencies passed in (no bot_data lookups)."""

    def __init__(
        self,
        frontdesk: FrontDesk,
        translator: Translator,
        key: bytes,
        flood: FloodControl,
        *,
        on_sent: Callable[[int], None] | None = None,
    ) -> None:
        self.frontdesk = frontdesk
        self.translator = translator
        self.key = key
        self.flood = flood
        # Counts replies into the broadcast's budget (Pacer.note_external): Telegram's limit
        # is per bot, so the announcement leaves room for the citizens' answers.
        self.on_sent = on_sent
        self.staff_patterns = re.compile(r"(?!)")  # staff buttons, when staff are wired
        self.staff: StaffDesk | None = None

    # -- cross-cutting -------------------------------------------------------------------

    async def flood_gate(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """Runs first (group -1): drops a citizen's burst before any work is done."""
        user = update.effective_user
        if user is None or update.edited_message is not None:
            return
        chat = update.effective_chat
        if chat is not None and chat.type != ChatType.PRIVATE:
            return
        verdict = self.flood.check(user.id)
        if verdict is Verdict.ALLOW:
            return
        # A dropped button press was answered at receipt already (bot/telegram/outbox.py).
        if verdict is Verdict.WARN and chat is not None:
            locale = normalise_locale(user.language_code)
            await context.bot.send_message(
                chat.id,
                self.translator.gettext(
                    locale,
                    N_(
                        "Anda mengirim pesan terlalu cepat. Mohon tunggu sebentar, "
                        "lalu kirim lagi pertanyaan Anda."
                    ),
                ),
            )
        raise ApplicationHandlerStop

    async def on_error(self, update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
        """Logs (masked) and tells the citizen politely; a traceback never reaches a chat."""
        error = context.error
        if isinstance(error, Forbidden):
            logger.info("citizen has blocked the bot: %s", mask_identifiers(str(error)))
            return
        if isinstance(error, RetryAfter):  # still over Telegram's limit: a note would be too
            logger.warning("reply dropped, flood limit for %s", _retry_wait(error))
            return
        logger.error("update failed: %s", mask_identifiers(repr(error)), exc_info=error)
        if isinstance(update, Update) and update.effective_chat is not None:
            chat = update.effective_chat
            if chat.type == ChatType.PRIVATE:
                locale = normalise_locale(
                    update.effective_user.language_code if update.effective_user else None
                )
                try:
                    await context.bot.send_message(
                        chat.id,
                        self.translator.gettext(
                            locale,
                            N_(
                                "Maaf, terjadi kendala di sistem kami. "
                                "Silakan coba lagi sebentar lagi."
                            ),
                        ),
                    )
                except TelegramError:
                    logger.warning("could not send the error note")

    # -- private chats -------------------------------------------------------------------

    async def on_text(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        message = update.effective_message
        if message is None or message.text is None:
            return
        event = Inbound(
            kind="text",
            text=message.text,
            language_hint=_lang(update),
            forwarded=message.forward_origin is not None,
        )
        await self._handle(update, context, event)

    async def on_command(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        message = update.effective_message
        if message is None or message.text is None:
            return
        head, _, argument = message.text[1:].partition(" ")
        command = head.split("@", 1)[0].lower()
        event = Inbound(
            kind="command", command=command, argument=argument.strip(), language_hint=_lang(update)
        )
        await self._handle(update, context, event)

    async def on_unsupported(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """Photos, stickers, voice, locations, contacts...: a polite text reply. A forwarded
        photo or document with a caption (an announcement with media) is checked as text. Any
        other caption travels along: the hoax check reads one that carries an announcement
        code (a saved photo sent again), the engine ignores it."""
        message = update.effective_message
        if message is not None and message.forward_origin is not None and message.caption:
            event = Inbound(
                kind="text", text=message.caption, language_hint=_lang(update), forwarded=True
            )
        else:
            caption = message.caption if message is not None else None
            # A photo or document (a photo of a KK) reaches an officer's open ticket.
            attachment, kind = "", ""
            if message is not None and message.photo:
                attachment, kind = message.photo[-1].file_id, "photo"
            elif message is not None and message.document is not None:
                attachment, kind = message.document.file_id, "document"
            event = Inbound(
                kind="unsupported",
                text=caption or "",
                language_hint=_lang(update),
                attachment=attachment,
                attachment_kind=kind,
            )
        await self._handle(update, context, event)

    async def on_any_message(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """A private message taken by no earlier handler, routed as the handlers below do."""
        message = update.effective_message
        if message is not None and message.text is not None:
            await self.on_text(update, context)
        else:
            await self.on_unsupported(update, context)

    async def answer_text(self, query: CallbackQuery) -> str | None:
        """The toast for a press, decided at receipt: a button that is not ours for this
        citizen in a private chat is refused; anything else is answered plainly. A staff
        button is answered plainly for someone with a role (its handler checks the rest) and
        refused like any stale button for a citizen, who never learns it is a staff one."""
        if self.staff_patterns.match(query.data or ""):
            if self.staff is None or await self.staff.actor(query.from_user.id) is not None:
                return None
        elif private_chat(query) and callbacks.decode(self.key, query.from_user.id, query.data):
            return None
        return self.translator.gettext(
            normalise_locale(query.from_user.language_code),
            N_("Tombol ini tidak berlaku. Silakan buka /menu."),
        )

    async def on_callback(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """A button press; it was answered at receipt (``answer_text``), so only the turn
        is left."""
        query = update.callback_query
        if query is None:
            return
        user = query.from_user
        payload = callbacks.decode(self.key, user.id, query.data)
        chat = update.effective_chat
        if payload is None or chat is None or chat.type != ChatType.PRIVATE:
            return
        await self._handle(
            update, context, Inbound(kind="button", payload=payload, language_hint=_lang(update))
        )

    async def _handle(
        self, update: Update, context: ContextTypes.DEFAULT_TYPE, event: Inbound
    ) -> None:
        user = update.effective_user
        chat = update.effective_chat
        if user is None or chat is None:
            return
        replies = await self.frontdesk.handle(CHANNEL, str(user.id), event)
        await self.send(context, chat.id, user.id, replies)

    async def send(
        self,
        context: ContextTypes.DEFAULT_TYPE,
        chat_id: int,
        user_id: int,
        replies: list[Outbound],
    ) -> list[Message]:
        sent = []
        for reply in replies:
            for part in to_telegram(reply, self.key, user_id):
                sent.append(await _send_part(context.bot, chat_id, part))
        if self.on_sent is not None and sent:
            self.on_sent(len(sent))
        return sent

    # -- groups ----------------------------------------------------------------------------

    async def on_group(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """In groups, personal questions do not belong: point to a private chat, only when
        the bot is addressed (a command or a mention), so the group is not spammed."""
        message = update.effective_message
        if message is None or message.text is None:
            return
        username = context.bot.username
        if not _addressed(message, username, context.bot.id):
            return
        locale = normalise_locale(
            update.effective_user.language_code if update.effective_user else None
        )
        await message.reply_text(
            self.translator.gettext(
                locale,
                N_(
                    "Agar data Anda aman, tanyakan layanan kepada saya lewat chat pribadi: "
                    "https://t.me/{username}?start=menu"
                ),
                username=username,
            ),
            link_preview_options=NO_PREVIEW,
        )


async def _send_part(bot: Bot, chat_id: int, part: TelegramMessage) -> Message:
    """sendMessage; pacing and a 429's retry_after are the request's (``PacedRequest``)."""
    return await bot.send_message(
        chat_id,
        part.html,
        parse_mode=ParseMode.HTML,
        reply_markup=part.markup,
        link_preview_options=NO_PREVIEW,
    )


def _addressed(message: Message, username: str, bot_id: int) -> bool:
    """A command for every bot or for this one, an @mention, or a reply to this bot."""
    text = message.text or ""
    if text.startswith("/") and len(text) > 1:
        _, at, target = text.split(maxsplit=1)[0].partition("@")
        return not at or target.lower() == username.lower()
    if re.search(rf"(?<!\w)@{re.escape(username)}(?!\w)", text, re.IGNORECASE):
        return True
    replied = message.reply_to_message
    return replied is not None and replied.from_user is not None and replied.from_user.id == bot_id


def _retry_wait(error: RetryAfter) -> dt.timedelta:
    """``retry_after`` as a timedelta (PTB 22 returns an int unless PTB_TIMEDELTA is set)."""
    value = error.retry_after
    return value if isinstance(value, dt.timedelta) else dt.timedelta(seconds=value)


def _file_url(base_url: str) -> str:
    """``https://host/bot`` -> ``https://host/file/bot``, as api.telegram.org lays them out."""
    root, _, _ = base_url.rstrip("/").rpartition("/bot")
    return f"{root}/file/bot"


def _lang(update: Update) -> str | None:
    return update.effective_user.language_code if update.effective_user else None


def build_application(
    frontdesk: FrontDesk,
    translator: Translator,
    settings: ChannelSettings,
    *,
    request: BaseRequest | None = None,
    get_updates_request: BaseRequest | None = None,
    staff: StaffDesk | None = None,
    composer: Composer | None = None,
    on_sent: Callable[[int], None] | None = None,
    observer: UpdateObserver | None = None,
    flow_commands: FlowCommands | None = None,
    pacer: Pacer | None = None,
) -> Application:  # type: ignore[type-arg]
    """The PTB Application with Loket's handlers, in a deliberate order (see comments).

    With ``staff``, the staff commands (bot/staff/telegram.py) are handled for those allowed;
    with ``composer`` too, /umumkan. ``on_sent(n)``: n replies went out to a citizen.
    ``pacer``: the announcements' pacer (bot/broadcast/runtime.py), so replies and staff
    messages take its interactive lane ahead of the broadcast; without one, a pacer of
    Telegram's default limits of its own. Every message to a chat waits for it.
    """
    # Opt in to PTB 22's timedelta time periods (RetryAfter.retry_after and friends); without
    # it PTB warns on every 429. The code reads them through ``_retry_wait``, which takes both.
    os.environ.setdefault("PTB_TIMEDELTA", "1")
    processor: BaseUpdateProcessor = PerUserUpdateProcessor()
    if observer is not None:  # observability (issue 7): one log line + metrics per update
        processor = observer.wrap(processor)
    builder = ApplicationBuilder().token(settings.token).concurrent_updates(processor)
    if settings.base_url:
        builder = builder.base_url(settings.base_url)
        builder = builder.base_file_url(settings.base_file_url or _file_url(settings.base_url))
    # aiohttp instead of PTB's default httpx: less CPU per Bot API call (bench/README.md).
    from bot.telegram.aiohttp_request import AiohttpRequest

    answered = EarlyAnswers()
    paced = PacedRequest(
        request if request is not None else AiohttpRequest(),
        pacer if pacer is not None else Pacer(),
        answered=answered,
    )
    builder = builder.request(paced)
    if get_updates_request is None:
        get_updates_request = AiohttpRequest(connection_pool_size=1)  # one long poll at a time
    builder = builder.get_updates_request(get_updates_request)
    if not settings.polling:
        builder = builder.updater(None)

    async def post_init(application: Application) -> None:  # type: ignore[type-arg]
        for locale in SUPPORTED_LOCALES:
            await application.bot.set_my_commands(
                [BotCommand(name, translator.gettext(locale, text)) for name, text in COMMANDS],
                language_code=None if locale == DEFAULT_LOCALE else locale,
            )

    handlers = TelegramHandlers(
        frontdesk,
        translator,
        callbacks.derive_key(settings.callback_secret, settings.token),
        FloodControl(settings.flood_messages, settings.flood_window_seconds),
        on_sent=on_sent,
    )
    if staff is not None:
        staff_patterns = [FLOW_CALLBACK_PATTERN] if flow_commands is not None else []
        staff_patterns += [CALLBACK_PATTERN] if composer is not None else []
        if staff_patterns:
            handlers.staff_patterns = re.compile("|".join(f"(?:{p})" for p in staff_patterns))
            handlers.staff = staff
    # Button presses are answered as their update is queued, before any ordering or
    # processing slot (issue 12: Telegram's deadline holds even with a backlog).
    queue = ReceiptQueue(handlers.answer_text, answered)

    async def post_shutdown(_application: Application) -> None:  # type: ignore[type-arg]
        await queue.drain()

    builder = builder.update_queue(queue).post_init(post_init).post_shutdown(post_shutdown)
    application = builder.build()
    private = filters.ChatType.PRIVATE & filters.UpdateType.MESSAGE  # edited messages ignored
    # Order matters: flood control (group -1) runs before anything else and may stop the
    # update; then exactly one handler of group 0 takes it, the first that matches. A staff
    # command (/peran) goes to the staff handler before the generic command handler; for
    # anyone not allowed it calls on_command itself, so they get the unknown-command answer.
    application.add_handler(TypeHandler(Update, handlers.flood_gate), group=-1)
    staff_commands = None
    if staff is not None:
        staff_commands = StaffCommands(
            staff,
            handlers.on_command,
            composer=composer,
            message_fallback=handlers.on_any_message,
            callback_fallback=handlers.on_callback,
            flows=flow_commands,  # /admin, /versi, /kembalikan, .yaml uploads (issue 6)
        )
        if flow_commands is not None:  # an admin's confirm of a flow upload: checked per press
            application.add_handler(
                CallbackQueryHandler(staff_commands.on_flow_button, pattern=FLOW_CALLBACK_PATTERN)
            )
        if composer is not None:  # staff buttons (drafts, progress): checked per press
            application.add_handler(
                CallbackQueryHandler(staff_commands.on_button, pattern=CALLBACK_PATTERN)
            )
    application.add_handler(CallbackQueryHandler(handlers.on_callback))
    application.add_handler(
        MessageHandler(filters.ChatType.GROUPS & filters.UpdateType.MESSAGE, handlers.on_group)
    )
    if staff_commands is not None:
        application.add_handler(
            MessageHandler(
                private & filters.COMMAND & STAFF_COMMAND_FILTER, staff_commands.on_command
            )
        )
        if flow_commands is not None:  # a .yaml document: an admin's flow upload (issue 6)
            application.add_handler(
                MessageHandler(private & FLOW_DOCUMENT_FILTER, staff_commands.on_flow_document)
            )
        if composer is not None:  # a staff member typing an announcement's text or time
            application.add_handler(
                MessageHandler(
                    private & ~filters.COMMAND & ComposingFilter(composer),
                    staff_commands.on_compose,
                )
            )
    application.add_handler(MessageHandler(private & filters.COMMAND, handlers.on_command))
    application.add_handler(MessageHandler(private & filters.TEXT, handlers.on_text))
    application.add_handler(MessageHandler(private, handlers.on_unsupported))
    application.add_error_handler(handlers.on_error)
    if observer is not None:  # observability (issue 7): reads each update's outcome
        observer.attach(application)
    return application
