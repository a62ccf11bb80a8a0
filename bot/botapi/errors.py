"""Bot API error responses, shaped exactly like the real server's.

The real server answers ``{"ok": false, "error_code": N, "description": "..."}`` with the
HTTP status equal to ``error_code``; python-telegram-bot picks its exception class from that
status and its ``RetryAfter`` from ``parameters.retry_after``. Keeping one exception type
that carries all three pieces lets every method handler simply ``raise``.
"""

from __future__ import annotations

from typing import Any


class BotApiError(Exception):
    """An error the server answers with instead of ``{"ok": true, ...}``."""

    def __init__(
        self, error_code: int, description: str, parameters: dict[str, Any] | None = None
    ) -> None:
        super().__init__(description)
        self.error_code = error_code
        self.description = description
        self.parameters = parameters or {}

    def to_json(self) -> dict[str, Any]:
        """The response body, keys in the real server's order."""
        body: dict[str, Any] = {
            "ok": False,
            "error_code": self.error_code,
            "description": self.description,
        }
        if self.parameters:
            body["parameters"] = dict(self.parameters)
        return body

    @property
    def retry_after(self) -> int | None:
        """Seconds to wait for a 429, else ``None``."""
        value = self.parameters.get("retry_after")
        return int(value) if value is not None else None


def bad_request(message: str) -> BotApiError:
    """400 with the ``Bad Request: `` prefix; ``message`` is already in final casing."""
    return BotApiError(400, f"Bad Request: {message}")


def forbidden(message: str) -> BotApiError:
    """403, e.g. a citizen who blocked the bot."""
    return BotApiError(403, f"Forbidden: {message}")


def conflict(message: str) -> BotApiError:
    """409: getUpdates against a webhook or against another poller."""
    return BotApiError(409, f"Conflict: {message}")


def unauthorized() -> BotApiError:
    """401 for a token the server does not know."""
    return BotApiError(401, "Unauthorized")


def not_found() -> BotApiError:
    """404 for a method the server does not implement (api.telegram.org wording)."""
    return BotApiError(404, "Not Found")


def too_many_requests(retry_after: int) -> BotApiError:
    """429 with ``retry_after`` both in the body and (added by the server) as a header."""
    return BotApiError(
        429, f"Too Many Requests: retry after {retry_after}", {"retry_after": retry_after}
    )


CHAT_NOT_FOUND = "chat not found"
QUERY_TOO_OLD = "query is too old and response timeout expired or query ID is invalid"
NOT_MODIFIED = (
    "message is not modified: specified new message content and reply markup are exactly "
    "the same as a current content and reply markup of the message"
)
GETUPDATES_WEBHOOK_CONFLICT = (
    "can't use getUpdates method while webhook is active; use deleteWebhook to delete the "
    "webhook first"
)
GETUPDATES_TERMINATED = (
    "terminated by other getUpdates request; make sure that only one bot instance is running"
)
