"""Booking reminders through the same durable-outbox pattern as the status notifications.

Rows of ``booking_reminders`` are planned in the booking's own transaction (the day before at
17.00 WIT, the morning at 06.00 WIT; a citizen with repeated no-shows also three days before),
so a restart or a crash loses none. The loop sends each due row once:

1. it *claims* the row (``pending`` -> ``sending``, one UPDATE that only one worker wins, on
   SQLite and PostgreSQL alike), committed before any call;
2. sends through the channel's :class:`~bot.notify.delivery.Deliver` (over Telegram the bot's
   paced request, at Telegram's limits, like every message), after ``FrontDesk.notify`` made
   the "Masih datang?" buttons valid answers;
3. marks it ``sent`` (or retries later, or gives up).

A row left ``sending`` by a crash between 1 and 3 is marked ``unknown`` after
``stale_claim`` and never sent again: one reminder too few is better than two. A reminder of a
booking cancelled meanwhile was already ``skipped`` by the cancellation.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import logging
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.booking.hook import COMING_STEP, NOT_COMING_STEP
from bot.engine.messages import Button, Outbound
from bot.engine.render import pick
from bot.frontdesk import Clock, FrontDesk, system_clock
from bot.i18n import DEFAULT_LOCALE, N_, SUPPORTED_LOCALES, Translator
from bot.notify.delivery import Deliver, DeliveryResult
from bot.region import Region
from bot.storage import repo
from bot.storage.models import Booking, BookingReminder, User

if TYPE_CHECKING:
    from bot.app import Loket

logger = logging.getLogger(__name__)

DAY_BEFORE = N_(
    "Pengingat: besok, {date}, Anda punya nomor antrean {number} untuk {service}, sesi pukul "
    "{session} WIT, di {office} ({address}). Kode booking: {code}.\n\n"
    "Yang perlu dibawa:\n{bring}\n\nMasih datang?"
)
MORNING = N_(
    "Hari ini, {date}: nomor antrean {number} untuk {service}, sesi pukul {session} WIT, di "
    "{office} ({address}). Tunjukkan kode {code} di loket.\n\nMasih datang?"
)
CONFIRM = N_(
    "Anda punya nomor antrean {number} untuk {service} pada {date}, sesi pukul {session} WIT. "
    "Beberapa kali nomor Anda tidak terpakai, jadi kami minta Anda memastikan lebih awal: "
    "masih datang? Bila tidak, nomornya bisa dipakai warga lain."
)
YES = N_("Ya, saya datang")
NO = N_("Tidak, batalkan")
TEXTS = {"day_before": DAY_BEFORE, "morning": MORNING, "confirm": CONFIRM}


def render_reminder(
    translator: Translator, region: Region, locale: str, kind: str, booking: Booking
) -> Outbound:
    """The reminder in the citizen's language, with the "Masih datang?" buttons."""
    from bot.booking.actions import BookingActions  # the same date and session wording

    locale = locale if locale in SUPPORTED_LOCALES else DEFAULT_LOCALE
    office = region.offices.get(booking.office)
    text = translator.gettext(
        locale,
        TEXTS[kind],
        date=BookingActions.date_text(booking.day, locale),
        number=booking.number,
        service=booking.title,
        session=BookingActions.session_text(booking.session, locale),
        office=pick(office.name, locale) if office else booking.office,
        address=office.address if office else "-",
        code=booking.code,
        bring=booking.bring or "-",
    )
    buttons = (
        (
            # The booking's code rides on the button: a citizen with two visits reminded
            # the same day answers for the one this reminder is about.
            Button(translator.gettext(locale, YES), f"g:{COMING_STEP}#{booking.code}"),
            Button(translator.gettext(locale, NO), f"g:{NOT_COMING_STEP}#{booking.code}"),
        ),
    )
    return Outbound(text=text, buttons=buttons)


