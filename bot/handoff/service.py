"""The citizen side of a handoff, in the front desk, and the delivery of officer replies.

``Handoff.opened`` turns an officer request into a ticket and says plainly whether an
officer of that OPD is on duty now or when the office opens. While ``state.ticket`` names an
open ticket, ``Handoff.route`` takes the citizen's messages (text, photos, documents) to it
instead of the engine; "kembali ke bot", any command, or the officer's close returns them
to the bot. ``TicketOutbox`` rows (written with the officer's act) are sent by
``ReplyLoop``: each row is claimed by one worker with a conditional UPDATE before the send,
so with two workers on one PostgreSQL every reply is delivered exactly once.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import logging
import os
import re
import socket
from collections.abc import AsyncIterator, Callable, Mapping
from typing import Any

from babel.dates import format_datetime
from sqlalchemy import select, update
from sqlalchemy.exc import OperationalError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.core_actions import find_reference
from bot.engine.messages import Button, Inbound, Outbound
from bot.engine.state import ConversationState
from bot.handoff import store
from bot.i18n import DEFAULT_LOCALE, N_, SUPPORTED_LOCALES, Translator
from bot.notify.delivery import Deliver, DeliveryResult
from bot.privacy import mask_identifiers
from bot.region import Region
from bot.storage import repo
from bot.storage.models import Ticket, TicketOutbox, User

logger = logging.getLogger(__name__)
Clock = Callable[[], dt.datetime]
BACK_PAYLOAD = "h:back"
OPEN_PREFIX = "h:open:"
MENU_PAYLOAD = "n:menu"
LEAVE_WORDS = frozenset(
    {"kembali ke bot", "kembali", "menu", "menu utama", "back to bot", "back", "main menu"}
)
MENU_WORDS = frozenset({"menu", "menu utama", "main menu"})  # left, and the menu is shown
OUTCOME_TEXT = {
    "terjawab": N_("pertanyaan Anda sudah dijawab"),
    "diteruskan": N_("diteruskan untuk ditindaklanjuti di kantor"),
    "salah_instansi": N_("bukan wewenang instansi ini; silakan tanyakan ke instansi lain"),
    "tidak_dapat_dibantu": N_("petugas tidak dapat membantu lewat chat"),
    "tanpa_balasan": N_("tidak ada balasan dari Anda"),
}


class Hub:
    """Wakes the inbox pages and the reply loop of this process when a ticket changes. Other
    workers' changes are seen by the pages' periodic check (``store.signature``)."""

    def __init__(self) -> None:
        self._event = asyncio.Event()
        self.version = 0
        self.listeners: list[Callable[[], None]] = []
        self.closing = False  # the web server is stopping: live streams end

    def close(self) -> None:
        self.closing = True
        self.changed()

    def changed(self) -> None:
        self.version += 1
        self._event.set()
        self._event = asyncio.Event()
        for listener in self.listeners:
            listener()

    async def wait(self, seconds: float) -> None:
        event = self._event
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(seconds):
                await event.wait()


class Handoff:
    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        region: Region,
        translator: Translator,
        *,
        clock: Clock,
    ) -> None:
        self.sessions = sessions
        self.region = region
        self.translator = translator
        self.clock = clock
        self.hub = Hub()

    def t(self, locale: str, message: str, **params: Any) -> str:
        locale = locale if locale in SUPPORTED_LOCALES else DEFAULT_LOCALE
        return self.translator.gettext(locale, message, **params)

    def attaches(self, data: Mapping[str, Any]) -> bool:
        return attaches(data)

    def short(self, opd: str) -> str:
        found = self.region.opds.get(opd)
        return found.short if found else opd

    # -- opening ---------------------------------------------------------------------------

    async def opened(
        self,
        session: AsyncSession,
        user_id: int,
        data: Mapping[str, Any],
        locale: str,
        now: dt.datetime,
    ) -> tuple[Ticket, list[Outbound]]:
        """The ticket for a just-recorded officer request or complaint, and what to add to
        the reply (on duty now or when; how to leave). Called in the front desk's
        transaction that records the request."""
        opd = str(data.get("opd") or "")
        ticket = await store.open_ticket(
            session,
            number=str(data["reference"]),
            user_id=user_id,
            opd=opd,
            kind=str(data.get("kind") or "request"),
            consent=data.get("consent") in (True, "yes", "ya"),
            message=str(data.get("message") or ""),
            category=data.get("category"),
            now=now,
        )
        if ticket.kind == "complaint":
            lines = [
                self.t(
                    locale,
                    N_(
                        "Pengaduan Anda masuk ke kotak masuk petugas {opd} sebagai tiket "
                        "{number}. Kabar tindak lanjutnya dikirim ke chat ini; statusnya bisa "
                        'Anda tanyakan dengan "cek pengaduan {number}". Bila tindak lanjutnya '
                        "tidak memuaskan, Anda juga dapat mengadu ke Ombudsman Republik "
                        "Indonesia (ombudsman.go.id), lembaga negara pengawas pelayanan publik."
                    ),
                    opd=self.short(opd),
                    number=ticket.number,
                )
            ]
        else:
            lines = [self.duty_text(opd, now, locale)]
        if attaches(data):
            lines.append(
                self.t(
                    locale,
                    N_(
                        "Selama tiket {number} terbuka, pesan, foto dan dokumen yang Anda kirim "
                        'di sini langsung diteruskan ke petugas. Ketik "kembali ke bot" untuk '
                        "kembali ke menu."
                    ),
                    number=ticket.number,
                )
            )
        self.hub.changed()
        buttons = ((Button(self.t(locale, N_("Kembali ke bot")), BACK_PAYLOAD),),)
        return ticket, [Outbound("\n\n".join(lines), buttons=buttons if attaches(data) else ())]

    def duty_text(self, opd: str, now: dt.datetime, locale: str) -> str:
        """Whether an officer of ``opd`` is on duty now, or when the office opens. Hours the
        OPD has not confirmed are never stated as fact (issue 14): the caveat comes first."""
        found = self.region.opds.get(opd)
        office = self.region.offices.get(found.office) if found else None
        short = self.short(opd)
        if office is None:
            return self.t(locale, N_("Petugas akan membaca pesan Anda pada jam kerja."))
        local = self.region.now(now)
        holidays = self.region.holiday_dates
        if not office.hours_confirmed:
            return self.t(
                locale,
                N_(
                    "Jam kerja petugas {opd} belum kami pastikan. Biasanya petugas membaca pesan "
                    "pada hari kerja, Senin sampai Jumat, kecuali hari libur."
                ),
                opd=short,
            )
        if office.is_open(local, holidays):
            return self.t(
                locale,
                N_("Petugas {opd} sedang bertugas sekarang. Mohon tunggu balasannya di sini."),
                opd=short,
            )
        opening = office.next_opening(local, holidays)
        if opening is None:
            return self.t(locale, N_("Petugas akan membaca pesan Anda pada jam kerja."))
        english = locale == "en"
        when = format_datetime(
            opening,
            "EEEE d MMMM y 'at' HH.mm" if english else "EEEE, d MMMM y 'pukul' HH.mm",
            tzinfo=self.region.timezone,
            locale="en" if english else "id",
        )
        return self.t(
            locale,
            N_(
                "Saat ini kantor {opd} tutup. Petugas mulai bertugas lagi {when} WIT, dan "
                "pesan Anda akan dibaca saat itu."
            ),
            opd=short,
            when=when,
        )

    # -- while a ticket is open --------------------------------------------------------------

    def wants(self, state: ConversationState | None, event: Inbound) -> bool:
        """Whether ``route`` should see this event (no database read otherwise)."""
        if state is not None and state.ticket:
            return True
        return event.kind == "button" and event.payload.startswith(("h:",))

    async def route(
        self, user_id: int, state: ConversationState, event: Inbound, locale: str
    ) -> list[Outbound] | None:
        """Replies when the event belongs to a ticket; None to hand it to the engine."""
        now = self.clock()
        async with self.sessions() as session, session.begin():
            if event.kind == "button" and event.payload.startswith(OPEN_PREFIX):
                ticket = await store.by_number(session, event.payload[len(OPEN_PREFIX) :])
                if ticket is None or ticket.user_id != user_id or ticket.status == "closed":
                    return None
                state.ticket = ticket.number
                await repo.save_state(session, user_id, state)
                return [
                    Outbound(
                        self.t(
                            locale,
                            N_("Silakan tulis balasan Anda untuk petugas ({number})."),
                            number=ticket.number,
                        ),
                        buttons=self._back_row(locale),
                    )
                ]
            if not state.ticket:
                return None if event.payload != BACK_PAYLOAD else self._left(locale, None)
            ticket = await store.by_number(session, state.ticket)
            if ticket is None or ticket.user_id != user_id or ticket.status == "closed":
                state.ticket = None  # closed by the officer: back with the bot
                await repo.save_state(session, user_id, state)
                return None
            leave = (
                event.kind == "command"
                or (event.kind == "text" and is_status_question(event.text))
                or (event.kind == "button" and event.payload in (BACK_PAYLOAD, MENU_PAYLOAD))
                or (event.kind == "text" and _words(event.text) in LEAVE_WORDS)
            )
            if leave:
                state.ticket = None
                await repo.save_state(session, user_id, state)
                if (
                    event.kind != "text"
                    or _words(event.text) in MENU_WORDS
                    or is_status_question(event.text)
                ):
                    return None  # the engine answers the command / opens the menu
                return self._left(locale, ticket.number)
            if event.kind == "button":
                return None  # an older button: the engine decides
            if event.kind == "unsupported" and not event.attachment:
                return [
                    Outbound(
                        self.t(
                            locale,
                            N_("Petugas hanya bisa menerima teks, foto dan dokumen."),
                        ),
                        buttons=self._back_row(locale),
                    )
                ]
            await store.add_citizen_message(
                session,
                ticket,
                text=event.text[:4000],
                now=now,
                file_id=event.attachment or None,
                file_kind=event.attachment_kind or None,
            )
            number = ticket.number
        self.hub.changed()
        return [
            Outbound(
                self.t(locale, N_("Terkirim ke petugas ({number})."), number=number),
                buttons=self._back_row(locale),
            )
        ]

    def _back_row(self, locale: str) -> tuple[tuple[Button, ...], ...]:
        return ((Button(self.t(locale, N_("Kembali ke bot")), BACK_PAYLOAD),),)

    def _left(self, locale: str, number: str | None) -> list[Outbound]:
        text = (
            self.t(
                locale,
                N_(
                    "Anda kembali dilayani bot. Tiket {number} tetap terbuka: jawaban petugas "
                    "tetap dikirim ke chat ini."
                ),
                number=number,
            )
            if number
            else self.t(locale, N_("Anda kembali dilayani bot."))
        )
        return [
            Outbound(text, buttons=((Button(self.t(locale, N_("Menu utama")), MENU_PAYLOAD),),))
        ]

    # -- what the citizen receives -----------------------------------------------------------

    def render(self, row: TicketOutbox, ticket: Ticket, locale: str) -> Outbound:
        short = self.short(ticket.opd)
        if row.kind == "closed":
            outcome = self.t(locale, OUTCOME_TEXT.get(row.text, row.text))
            text = self.t(
                locale,
                N_(
                    "Petugas {opd} menutup tiket {number}: {outcome}.\nAnda kembali dilayani "
                    'bot. Untuk melihat status tiket ini nanti, ketik "cek pengaduan {number}".'
                ),
                opd=short,
                number=ticket.number,
                outcome=outcome,
            )
            return Outbound(
                text, buttons=((Button(self.t(locale, N_("Menu utama")), MENU_PAYLOAD),),)
            )
        text = self.t(
            locale,
            N_("Balasan petugas {opd} ({number}):\n{text}"),
            opd=short,
            number=ticket.number,
            text=row.text,
        )
        return Outbound(
            text,
            buttons=(
                (Button(self.t(locale, N_("Balas petugas")), OPEN_PREFIX + ticket.number),),
                (Button(self.t(locale, N_("Menu utama")), MENU_PAYLOAD),),
            ),
        )


def attaches(data: Mapping[str, Any]) -> bool:
    """An officer request answered in this chat keeps the citizen with the ticket."""
    return str(data.get("kind")) == "request" and data.get("contact") in (None, "chat")


_STATUS = re.compile(r"^\s*(?:cek|status|check|lihat)\b", re.IGNORECASE)


_ABOUT_TICKET = re.compile(r"\b(?:status|pengaduan|tiket|ticket|complaint)\b", re.IGNORECASE)


def is_status_question(text: str) -> bool:
    """``cek pengaduan LKT-...``: answered by the bot's status lookup, even mid-ticket."""
    if not _STATUS.match(text):
        return False
    return find_reference(text) is not None or bool(_ABOUT_TICKET.search(text))


