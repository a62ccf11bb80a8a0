"""callback_data that is opaque, short and checked.

Telegram lets a client send any callback_data it likes, so a button press is trusted only if
it carries a MAC over the citizen's user id and the engine's payload. A forged press, or one
copied from another citizen's chat, fails the check and gets a polite answer. The key is
derived from the bot token (or CALLBACK_SECRET), so buttons keep working across restarts.
"""

from __future__ import annotations

import base64
import hashlib
import hmac

MAX_CALLBACK_BYTES = 64
_MAC_CHARS = 11  # 66 bits: forging one needs about 2**65 tries
_SEPARATOR = "|"


def derive_key(secret: str, token: str) -> bytes:
    material = secret or token
    return hashlib.sha256(b"loket-callback-v1\0" + material.encode()).digest()


def _mac(key: bytes, user_id: int, payload: str) -> str:
    digest = hmac.new(key, f"{user_id}\0{payload}".encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).decode()[:_MAC_CHARS]


def encode(key: bytes, user_id: int, payload: str) -> str:
    """``payload|mac``; the engine keeps payloads short enough (see ``compact_payload``)."""
    data = f"{payload}{_SEPARATOR}{_mac(key, user_id, payload)}"
    if len(data.encode()) > MAX_CALLBACK_BYTES:
        raise ValueError(f"button payload too long for Telegram: {payload!r}")
    return data


def decode(key: bytes, user_id: int, data: str | None) -> str | None:
    """The payload if ``data`` was made by us for this user, else None."""
    if not data or _SEPARATOR not in data:
        return None
    payload, _, mac = data.rpartition(_SEPARATOR)
    if not hmac.compare_digest(mac, _mac(key, user_id, payload)):
        return None
    return payload
