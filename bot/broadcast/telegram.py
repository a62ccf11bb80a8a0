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

from telegram import Bot, LinkPreviewOptions
from telegram.constants import ParseMode
from telegram.error import BadRequest, Forbidden, NetworkError, RetryAfter, TelegramError

from bot.broadcast.sender import Outcome
from bot.privacy import mask_identifiers
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

    async def __call__(self, chat_id: str, text: str) -> Outcome:
        try:
            await self.bot.send_message(
                int(chat_id),
                text,
                parse_mode=ParseMode.HTML,
                link_preview_options=NO_PREVIEW,
                allow_paid_broadcast=self.paid_broadcast or None,
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