def _words(text: str) -> str:
    return re.sub(r"[^\w ]+", " ", text.lower()).strip().replace("  ", " ")


def worker_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{id(object()):x}"[:64]


class ReplyLoop:
    """Sends pending ``ticket_outbox`` rows through the channel of each citizen.

    A row is claimed (``pending`` -> ``sending`` where it is still ``pending``, committed)
    before the send; only the worker whose UPDATE changed the row sends it. Then ``sent``, or
    back to ``pending`` later on a temporary failure. A row found ``sending`` at start was
    being sent when a process stopped: it becomes ``unknown`` and is never sent twice.
    """

    def __init__(
        self,
        handoff: Handoff,
        frontdesk: Any,
        deliver: Mapping[str, Deliver],
        *,
        sweep_interval: float = 5.0,
        max_attempts: int = 24,
        name: str | None = None,
    ) -> None:
        self.handoff = handoff
        self.frontdesk = frontdesk
        self.deliver = dict(deliver)
        self.sweep_interval = sweep_interval
        self.max_attempts = max_attempts
        self.name = name or worker_name()
        self._wake = asyncio.Event()
        self._stopping = False
        self.sent = 0
        handoff.hub.listeners.append(self._wake.set)

    def add_channel(self, channel: str, deliver: Deliver) -> None:
        self.deliver[channel] = deliver

    def stop(self) -> None:
        self._stopping = True
        self._wake.set()

    async def recover(self, claimed_before: dt.datetime) -> int:
        """Rows a stopped process left ``sending`` become ``unknown`` (never resent)."""
        async with self.handoff.sessions() as session, session.begin():
            result = await session.execute(
                update(TicketOutbox)
                .where(
                    TicketOutbox.state == "sending", TicketOutbox.next_attempt_at < claimed_before
                )
                .values(state="unknown")
            )
        return int(result.rowcount or 0)  # type: ignore[attr-defined]

    async def deliver_pending(self) -> int:
        sessions = self.handoff.sessions
        now = self.handoff.clock()
        async with sessions() as session:
            due = list(
                (
                    await session.scalars(
                        select(TicketOutbox.id)
                        .where(
                            TicketOutbox.state == "pending", TicketOutbox.next_attempt_at <= now
                        )
                        .order_by(TicketOutbox.id)
                        .limit(50)
                    )
                ).all()
            )
        sent = 0
        for row_id in due:
            if self._stopping:
                break
            async with sessions() as session, session.begin():
                claimed = await session.execute(
                    update(TicketOutbox)
                    .where(TicketOutbox.id == row_id, TicketOutbox.state == "pending")
                    .values(state="sending", claimed_by=self.name, next_attempt_at=now)
                )
                if not claimed.rowcount:  # type: ignore[attr-defined]
                    continue  # another worker has it
                row = await session.get(TicketOutbox, row_id)
                assert row is not None
                ticket = await session.get(Ticket, row.ticket_id)
                user = await session.get(User, row.user_id)
            result = await self._send(row, ticket, user)
            await self._settle(row_id, result)
            sent += int(result is DeliveryResult.DELIVERED)
        self.sent += sent
        return sent

    async def _send(
        self, row: TicketOutbox, ticket: Ticket | None, user: User | None
    ) -> DeliveryResult:
        if ticket is None or user is None or user.channel not in self.deliver:
            return DeliveryResult.RETRY if user and ticket else DeliveryResult.FAILED
        message = self.handoff.render(row, ticket, user.locale)
        try:
            if not await self.frontdesk.notify(user.channel, user.external_id, message):
                return DeliveryResult.FAILED
            return await self.deliver[user.channel](user.channel, user.external_id, message)
        except OperationalError:
            return DeliveryResult.RETRY
        except Exception as error:  # a channel bug must not stop the other replies
            logger.error(
                "ticket reply %s failed: %s", ticket.number, mask_identifiers(repr(error))
            )
            return DeliveryResult.RETRY

    async def _settle(self, row_id: int, result: DeliveryResult) -> None:
        now = self.handoff.clock()
        async with self.handoff.sessions() as session, session.begin():
            row = await session.get(TicketOutbox, row_id)
            if row is None:
                return
            if result is DeliveryResult.DELIVERED:
                row.state, row.sent_at = "sent", now
            elif result is DeliveryResult.RETRY and row.attempts + 1 < self.max_attempts:
                row.attempts += 1
                row.state = "pending"
                row.next_attempt_at = now + dt.timedelta(seconds=min(5 * 2**row.attempts, 3600))
            else:
                row.state = "failed"

    async def run(self) -> None:
        await self.recover(self.handoff.clock() - dt.timedelta(minutes=5))
        while not self._stopping:
            self._wake.clear()
            try:
                await self.deliver_pending()
            except Exception:
                logger.exception("ticket reply pass failed")
            if self._stopping:
                return
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(self.sweep_interval):
                    await self._wake.wait()


@contextlib.asynccontextmanager
async def running_replies(loket: Any, deliver: Mapping[str, Deliver]) -> AsyncIterator[ReplyLoop]:
    """The officer-reply loop for ``loket run``, stopped after the message in hand."""
    loop = ReplyLoop(loket.handoff, loket.frontdesk, deliver)
    task = asyncio.get_running_loop().create_task(loop.run(), name="ticket-replies")
    try:
        yield loop
    finally:
        loop.stop()
        await task
