"""Core actions of the status notifications, named by flows:

* ``core.follow_application`` (``opd``, ``number``, ``status``): after a status check, tell the
  citizen when the status changes. ``status`` is what the citizen was just shown; the next
  message is about a change from it.
* ``core.list_followed``: what the citizen follows: ``count``, ``text`` and the numbers as
  ``n1``..``n5`` (flows show one "stop" button per number).
* ``core.unfollow_application`` (``number``: a number, its place in the list, or ``semua``).

Following and stopping write in a short transaction of their own: actions run between the
front desk's transactions, so no agency call ever happens while the database is held. Saving a
follow is an upsert, so repeating it is harmless. Every result carries a ready ``text`` in the
citizen's language, like the integration actions.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.i18n import N_, Translator
from bot.notify.source import FOLLOWABLE, STATUS_TEXT, StatusSource, clean_number, is_final
from bot.privacy import mask_identifiers
from bot.registry import ActionCall, ActionResult, Registry
from bot.storage import repo
from bot.storage.models import FollowedApplication
from integrations.errors import OpdError

logger = logging.getLogger(__name__)
MAX_FOLLOWS = 5  # per citizen: a family's documents; each has its own "stop" button
ALL_WORDS = frozenset({"semua", "all", "*"})

FOLLOWING = N_(
    "Baik. Kami akan memberi tahu Anda di percakapan ini bila status {number} berubah. "
    'Untuk berhenti, ketik "berhenti pantau".'
)
ALREADY_FOLLOWING = N_(
    "Anda sudah memantau {number}. Kami akan memberi tahu Anda di percakapan ini bila "
    "statusnya berubah."
)
ALREADY_FINAL = N_(
    "{number} sudah mencapai status akhir, jadi tidak ada perubahan yang perlu dipantau."
)
TOO_MANY = N_(
    "Anda sudah memantau {count} permohonan, batas yang bisa kami pantau. Hentikan salah "
    'satu dulu: ketik "berhenti pantau", lalu pilih nomornya.'
)
NOTHING_FOLLOWED = N_(
    "Anda tidak sedang memantau permohonan apa pun. Setelah cek status permohonan atau "
    'kartu kuning, pilih "Beri tahu saya bila status berubah".'
)
LIST_HEADER = N_("Permohonan yang Anda pantau (status terakhir):")
LIST_APPLICATION = N_("{index}. Permohonan {number}: {status}")
LIST_AK1 = N_("{index}. Kartu kuning (AK/I) {number}: {status}")
LIST_FOOTER = N_("Pilih tombol di bawah untuk berhenti memantau.")
STOPPED_ONE = N_(
    "Baik, kami berhenti memantau {number}. Anda tidak akan menerima kabar statusnya lagi."
)
STOPPED_ALL = N_(
    "Baik, kami berhenti memantau {count} permohonan. Anda tidak akan menerima kabar "
    "statusnya lagi."
)
NOT_IN_LIST = N_("Nomor itu sudah tidak ada dalam daftar pantauan Anda.")
NOT_FOLLOWING = N_("Anda tidak sedang memantau permohonan apa pun.")


class _NoDatabase(Exception):
    pass


def register_follow_actions(
    registry: Registry,
    session_factory: async_sessionmaker[AsyncSession] | None,
    translator: Translator,
    source: StatusSource | None,
) -> None:
    actions = _FollowActions(session_factory, translator, source)
    registry.add_action("core.follow_application", actions.follow)
    registry.add_action("core.list_followed", actions.list_followed)
    registry.add_action("core.unfollow_application", actions.unfollow)


class _FollowActions:
    def __init__(
        self,
        session_factory: async_sessionmaker[AsyncSession] | None,
        translator: Translator,
        source: StatusSource | None,
    ) -> None:
        self._sessions = session_factory
        self._translator = translator
        self._source = source

    def _ok(
        self, call: ActionCall, message: str, data: dict[str, Any], **params: Any
    ) -> ActionResult:
        text = self._translator.gettext(call.locale, message, **params)
        return ActionResult("ok", {**data, "text": text})

    @asynccontextmanager
    async def _session(self, *, write: bool) -> AsyncIterator[AsyncSession]:
        """A short session of its own: actions run between the front desk's transactions."""
        if self._sessions is None:
            raise _NoDatabase
        if write:  # a short transaction of its own: no agency call happens inside it
            async with self._sessions() as own, own.begin():
                yield own
            return
        async with self._sessions() as own:
            yield own

    # -- follow --------------------------------------------------------------------------

    async def follow(self, call: ActionCall) -> ActionResult:
        opd = str(call.params.get("opd", "")).strip().lower()
        number = clean_number(call.params.get("number"))
        shown = str(call.params.get("status", "")).strip()
        if opd not in FOLLOWABLE or number is None:
            logger.error("core.follow_application called without a usable opd or number")
            return ActionResult("invalid", {"reason": "bad_param"})
        if shown not in STATUS_TEXT[opd]:
            shown = ""
        data = {"followed": False, "number": number}
        if shown and is_final(opd, shown):
            return self._ok(call, ALREADY_FINAL, data, number=number)
        # Asked before the transaction opens: a slow agency must not hold the database.
        status, updated_at = await self._baseline(opd, number, shown)
        try:
            async with self._session(write=True) as session:
                user_id = int(call.user_id)
                existing = await repo.get_follow(session, user_id, opd, number)
                if existing is None or not existing.active:
                    count = len(await repo.list_follows(session, user_id))
                    if count >= MAX_FOLLOWS:
                        return self._ok(call, TOO_MANY, data, count=count)
                _row, was_active = await repo.save_follow(
                    session, user_id, opd, number, status=status or None, updated_at=updated_at
                )
        except _NoDatabase:
            return ActionResult("unavailable", {"reason": "no_database"})
        logger.info("user %s follows %s %s", call.user_id, opd, mask_identifiers(number))
        message = ALREADY_FOLLOWING if was_active else FOLLOWING
        return self._ok(call, message, {**data, "followed": True}, number=number)

    async def _baseline(self, opd: str, number: str, shown: str) -> tuple[str, dt.datetime | None]:
        """What the citizen saw, with the OPD's time of it when the OPD still reports the
        same status (so an older, delayed push is recognised as old)."""
        if self._source is None:
            return shown, None
        try:
            observed = await self._source.fetch(opd, number)
        except OpdError as error:
            logger.info(
                "baseline of %s %s not read: %s", opd, mask_identifiers(number), error.reason
            )
            return shown, None
        if observed is None:
            return shown, None
        if not shown:
            return observed.status, observed.updated_at
        return shown, observed.updated_at if observed.status == shown else None

    # -- list and stop -------------------------------------------------------------------

    def _line(self, call: ActionCall, index: int, row: FollowedApplication) -> str:
        status = row.last_status or ""
        status_text = self._translator.gettext(
            call.locale, STATUS_TEXT.get(row.opd, {}).get(status, status or "-")
        )
        message = LIST_AK1 if row.opd == "disnakertrans" else LIST_APPLICATION
        return self._translator.gettext(
            call.locale, message, index=index, number=row.number, status=status_text
        )

    async def list_followed(self, call: ActionCall) -> ActionResult:
        try:
            async with self._session(write=False) as session:
                rows = (await repo.list_follows(session, int(call.user_id)))[:MAX_FOLLOWS]
        except _NoDatabase:
            return ActionResult("unavailable", {"reason": "no_database"})
        slots = {f"n{index}": "" for index in range(1, MAX_FOLLOWS + 1)}
        slots.update({f"n{index}": row.number for index, row in enumerate(rows, start=1)})
        data: dict[str, Any] = {"count": len(rows), **slots}
        if not rows:
            return self._ok(call, NOTHING_FOLLOWED, data)
        lines = [self._translator.gettext(call.locale, LIST_HEADER)]
        lines += [self._line(call, index, row) for index, row in enumerate(rows, start=1)]
        lines.append(self._translator.gettext(call.locale, LIST_FOOTER))
        return ActionResult("ok", {**data, "text": "\n".join(lines)})

    async def unfollow(self, call: ActionCall) -> ActionResult:
        raw = " ".join(str(call.params.get("number", "")).split())
        try:
            async with self._session(write=True) as session:
                user_id = int(call.user_id)
                rows = await repo.list_follows(session, user_id)
                if not rows:
                    return self._ok(call, NOT_FOLLOWING, {"stopped": 0})
                if not raw or raw.casefold() in ALL_WORDS:
                    stopped = await repo.stop_follows(session, user_id)
                    return self._ok(call, STOPPED_ALL, {"stopped": stopped}, count=stopped)
                if raw.isdecimal() and len(raw) <= 2:  # a place in the list, not a number
                    index = int(raw)
                    target = rows[index - 1] if 1 <= index <= len(rows) else None
                else:
                    number = clean_number(raw)
                    target = next((row for row in rows if row.number == number), None)
                if target is None:
                    text = self._translator.gettext(call.locale, NOT_IN_LIST)
                    return ActionResult("not_found", {"stopped": 0, "text": text})
                stopped = await repo.stop_follows(
                    session, user_id, opd=target.opd, number=target.number
                )
        except _NoDatabase:
            return ActionResult("unavailable", {"reason": "no_database"})
        logger.info("user %s stopped following %s", call.user_id, mask_identifiers(target.number))
        data = {"stopped": stopped, "number": target.number}
        return self._ok(call, STOPPED_ONE, data, number=target.number)
