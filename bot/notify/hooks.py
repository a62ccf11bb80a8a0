"""``POST /hooks/{opd}``: an OPD tells Loket that an application changed status.

The contract is ``integrations/openapi/push-hook.yaml``. The body is read raw (at most
``MAX_BODY`` bytes) and its ``X-Loket-Signature`` checked in constant time against the OPD's
shared secret *before* it is parsed; a missing or wrong signature, or an OPD without a
configured secret, gets 401 and nothing is read further or stored. A valid push is recorded
once (a duplicate changes nothing) and answered 204, also when nobody follows the application.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping

from aiohttp import web
from sqlalchemy.exc import OperationalError

from bot.notify.changes import Change, ChangeRecorder
from bot.privacy import mask_identifiers
from integrations.errors import InvalidReply
from integrations.push import PUSH_STATUSES, SIGNATURE_HEADER, parse_status_push, verify_signature

logger = logging.getLogger(__name__)
HOOK_PATH = "/hooks/{opd}"
MAX_BODY = 16 * 1024  # a push is a number, a status, a time and a note of at most 2,000 chars


def _error(status: int, code: str, message: str) -> web.Response:
    return web.json_response({"error": {"code": code, "message": message}}, status=status)


async def _read_limited(request: web.Request, limit: int) -> bytes | None:
    """The raw body, or None if it is longer than ``limit`` bytes."""
    if request.content_length is not None and request.content_length > limit:
        return None
    chunks: list[bytes] = []
    size = 0
    while True:
        chunk = await request.content.read(limit + 1 - size)
        if not chunk:
            return b"".join(chunks)
        chunks.append(chunk)
        size += len(chunk)
        if size > limit:
            return None


class PushHook:
    """The aiohttp handler; ``secrets`` maps an OPD to its ``<OPD>_HOOK_SECRET``."""

    def __init__(self, secrets: Mapping[str, str | None], recorder: ChangeRecorder) -> None:
        self._secrets = {opd: secret for opd, secret in secrets.items() if secret}
        self._recorder = recorder
        self.accepted = 0
        self.refused = 0

    @property
    def opds(self) -> frozenset[str]:
        """OPDs whose pushes are accepted (a secret is configured)."""
        return frozenset(opd for opd in self._secrets if opd in PUSH_STATUSES)

    async def handle(self, request: web.Request) -> web.Response:
        opd = request.match_info.get("opd", "")
        if opd not in PUSH_STATUSES:
            return _error(404, "unknown_opd", "no status hook for this OPD")
        body = await _read_limited(request, MAX_BODY)
        if body is None:
            self.refused += 1
            return _error(413, "too_large", f"a push body is at most {MAX_BODY} bytes")
        secret = self._secrets.get(opd)
        if secret is None or not verify_signature(
            secret, body, request.headers.get(SIGNATURE_HEADER)
        ):
            self.refused += 1
            logger.warning("%s push refused: missing or wrong signature", opd)
            return _error(401, "bad_signature", "missing or wrong X-Loket-Signature")
        try:
            push = parse_status_push(opd, body)
        except InvalidReply as error:
            self.refused += 1
            logger.warning("%s push refused: %s", opd, mask_identifiers(str(error)))
            return _error(400, "invalid_push", mask_identifiers(str(error)))
        try:
            await self._recorder.record(
                Change(push.opd, push.number, push.status, push.updated_at, push.note)
            )
        except OperationalError:
            logger.error(
                "%s push for %s not stored: database busy", opd, mask_identifiers(push.number)
            )
            return _error(503, "busy", "try again later with the same body")
        self.accepted += 1
        return web.Response(status=204)

    def add_routes(self, app: web.Application) -> None:
        app.router.add_post(HOOK_PATH, self.handle)