class ReminderLoop:
    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        frontdesk: FrontDesk,
        translator: Translator,
        region: Region,
        deliver: Mapping[str, Deliver],
        *,
        clock: Clock = system_clock,
        sweep_interval: float = 60.0,
        batch: int = 50,
        pace: float = 0.05,
        max_attempts: int = 12,
        stale_claim: dt.timedelta = dt.timedelta(minutes=10),
    ) -> None:
        self._sessions = sessions
        self._frontdesk = frontdesk
        self._translator = translator
        self._region = region
        self._deliver = dict(deliver)
        self._clock = clock
        self._sweep_interval = sweep_interval
        self._batch = batch
        self._pace = pace
        self._max_attempts = max_attempts
        self._stale_claim = stale_claim
        self._stopping = False
        self._wake = asyncio.Event()

    def add_channel(self, channel: str, deliver: Deliver) -> None:
        self._deliver[channel] = deliver

    def wake(self) -> None:
        self._wake.set()

    def stop(self) -> None:
        self._stopping = True
        self._wake.set()

    async def _due(self, now: dt.datetime) -> list[tuple[int, int]]:
        """(reminder id, user id) of due reminders of active bookings on served channels."""
        async with self._sessions() as session:
            rows = await session.execute(
                select(BookingReminder.id, Booking.user_id)
                .join(Booking, Booking.id == BookingReminder.booking_id)
                .join(User, User.id == Booking.user_id)
                .where(
                    BookingReminder.state == "pending",
                    BookingReminder.due_at <= repo.as_utc(now),
                    (BookingReminder.next_attempt_at.is_(None))
                    | (BookingReminder.next_attempt_at <= repo.as_utc(now)),
                    Booking.status == "active",
                    User.channel.in_(list(self._deliver)),
                )
                .order_by(BookingReminder.due_at, BookingReminder.id)
                .limit(self._batch)
            )
            return [(int(a), int(b)) for a, b in rows.all()]

    async def _claim(self, reminder_id: int, now: dt.datetime) -> bool:
        async with self._sessions() as session, session.begin():
            result = await session.execute(
                update(BookingReminder)
                .where(BookingReminder.id == reminder_id, BookingReminder.state == "pending")
                .values(state="sending", next_attempt_at=repo.as_utc(now))
            )
            return bool(getattr(result, "rowcount", 0))

    async def _settle(self, reminder_id: int, result: DeliveryResult) -> None:
        now = self._clock()
        async with self._sessions() as session, session.begin():
            row = await session.get(BookingReminder, reminder_id)
            if row is None:  # erased meanwhile
                return
            if result is DeliveryResult.DELIVERED:
                row.state, row.sent_at = "sent", repo.as_utc(now)
            elif result is DeliveryResult.RETRY and row.attempts + 1 < self._max_attempts:
                row.attempts += 1
                row.state = "pending"
                backoff = min(5 * 2 ** (row.attempts - 1), 1800)
                row.next_attempt_at = repo.as_utc(now + dt.timedelta(seconds=backoff))
            else:
                row.state = "failed"

    async def _expire_claims(self, now: dt.datetime) -> None:
        async with self._sessions() as session, session.begin():
            await session.execute(
                update(BookingReminder)
                .where(
                    BookingReminder.state == "sending",
                    BookingReminder.next_attempt_at < repo.as_utc(now - self._stale_claim),
                )
                .values(state="unknown")
            )

    async def send_due(self) -> int:
        """One pass: every due reminder claimed and sent; returns how many were delivered."""
        now = self._clock()
        await self._expire_claims(now)
        delivered = 0
        while not self._stopping:
            due = await self._due(now)
            for reminder_id, _user in due:
                if self._stopping:
                    break
                if not await self._claim(reminder_id, now):
                    continue  # another worker has it
                result = await self._send(reminder_id)
                await self._settle(reminder_id, result)
                delivered += int(result is DeliveryResult.DELIVERED)
                if self._pace:
                    await asyncio.sleep(self._pace)  # pacing between sends, not a sync point
            if len(due) < self._batch:
                break
        return delivered

    async def _send(self, reminder_id: int) -> DeliveryResult:
        async with self._sessions() as session:
            row = await session.get(BookingReminder, reminder_id)
            booking = await session.get(Booking, row.booking_id) if row else None
            user = await session.get(User, booking.user_id) if booking else None
        if row is None or booking is None or user is None or booking.status != "active":
            return DeliveryResult.FAILED
        message = render_reminder(self._translator, self._region, user.locale, row.kind, booking)
        try:
            if not await self._frontdesk.notify(user.channel, user.external_id, message):
                return DeliveryResult.FAILED
            result = await self._deliver[user.channel](user.channel, user.external_id, message)
        except Exception as error:  # a channel bug must not stop every later reminder
            logger.error("reminder %s failed: %r", reminder_id, type(error).__name__)
            return DeliveryResult.RETRY
        logger.info("reminder %s (%s) -> user %s: %s", reminder_id, row.kind, user.id, result)
        return result

    async def _next_wait(self) -> float:
        async with self._sessions() as session:
            due = await session.scalar(
                select(BookingReminder.due_at)
                .where(BookingReminder.state == "pending")
                .order_by(BookingReminder.due_at)
                .limit(1)
            )
        if due is None:
            return self._sweep_interval
        seconds = (repo.as_utc(due) - self._clock()).total_seconds()
        return min(self._sweep_interval, max(seconds, 0.0))

    async def run(self) -> None:
        while not self._stopping:
            self._wake.clear()
            wait = self._sweep_interval
            try:
                await self.send_due()
                wait = await self._next_wait()
            except Exception:
                logger.exception("booking reminder pass failed")
            if self._stopping:
                return
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(wait):
                    await self._wake.wait()

    @asynccontextmanager
    async def running(self) -> AsyncIterator[ReminderLoop]:
        task = asyncio.create_task(self.run(), name="loket-booking-reminders")
        try:
            yield self
        finally:
            self.stop()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(asyncio.shield(task), 10.0)
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task


def build_reminders(
    loket: Loket, deliver: Mapping[str, Deliver], **options: object
) -> ReminderLoop:
    return ReminderLoop(
        loket.sessions,
        loket.frontdesk,
        loket.translator,
        loket.region,
        deliver,
        clock=loket.clock,
        **options,  # type: ignore[arg-type]
    )
