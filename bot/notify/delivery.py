"""The delivery loop: sends queued status notifications, once each, through any channel.

Rows are written by :mod:`bot.notify.changes` in the transaction that records a change. The
loop is woken when a change queued something, and also sweeps periodically, so rows left by a
crash or a restart are sent on the next start. A row is marked ``sent`` only after the channel
accepted the message; the window between the two (a crash right after sending) is the only
way a message can be repeated. A citizen who blocked the bot stops following everything.

Only what the feature needs is kept: a stopped follow and a finished message are deleted
after ``keep_finished`` (7 days, to answer a citizen's question about a message), a message
no running process can deliver after ``keep_pending``; /hapusdata deletes them at once.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import enum
import logging
from collections.abc import Mapping
from typing import Protocol

from sqlalchemy.exc import OperationalError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.engine.messages import Button, Outbound
from bot.frontdesk import Clock, FrontDesk, system_clock
from bot.i18n import DEFAULT_LOCALE, N_, SUPPORTED_LOCALES, Translator
from bot.notify.source import STATUS_TEXT
from bot.privacy import mask_identifiers
from bot.storage import repo
from bot.storage.models import StatusNotification, User

logger = logging.getLogger(__name__)

# The button under a notification opens the list of followed applications, one "stop"
# button each (flows/umum.yaml, step pantau). A goto payload: FrontDesk.notify makes it valid.
FOLLOWS_STEP = "umum:pantau"
STOP_PAYLOAD = f"g:{FOLLOWS_STEP}"


class DeliveryResult(enum.StrEnum):
    DELIVERED = "delivered"  # the channel accepted the message
    BLOCKED = "blocked"  # the citizen blocked the bot or the chat is gone: stop following
    RETRY = "retry"  # a temporary failure (network, flood limit): try again later
    FAILED = "failed"  # this message can never be sent (refused as malformed): give up


class Deliver(Protocol):
    """Sends one message to a citizen of ``channel`` (the channel's own user id)."""

    async def __call__(
        self, channel: str, external_id: str, message: Outbound
    ) -> DeliveryResult: ...


def render_notification(
    translator: Translator,
    locale: str,
    *,
    opd: str,
    number: str,
    status: str,
    note: str | None,
    final: bool,
) -> Outbound:
    """The message for one change, in the citizen's language; statuses are worded as in the
    status check (``integrations.actions``)."""
    locale = locale if locale in SUPPORTED_LOCALES else DEFAULT_LOCALE

    def t(message: str, **params: object) -> str:
        return translator.gettext(locale, message, **params)

    status_text = t(STATUS_TEXT.get(opd, {}).get(status, status))
    if opd == "disnakertrans":
        lines = [
            t(
                N_("Kabar kartu kuning (AK/I) {number}: status berubah menjadi {status}."),
                number=number,
                status=status_text,
            )
        ]
    else:
        lines = [
            t(
                N_("Kabar permohonan {number}: status berubah menjadi {status}."),
                number=number,
                status=status_text,
            )
        ]
    if note:
        lines.append(
            t(N_("Alasan: {note}"), note=note)
            if status == "rejected"
            else t(N_("Catatan: {note}"), note=note)
        )
    if opd == "disdukcapil" and status == "ready_for_pickup":
        lines.append(t(N_("Dokumen Anda siap diambil. Bawa bukti permohonan dan KTP-el Anda.")))
    if final:
        lines.append(t(N_("Ini status akhir, jadi kami berhenti memantau permohonan ini.")))
        return Outbound(text="\n".join(lines))
    lines.append(
        t(
            N_(
                "Kami akan mengabari Anda lagi bila statusnya berubah. Untuk berhenti, pilih "
                'Berhenti memantau atau ketik "berhenti pantau".'
            )
        )
    )
    return Outbound(
        text="\n".join(lines), buttons=((Button(t(N_("Berhenti memantau")), STOP_PAYLOAD),),)
    )


def _backoff(attempts: int) -> dt.timedelta:
    return dt.timedelta(seconds=min(5 * 2 ** max(attempts - 1, 0), 3600))


class DeliveryLoop:
    """Sends pending notifications through ``deliver[channel]``; rows of citizens on other
    channels (the terminal chat, say) wait until a process that serves their channel runs."""

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        frontdesk: FrontDesk,
        translator: Translator,
        deliver: Mapping[str, Deliver],
        *,
        clock: Clock = system_clock,
        sweep_interval: float = 60.0,
        batch: int = 50,
        max_attempts: int = 24,  # about 15 hours of retries
        pace: float = 0.0,
        keep_finished: dt.timedelta = dt.timedelta(days=7),
        keep_pending: dt.timedelta = dt.timedelta(days=30),
    ) -> None:
        self._sessions = sessions
        self._frontdesk = frontdesk
        self._translator = translator
        self._deliver = dict(deliver)
        self._clock = clock
        self._sweep_interval = sweep_interval
        self._batch = batch
        self._max_attempts = max_attempts
        self._pace = pace
        self._keep_finished = keep_finished
        self._keep_pending = keep_pending
        self._purged_at: dt.datetime | None = None
        self._wake = asyncio.Event()
        self._stopping = False
        self.passes = 0

    def wake(self) -> None:
        """Asks for a pass now (called when a change queued a notification)."""
        self._wake.set()

    def add_channel(self, channel: str, deliver: Deliver) -> None:
        """Serves ``channel`` too (the Telegram bot exists only once its server is known)."""
        self._deliver[channel] = deliver

    def stop(self) -> None:
        """Asks ``run`` to return after the message in hand is sent and marked: stopping
        between the two would send it again after the restart."""
        self._stopping = True
        self._wake.set()

    async def deliver_pending(self) -> int:
        """One pass over the due rows, oldest first; returns how many were delivered. Stops
        early at the first temporary failure (those are usually not one citizen's)."""
        self.passes += 1
        delivered = 0
        blocked: set[int] = set()
        while True:
            async with self._sessions() as session:
                due = await repo.due_notifications(
                    session, now=self._clock(), channels=self._deliver, limit=self._batch
                )
            for row, user in due:
                if self._stopping:
                    return delivered
                if user.id in blocked:  # given up with the first of this citizen's messages
                    continue
                result = await self._send(row, user)
                await self._settle(row.id, user.id, result)
                if result is DeliveryResult.RETRY:
                    return delivered
                if result is DeliveryResult.BLOCKED:
                    blocked.add(user.id)
                delivered += int(result is DeliveryResult.DELIVERED)
                if self._pace:
                    await asyncio.sleep(self._pace)
            if len(due) < self._batch:
                return delivered

    async def _send(self, row: StatusNotification, user: User) -> DeliveryResult:
        message = render_notification(
            self._translator,
            user.locale,
            opd=row.opd,
            number=row.number,
            status=row.status,
            note=row.note,
            final=row.final,
        )
        where = f"{row.opd} {mask_identifiers(row.number)} -> user {user.id}"
        try:
            if not await self._frontdesk.notify(user.channel, user.external_id, message):
                return DeliveryResult.FAILED
            result = await self._deliver[user.channel](user.channel, user.external_id, message)
        except OperationalError:
            logger.warning("notification %s: database busy, will retry", where)
            return DeliveryResult.RETRY
        except Exception as error:  # a channel bug must not stop every later notification
            logger.error("notification %s failed: %s", where, mask_identifiers(repr(error)))
            return DeliveryResult.RETRY
        logger.info("notification %s: %s", where, result.value)
        return result

    async def _settle(self, row_id: int, user_id: int, result: DeliveryResult) -> None:
        for attempt in range(1, 6):
            try:
                async with self._sessions() as session, session.begin():
                    row = await session.get(StatusNotification, row_id)
                    if row is None or row.state != "pending":  # erased or given up meanwhile
                        return
                    now = self._clock()
                    if result is DeliveryResult.DELIVERED:
                        row.state, row.sent_at = "sent", repo.as_utc(now)
                    elif result is DeliveryResult.BLOCKED:
                        await repo.give_up_notifications(session, user_id, "blocked")
                        await repo.stop_follows(session, user_id)
                    elif result is DeliveryResult.FAILED:
                        row.state = "failed"
                    else:
                        row.attempts += 1
                        if row.attempts >= self._max_attempts:
                            row.state = "failed"
                        else:
                            row.next_attempt_at = repo.as_utc(now + _backoff(row.attempts))
                return
            except OperationalError:
                if attempt == 5:
                    raise
                await asyncio.sleep(0.05 * attempt)

    async def purge(self) -> int:
        """Deletes stopped follows and old messages (see the module docstring)."""
        now = self._clock()
        async with self._sessions() as session, session.begin():
            deleted = await repo.purge_notification_data(
                session,
                finished_before=now - self._keep_finished,
                stale_before=now - self._keep_pending,
            )
        self._purged_at = now
        if deleted:
            logger.info("deleted %d old notification rows", deleted)
        return deleted

    async def _next_wait(self) -> float:
        wait = self._sweep_interval
        async with self._sessions() as session:
            due = await repo.next_notification_attempt(session, self._deliver)
        if due is not None:
            wait = min(wait, max((due - self._clock()).total_seconds(), 0.0))
        return wait

    async def run(self) -> None:
        """Delivers until cancelled: one pass at start (what a restart left), then on every
        wake-up and at least every ``sweep_interval`` seconds."""
        while not self._stopping:
            self._wake.clear()
            wait = self._sweep_interval
            try:
                await self.deliver_pending()
                if self._purged_at is None or self._clock() - self._purged_at >= dt.timedelta(
                    hours=1
                ):
                    await self.purge()
                wait = await self._next_wait()
            except Exception:
                logger.exception("notification delivery pass failed")
            if self._stopping:
                return
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(wait):
                    await self._wake.wait()
