"""The broadcast's :class:`~bot.broadcast.sender.Send` over Telegram.

It uses a PTB :class:`telegram.Bot` of its own (same token, its own
:class:`~bot.telegram.aiohttp_request.AiohttpRequest` connection pool), never the
conversation bot's: a broadcast keeps up to ``concurrency`` calls in flight and waits out 429s,
and neither may take connections the citizens' replies need. Telegram's answers map onto
outcomes: ``Forbidden`` (blocked the bot, account deleted) and a chat that no longer exists are
``blocked``; ``RetryAfter`` is ``retry_after``; ``NetworkError``/``TimedOut`` are transient;
any other refusal is ``failed``.
"""

from __future__ import annotations

import datetime as dt
import logging

from babel.numbers import format_decimal
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from telegram import Bot, InlineKeyboardButton, InlineKeyboardMarkup, LinkPreviewOptions
from telegram.constants import ParseMode
from telegram.error import BadRequest, Forbidden, NetworkError, RetryAfter, TelegramError

from bot.broadcast.sender import Media, Outcome, Progress, Report
from bot.privacy import mask_identifiers
from bot.storage.models import Announcement, User
from bot.telegram.aiohttp_request import AiohttpRequest

logger = logging.getLogger(__name__)
NO_PREVIEW = LinkPreviewOptions(is_disabled=True)
_GONE = ("chat not found", "user not found", "peer_id_invalid", "user is deactivated")


def _seconds(value: float | dt.timedelta) -> float:
    return value.total_seconds() if isinstance(value, dt.timedelta) else float(value)


class TelegramSend:
    """Sends announcements with its own :class:`Bot`; use as ``async with`` (or call
    :meth:`initialize` / :meth:`shutdown`)."""

    def __init__(self, bot: Bot, *, paid_broadcast: bool = False) -> None:
        self.bot = bot
        self.paid_broadcast = paid_broadcast

    @classmethod
    def create(
        cls,
        token: str,
        *,
        base_url: str | None = None,
        pool_size: int = 32,
        paid_broadcast: bool = False,
    ) -> TelegramSend:
        """A sender with a fresh connection pool; ``base_url`` as for ``Bot`` (the local Bot
        API's ``bot_api_url``), default api.telegram.org. ``paid_broadcast`` sends with
        ``allow_paid_broadcast`` (Telegram Stars) for rates above 30 messages/s."""
        request = AiohttpRequest(connection_pool_size=pool_size, read_timeout=10.0)
        if base_url is None:
            bot = Bot(token, request=request)
        else:
            bot = Bot(token, base_url=base_url, request=request)
        return cls(bot, paid_broadcast=paid_broadcast)

    async def initialize(self) -> None:
        await self.bot.initialize()

    async def shutdown(self) -> None:
        await self.bot.shutdown()

    async def __aenter__(self) -> TelegramSend:
        await self.initialize()
        return self

    async def __aexit__(self, *_exc: object) -> None:
        await self.shutdown()

    async def __call__(self, chat_id: str, text: str, media: Media | None = None) -> Outcome:
        paid = self.paid_broadcast or None
        try:
            if media is None:
                await self.bot.send_message(
                    int(chat_id),
                    text,
                    parse_mode=ParseMode.HTML,
                    link_preview_options=NO_PREVIEW,
                    allow_paid_broadcast=paid,
                )
            elif media.kind == "photo":
                await self.bot.send_photo(
                    int(chat_id),
                    media.file_id,
                    caption=text,
                    parse_mode=ParseMode.HTML,
                    allow_paid_broadcast=paid,
                )
            else:
                await self.bot.send_document(
                    int(chat_id),
                    media.file_id,
                    caption=text,
                    parse_mode=ParseMode.HTML,
                    allow_paid_broadcast=paid,
                )
        except ValueError:
            return Outcome.failed("not a Telegram chat id")
        except Forbidden as error:
            return Outcome.blocked(error.message)
        except RetryAfter as error:
            return Outcome.wait(_seconds(error.retry_after))
        except BadRequest as error:
            if any(reason in error.message.lower() for reason in _GONE):
                return Outcome.blocked(error.message)
            logger.error("announcement refused by Telegram: %s", mask_identifiers(error.message))
            return Outcome.failed(error.message)
        except NetworkError as error:  # includes TimedOut
            return Outcome.transient(error.message)
        except TelegramError as error:
            return Outcome.transient(error.message)
        return Outcome.sent()


