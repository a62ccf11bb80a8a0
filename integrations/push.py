"""Checking and reading an OPD's status push (``POST /hooks/{opd}``, see push-hook.yaml).

The web handler that receives pushes belongs to the bot's server; what lives here is the part
that must match the contract exactly: the signature check over the raw body (done before the
body is parsed, in constant time) and the typed reading of the body.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
from dataclasses import dataclass
from datetime import datetime

from integrations.errors import InvalidReply
from integrations.shapes import Shape

SIGNATURE_HEADER = "X-Loket-Signature"
PUSH_STATUSES: dict[str, frozenset[str]] = {
    "disdukcapil": frozenset(
        {"received", "in_process", "completed", "ready_for_pickup", "rejected"}
    ),
    "disnakertrans": frozenset({"in_process", "active", "expired", "rejected"}),
}
_NUMBER = re.compile(r"[A-Z0-9-]{6,32}", re.ASCII)


@dataclass(frozen=True, slots=True)
class StatusPush:
    opd: str
    number: str
    status: str
    updated_at: datetime
    note: str | None


def sign(secret: str, body: bytes) -> str:
    """The signature an OPD sends: lowercase hex HMAC-SHA256 of the raw body."""
    return hmac.new(secret.encode("utf-8"), body, hashlib.sha256).hexdigest()


def verify_signature(secret: str, body: bytes, signature: str | None) -> bool:
    """Constant-time check of ``X-Loket-Signature`` against the raw body."""
    if not secret or not signature:
        return False
    return hmac.compare_digest(sign(secret, body), signature.strip().lower())


def parse_status_push(opd: str, body: bytes) -> StatusPush:
    """Reads a verified push body; raises :class:`InvalidReply` if it breaks the contract."""
    if opd not in PUSH_STATUSES:
        raise InvalidReply(opd, "shape", "no push hook for this OPD")
    try:
        value = json.loads(body.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError):
        raise InvalidReply(opd, "malformed_json") from None
    shape = Shape(opd)
    data = shape.obj(value)
    number = shape.text(data, "number")
    if not _NUMBER.fullmatch(number):
        raise shape.fail("number must be 6-32 of A-Z, 0-9 and -")
    return StatusPush(
        opd=opd,
        number=number,
        status=shape.choice(data, "status", PUSH_STATUSES[opd]),
        updated_at=shape.moment(data, "updated_at"),
        note=shape.opt_text(data, "note"),
    )
