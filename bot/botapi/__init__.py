"""A local stand-in for Telegram's Bot API server.

Loket's local mode, its test suite and its benchmarks talk to this server through the very
same python-telegram-bot code path that production uses against api.telegram.org, so the
behaviour here (limits, error strings, update delivery) follows the real server closely.
Nothing is created at import time: build a :class:`LocalBotApi` and ``await start()`` it.
"""

from bot.botapi.errors import BotApiError
from bot.botapi.limits import BotApiLimits, ManualClock
from bot.botapi.server import LocalBotApi
from bot.botapi.state import (
    CallbackAnswer,
    ChatRecord,
    ErrorRecord,
    StoredMessage,
    WebhookDelivery,
)

__all__ = [
    "BotApiError",
    "BotApiLimits",
    "CallbackAnswer",
    "ChatRecord",
    "ErrorRecord",
    "LocalBotApi",
    "ManualClock",
    "StoredMessage",
    "WebhookDelivery",
]