class TelegramProgress:
    """The author's live progress message: sent when sending starts, edited (the sender calls
    at most every ``progress_interval`` seconds), then turned into the final report.

    Uses the conversation bot (a staff member's chat is a conversation, not a broadcast). The
    message's ids are stored on the announcement, so after a restart the same message is
    edited on. A failed edit is logged and never stops the broadcast.
    """

    def __init__(self, bot: Bot | None, sessions: async_sessionmaker[AsyncSession]) -> None:
        self.bot = bot  # set once the Application exists (bot/broadcast/runtime.py)
        self.sessions = sessions
        self._shown: dict[int, str] = {}  # last text per announcement: no idle edits

    async def progress(self, announcement_id: int, progress: Progress) -> None:
        await self._show(announcement_id, progress_text(progress), stop_button=True)

    async def finished(self, announcement_id: int, report: Report) -> None:
        title = "selesai" if report.status == "done" else "dihentikan"
        await self._show(
            announcement_id, f"Pengumuman {report.reference} {title}.", stop_button=False
        )
        chat_id = await self._author_chat(announcement_id)
        if chat_id is not None and self.bot is not None:
            await self.bot.send_message(int(chat_id), report_text(report))

    async def _author_chat(self, announcement_id: int) -> str | None:
        async with self.sessions() as session:
            return await session.scalar(
                select(User.external_id)
                .join(Announcement, Announcement.author_user_id == User.id)
                .where(Announcement.id == announcement_id, User.channel == "telegram")
            )

    async def _show(self, announcement_id: int, text: str, *, stop_button: bool) -> None:
        if self.bot is None or self._shown.get(announcement_id) == text:
            return
        self._shown[announcement_id] = text
        markup = (
            InlineKeyboardMarkup(
                [
                    [
                        InlineKeyboardButton(
                            "Hentikan pengiriman", callback_data=f"umk:{announcement_id}:stop"
                        )
                    ]
                ]
            )
            if stop_button
            else None
        )
        async with self.sessions() as session:
            announcement = await session.get(Announcement, announcement_id)
            if announcement is None:
                return
            chat_id, message_id = announcement.progress_chat_id, announcement.progress_message_id
        if chat_id is not None and message_id is not None:
            try:
                await self.bot.edit_message_text(
                    text, chat_id=int(chat_id), message_id=message_id, reply_markup=markup
                )
            except BadRequest as error:
                if "not modified" not in error.message.lower():
                    logger.warning("progress edit refused: %s", error.message)
            return
        author_chat = await self._author_chat(announcement_id)
        if author_chat is None:  # written by a process without an author chat (web console)
            return
        sent = await self.bot.send_message(int(author_chat), text, reply_markup=markup)
        async with self.sessions() as session, session.begin():
            await session.execute(
                update(Announcement)
                .where(Announcement.id == announcement_id)
                .values(progress_chat_id=author_chat, progress_message_id=sent.message_id)
            )


def _duration(seconds: float) -> str:
    seconds = max(0, round(seconds))
    if seconds < 60:
        return f"{seconds} detik"
    minutes, rest = divmod(seconds, 60)
    if minutes < 60:
        return f"{minutes} menit {rest} detik"
    hours, minutes = divmod(minutes, 60)
    return f"{hours} jam {minutes} menit"


def _n(value: int) -> str:
    return format_decimal(value, locale="id")


def progress_text(progress: Progress) -> str:
    return (
        f"Pengumuman {progress.reference} sedang dikirim.\n"
        f"Terkirim: {_n(progress.sent)} dari {_n(progress.total)}\n"
        f"Gagal: {_n(progress.failed)}\n"
        f"Sisa: {_n(progress.remaining)}\n"
        f"Perkiraan selesai: {_duration(progress.eta_seconds)} lagi"
    )


def report_text(report: Report) -> str:
    state = "selesai" if report.status == "done" else "dihentikan"
    lines = [
        f"Laporan pengumuman {report.reference} ({state})",
        f"Penerima: {_n(report.total)}",
        f"Terkirim: {_n(report.sent)}",
        f"Memblokir bot / akun tidak ada: {_n(report.blocked)} (tidak dikirimi lagi)",
        f"Gagal: {_n(report.failed)}",
    ]
    if report.unknown:
        lines.append(
            f"Tidak pasti: {_n(report.unknown)} (sedang dikirim saat sistem berhenti; "
            "tidak dikirim ulang agar tidak ganda)"
        )
    if report.skipped:
        lines.append(f"Berhenti berlangganan sebelum gilirannya: {_n(report.skipped)}")
    if report.remaining:
        lines.append(f"Belum terkirim: {_n(report.remaining)}")
    lines.append(f"Lama pengiriman: {_duration(report.elapsed)}")
    return "\n".join(lines)
