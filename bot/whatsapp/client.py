"""The Graph API calls Loket makes: ``POST /{phone_number_id}/messages``, over aiohttp.

A refusal is raised as :class:`GraphError` carrying Meta's code (131047: the 24-hour window
closed; 130429/131056: throttled; 131026: undeliverable), so callers decide by code, never by
message text. The access token travels only in the Authorization header, never in a URL or a
log line.
"""

from __future__ import annotations

import json
import logging
import re
from typing import Any

import aiohttp

from bot.privacy import mask_identifiers
from bot.whatsapp import limits

logger = logging.getLogger(__name__)
_PHONE = re.compile(r"^\+?[0-9]{6,20}$")


class GraphError(Exception):
    """The Graph API refused a call (or could not be reached: ``code`` 0)."""

    def __init__(self, code: int, message: str, *, status: int = 0, details: str = "") -> None:
        super().__init__(f"({code}) {message}")
        self.code = code
        self.status = status
        self.details = details

    @property
    def throttled(self) -> bool:
        return self.code in limits.THROTTLED

    @property
    def retryable(self) -> bool:
        """Worth sending again later: throttled, a server error or no answer at all."""
        return self.throttled or self.code == 0 or self.status >= 500


def recipient(external_id: str) -> dict[str, str]:
    """``to`` for a phone number (a ``wa_id``), ``recipient`` for a business-scoped user id
    (a citizen with a WhatsApp username and no phone number shared: ``ID.1234...``)."""
    if _PHONE.match(external_id):
        return {"to": external_id.lstrip("+")}
    return {"recipient": external_id}


class GraphClient:
    """One aiohttp session for every send of this process."""

    def __init__(
        self, base_url: str, phone_number_id: str, access_token: str, *, timeout: float = 15.0
    ) -> None:
        self.url = f"{base_url.rstrip('/')}/{phone_number_id}/messages"
        self._headers = {"Authorization": f"Bearer {access_token}"}
        self._timeout = aiohttp.ClientTimeout(total=timeout)
        self._session: aiohttp.ClientSession | None = None
        self.sent = 0

    def rebase(self, base_url: str, phone_number_id: str) -> None:
        """Points the client at another Graph API (the local mode learns its port late)."""
        self.url = f"{base_url.rstrip('/')}/{phone_number_id}/messages"

    async def start(self) -> None:
        if self._session is None:
            self._session = aiohttp.ClientSession(timeout=self._timeout, headers=self._headers)

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None

    async def send(self, external_id: str, message: dict[str, Any]) -> str:
        """Sends one message body (``render``'s or a template) and returns its ``wamid``."""
        await self.start()
        assert self._session is not None
        body = {
            "messaging_product": "whatsapp",
            "recipient_type": "individual",
            **recipient(external_id),
            **message,
        }
        try:
            async with self._session.post(self.url, json=body) as response:
                raw = await response.read()
                status = response.status
        except (aiohttp.ClientError, TimeoutError) as error:
            raise GraphError(0, f"no answer: {type(error).__name__}") from error
        try:
            data = json.loads(raw)
        except ValueError:
            data = {}
        if status >= 400 or "error" in data:
            error = data.get("error") if isinstance(data, dict) else None
            error = error if isinstance(error, dict) else {}
            details = (error.get("error_data") or {}).get("details", "")
            code = int(error.get("code") or 0) if str(error.get("code", "")).isdigit() else 0
            raise GraphError(
                code or status,
                str(error.get("message") or f"HTTP {status}"),
                status=status,
                details=str(details),
            )
        self.sent += 1
        try:
            return str(data["messages"][0]["id"])
        except (KeyError, IndexError, TypeError) as error:
            logger.warning("send answer without a message id: %s", mask_identifiers(str(data)))
            raise GraphError(0, "answer without a message id", status=status) from error
