"""Taking, moving and freeing queue slots in the database, safely under concurrency.

A booking is one short transaction of its own (actions run between the front desk's
transactions, so nothing else is held meanwhile):

1. the session's row in ``booking_sessions`` is created if missing and locked
   (``SELECT ... FOR UPDATE``; PostgreSQL waits here, on every worker; SQLite's
   ``BEGIN IMMEDIATE`` has already serialised writers);
2. the seats held in that session are read and the smallest free one taken;
3. the booking row is inserted, its reminders planned.

The unique constraints back this up whatever happens: (office, service, day, session, slot)
makes a double-booked seat impossible and (active_user, service) a second active booking of
the same service; a violation (which the lock makes rare) is retried, then answered.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import enum
import secrets
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from sqlalchemy import and_, func, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.booking.quota import ServiceQueue, Taken, free_sessions
from bot.storage.models import Booking, BookingReminder, BookingSession

HOLDING = ("active", "checked_in", "no_show")  # a seat stays taken once the day is served
CODE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O or 1/I: read out at the counter
DAY_BEFORE_AT = dt.time(17, 0)  # WIT: after work, time to prepare documents or cancel
MORNING_AT = dt.time(6, 0)  # WIT: before the first session (08.00)
CONFIRM_AT = dt.time(9, 0)  # WIT, three days ahead, for citizens with repeated no-shows
REPEATED_NO_SHOWS = 2
ATTEMPTS = 8


def new_code() -> str:
    """``ANT-7K3QXM``: a booking code a citizen can show or read out at the counter."""
    return "ANT-" + "".join(secrets.choice(CODE_ALPHABET) for _ in range(6))


class Outcome(enum.StrEnum):
    BOOKED = "booked"
    FULL = "full"  # the session's last seat went to someone else
    ALREADY = "already"  # the citizen already holds an active booking of this service
    CLOSED = "closed"  # not bookable (closed day, outside the window, session started)


@dataclass(frozen=True, slots=True)
class BookResult:
    outcome: Outcome
    booking: Booking | None = None  # the new booking (BOOKED) or the one held (ALREADY)
    replaced: Booking | None = None  # the booking a reschedule cancelled


async def taken_counts(
    session: AsyncSession, office: str, service: str, start: dt.date, end: dt.date
) -> Taken:
    """Seats held per (day, session) between ``start`` and ``end`` inclusive."""
    rows = await session.execute(
        select(Booking.day, Booking.session, func.count())
        .where(
            Booking.office == office,
            Booking.service == service,
            Booking.day >= start,
            Booking.day <= end,
            Booking.slot.is_not(None),
        )
        .group_by(Booking.day, Booking.session)
    )
    return {(day, key): int(count) for day, key, count in rows.all()}


async def active_booking(session: AsyncSession, user_id: int, service: str) -> Booking | None:
    return await session.scalar(
        select(Booking).where(Booking.active_user == user_id, Booking.service == service)
    )


async def active_bookings(session: AsyncSession, user_id: int) -> Sequence[Booking]:
    rows = await session.scalars(
        select(Booking)
        .where(Booking.active_user == user_id)
        .order_by(Booking.day, Booking.session, Booking.id)
    )
    return rows.all()


async def _lock_session(session: AsyncSession, key: dict[str, object]) -> None:
    insert = pg_insert if session.bind.dialect.name == "postgresql" else sqlite_insert
    await session.execute(insert(BookingSession).values(**key).on_conflict_do_nothing())
    await session.execute(
        select(BookingSession)
        .where(*(getattr(BookingSession, name) == value for name, value in key.items()))
        .with_for_update()
    )


def _release(booking: Booking, status: str, now: dt.datetime) -> None:
    booking.status = status
    booking.slot = None
    booking.active_user = None
    booking.updated_at = now.astimezone(dt.UTC)


async def _skip_reminders(session: AsyncSession, booking_id: int) -> None:
    await session.execute(
        update(BookingReminder)
        .where(BookingReminder.booking_id == booking_id, BookingReminder.state == "pending")
        .values(state="skipped")
    )


def _plan_reminders(
    booking: Booking, now: dt.datetime, *, confirm_early: bool = False
) -> list[BookingReminder]:
    """The day before at 17.00 and the morning at 06.00 (WIT), those still ahead; a citizen
    whose numbers went unused before is also asked three days ahead (``confirm``)."""
    tz = now.tzinfo
    due = {
        "day_before": dt.datetime.combine(booking.day - dt.timedelta(days=1), DAY_BEFORE_AT, tz),
        "morning": dt.datetime.combine(booking.day, MORNING_AT, tz),
    }
    if confirm_early:
        early = dt.datetime.combine(booking.day - dt.timedelta(days=3), CONFIRM_AT, tz)
        due["confirm"] = early
    return [
        BookingReminder(booking_id=booking.id, kind=kind, due_at=at.astimezone(dt.UTC))
        for kind, at in due.items()
        if at > now
    ]


async def _book_once(
    session: AsyncSession,
    *,
    user_id: int,
    queue: ServiceQueue,
    day: dt.date,
    session_key: str,
    now: dt.datetime,
    holidays: frozenset[dt.date],
    reschedule: bool,
    title: str,
    bring: str,
    code: str,
) -> BookResult:
    current = await active_booking(session, user_id, queue.service)
    if current is not None and not reschedule:
        return BookResult(Outcome.ALREADY, current)
    seat = queue.session(session_key)
    bookable = [free.session for free in free_sessions(queue, day, now, holidays, {})]
    if seat is None or seat not in bookable:  # closed, outside the window, or started
        return BookResult(Outcome.CLOSED)
    key = {"office": queue.office, "service": queue.service, "day": day, "session": seat.key}
    await _lock_session(session, key)
    held = set(
        (
            await session.scalars(
                select(Booking.slot).where(
                    and_(*(getattr(Booking, name) == value for name, value in key.items())),
                    Booking.slot.is_not(None),
                )
            )
        ).all()
    )
    if current is not None and (current.day, current.session) == (day, seat.key):
        held.discard(current.slot)  # moving within the same session frees one's own seat
    if len(held) >= seat.quota:
        return BookResult(Outcome.FULL)
    slot = next(n for n in range(1, seat.quota + 1) if n not in held)
    if current is not None:
        _release(current, "cancelled", now)
        await _skip_reminders(session, current.id)
        await session.flush()  # frees the seat and the "one active" key before the insert
    booking = Booking(
        code=code,
        title=title[:120],
        bring=bring or (current.bring if current is not None else None),
        user_id=user_id,
        active_user=user_id,
        number=slot,
        slot=slot,
        status="active",
        created_at=now.astimezone(dt.UTC),
        updated_at=now.astimezone(dt.UTC),
        **key,
    )
    session.add(booking)
    await session.flush()
    repeated = await no_show_count(session, user_id) >= REPEATED_NO_SHOWS
    session.add_all(_plan_reminders(booking, now, confirm_early=repeated))
    return BookResult(Outcome.BOOKED, booking, current)


async def book(
    sessions: async_sessionmaker[AsyncSession],
    *,
    user_id: int,
    queue: ServiceQueue,
    day: dt.date,
    session_key: str,
    now: dt.datetime,
    holidays: frozenset[dt.date],
    reschedule: bool = False,
    title: str = "",
    bring: str = "",
    code_factory: Callable[[], str] = new_code,
) -> BookResult:
    """Takes a seat in ``session_key`` of ``day`` for the citizen (``now`` in WIT).

    With ``reschedule`` the citizen's active booking of the service is cancelled in the same
    transaction, so a citizen moving to a full session keeps the old seat.
    """
    for attempt in range(1, ATTEMPTS + 1):
        try:
            async with sessions() as session, session.begin():
                return await _book_once(
                    session,
                    user_id=user_id,
                    queue=queue,
                    day=day,
                    session_key=session_key,
                    now=now,
                    holidays=holidays,
                    reschedule=reschedule,
                    title=title or queue.service,
                    bring=bring,
                    code=code_factory(),
                )
        except (IntegrityError, OperationalError):
            # A code collision, or a race the lock did not cover (a second active booking
            # pressed on two devices at once): look again in a new transaction.
            if attempt == ATTEMPTS:
                raise
            await asyncio.sleep(0.01 * attempt)
    raise AssertionError("unreachable")


async def cancel(
    sessions: async_sessionmaker[AsyncSession], user_id: int, service: str, now: dt.datetime
) -> Booking | None:
    """Cancels the citizen's active booking of ``service``; the seat is free at once."""
    async with sessions() as session, session.begin():
        booking = await active_booking(session, user_id, service)
        if booking is None:
            return None
        _release(booking, "cancelled", now)
        await _skip_reminders(session, booking.id)
        return booking


