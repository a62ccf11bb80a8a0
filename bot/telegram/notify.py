"""Status notifications over Telegram: the :class:`~bot.notify.delivery.Deliver` for PTB.

Rendered like every reply (``render.to_telegram``: HTML-escaped, split to Telegram's limit,
buttons signed for this citizen). Telegram's answer decides what happens to the message: a
citizen who blocked the bot (403) or a chat that no longer exists is not written to again; a
flood limit (429) or a network failure is retried later; any other refusal is given up.
"""

from __future__ import annotations

import logging

from telegram import Bot, LinkPreviewOptions
from telegram.constants import ParseMode
from telegram.error import BadRequest, Forbidden, NetworkError, RetryAfter, TelegramError

from bot.engine.messages import Outbound
from bot.notify.delivery import DeliveryResult
from bot.privacy import mask_identifiers
from bot.telegram import callbacks
from bot.telegram.channel import CHANNEL, ChannelSettings
from bot.telegram.render import to_telegram

logger = logging.getLogger(__name__)
NO_PREVIEW = LinkPreviewOptions(is_disabled=True)
_GONE = ("chat not found", "user not found", "peer_id_invalid", "user is deactivated")


class TelegramDeliver:
    """Sends with ``bot``; ``key`` signs the buttons (``callbacks.derive_key``, the same as
    the channel's, so the citizen's press is accepted)."""

    def __init__(self, bot: Bot, key: bytes) -> None:
        self.bot = bot
        self.key = key

    @classmethod
    def for_channel(cls, bot: Bot, settings: ChannelSettings) -> TelegramDeliver:
        """Signing buttons exactly like the channel built with ``settings`` does."""
        return cls(bot, callbacks.derive_key(settings.callback_secret, settings.token))

    async def __call__(self, channel: str, external_id: str, message: Outbound) -> DeliveryResult:
        if channel != CHANNEL:
            return DeliveryResult.FAILED
        try:
            chat_id = int(external_id)
        except ValueError:
            return DeliveryResult.FAILED
        try:
            for part in to_telegram(message, self.key, chat_id):
                await self.bot.send_message(
                    chat_id,
                    part.html,
                    parse_mode=ParseMode.HTML,
                    reply_markup=part.markup,
                    link_preview_options=NO_PREVIEW,
                )
        except Forbidden:
            return DeliveryResult.BLOCKED
        except RetryAfter:  # the loop backs off (5 s and more) and paces its sends
            return DeliveryResult.RETRY
        except BadRequest as error:
            if any(reason in error.message.lower() for reason in _GONE):
                return DeliveryResult.BLOCKED
            logger.error("notification refused by Telegram: %s", mask_identifiers(error.message))
            return DeliveryResult.FAILED
        except NetworkError:  # includes TimedOut
            return DeliveryResult.RETRY
        except TelegramError as error:
            logger.warning("notification not sent: %s", mask_identifiers(str(error)))
            return DeliveryResult.RETRY
        return DeliveryResult.DELIVERED