async def check_in(
    sessions: async_sessionmaker[AsyncSession], office: str, code: str, now: dt.datetime
) -> tuple[str, Booking | None]:
    """The counter checks a citizen in by code: ``ok``, ``unknown``, ``other_day`` or the
    booking's status when it is not active (``checked_in``, ``cancelled``...)."""
    code = code.strip().upper()
    if code and not code.startswith("ANT-"):
        code = "ANT-" + code.removeprefix("ANT").strip(" -")
    async with sessions() as session, session.begin():
        booking = await session.scalar(
            select(Booking).where(Booking.code == code, Booking.office == office)
        )
        if booking is None:
            return "unknown", None
        if booking.status != "active":
            return booking.status, booking
        if booking.day != now.date():
            return "other_day", booking
        booking.status = "checked_in"
        booking.active_user = None  # served: the citizen may book this service again
        booking.updated_at = now.astimezone(dt.UTC)
        return "ok", booking


async def mark_no_show(
    sessions: async_sessionmaker[AsyncSession], booking_id: int, now: dt.datetime
) -> bool:
    """An officer marks a booking of today or earlier as not come (the seat stays used)."""
    async with sessions() as session, session.begin():
        booking = await session.get(Booking, booking_id)
        if booking is None or booking.status != "active" or booking.day > now.date():
            return False
        booking.status = "no_show"
        booking.active_user = None
        booking.updated_at = now.astimezone(dt.UTC)
        await _skip_reminders(session, booking.id)
        return True


async def day_list(session: AsyncSession, office: str, day: dt.date) -> Sequence[Booking]:
    """The day's bookings at an office, by session and queue number (the officer's list)."""
    rows = await session.scalars(
        select(Booking)
        .where(Booking.office == office, Booking.day == day, Booking.status != "cancelled")
        .order_by(Booking.session, Booking.service, Booking.number)
    )
    return rows.all()


async def no_show_count(session: AsyncSession, user_id: int) -> int:
    return int(
        await session.scalar(
            select(func.count())
            .select_from(Booking)
            .where(Booking.user_id == user_id, Booking.status == "no_show")
        )
        or 0
    )
