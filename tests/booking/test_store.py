"""The booking store on SQLite and PostgreSQL: the last seat goes to exactly one citizen."""

from __future__ import annotations

import asyncio
import datetime as dt

from sqlalchemy import delete, func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.booking import store
from bot.booking.quota import QueueSession, ServiceQueue
from bot.storage import repo
from bot.storage.db import make_engine, sessions
from bot.storage.models import Booking, BookingReminder, User
from tests.booking.conftest import add_citizens

WIT = dt.timezone(dt.timedelta(hours=9))
NOW = dt.datetime(2026, 12, 7, 7, 0, tzinfo=WIT)  # a Monday, 07.00 WIT
TUESDAY = dt.date(2026, 12, 8)
QUEUE = ServiceQueue(
    office="disdukcapil",
    service="disdukcapil.kk_baru",
    days=frozenset({"mon", "tue", "wed", "thu", "fri"}),
    sessions=(
        QueueSession(dt.time(8), dt.time(10), 20),
        QueueSession(dt.time(10), dt.time(12), 2),
    ),
)


async def _book(factory, user_id: int, **kw):  # type: ignore[no-untyped-def]
    args = {"queue": QUEUE, "day": TUESDAY, "session_key": "08:00-10:00", "now": NOW}
    args.update(kw)
    return await store.book(factory, user_id=user_id, holidays=frozenset(), **args)


async def test_200_citizens_racing_for_20_seats_get_exactly_20_bookings(
    engine: AsyncEngine, database_url: str
) -> None:
    """Two connection pools (two workers' engines) on one database; on PostgreSQL the
    session row lock serialises them, on SQLite BEGIN IMMEDIATE does."""
    users = await add_citizens(engine, 200)
    second = make_engine(database_url)
    try:
        pools = [sessions(engine), sessions(second)]
        results = await asyncio.gather(
            *(_book(pools[i % 2], user_id) for i, user_id in enumerate(users))
        )
    finally:
        await second.dispose()
    outcomes = [r.outcome for r in results]
    assert outcomes.count(store.Outcome.BOOKED) == 20
    assert outcomes.count(store.Outcome.FULL) == 180
    async with sessions(engine)() as session:
        rows = (await session.scalars(select(Booking))).all()
    assert sorted(r.number for r in rows) == list(range(1, 21))
    assert len({r.user_id for r in rows}) == 20
    assert len({r.code for r in rows}) == 20


async def test_one_active_booking_per_service_and_reschedule_moves_it(engine: AsyncEngine) -> None:
    (user,) = await add_citizens(engine, 1)
    factory = sessions(engine)
    first = await _book(factory, user)
    assert first.outcome is store.Outcome.BOOKED
    again = await _book(factory, user, session_key="10:00-12:00")
    assert again.outcome is store.Outcome.ALREADY
    assert again.booking is not None and again.booking.code == first.booking.code
    moved = await _book(factory, user, session_key="10:00-12:00", reschedule=True)
    assert moved.outcome is store.Outcome.BOOKED
    assert moved.replaced is not None and moved.replaced.code == first.booking.code
    async with factory() as session:
        rows = {r.code: r for r in (await session.scalars(select(Booking))).all()}
        reminders = (await session.scalars(select(BookingReminder))).all()
    assert rows[first.booking.code].status == "cancelled"
    assert rows[first.booking.code].slot is None
    assert rows[moved.booking.code].session == "10:00-12:00"
    # The old booking's reminders are skipped, the new one has its own two.
    states = sorted((r.booking_id == moved.booking.id, r.kind, r.state) for r in reminders)
    assert states == [
        (False, "day_before", "skipped"),
        (False, "morning", "skipped"),
        (True, "day_before", "pending"),
        (True, "morning", "pending"),
    ]


async def test_a_cancelled_seat_is_free_again_and_a_full_move_keeps_the_old_seat(
    engine: AsyncEngine,
) -> None:
    a, b, c = await add_citizens(engine, 3)
    factory = sessions(engine)
    assert (await _book(factory, a, session_key="10:00-12:00")).outcome is store.Outcome.BOOKED
    assert (await _book(factory, b, session_key="10:00-12:00")).outcome is store.Outcome.BOOKED
    assert (await _book(factory, c, session_key="10:00-12:00")).outcome is store.Outcome.FULL
    early = await _book(factory, c)
    assert early.outcome is store.Outcome.BOOKED
    # c cannot move into the full session: the early seat stays theirs.
    blocked = await _book(factory, c, session_key="10:00-12:00", reschedule=True)
    assert blocked.outcome is store.Outcome.FULL
    async with factory() as session:
        assert (await store.active_booking(session, c, QUEUE.service)).code == early.booking.code
    cancelled = await store.cancel(factory, a, QUEUE.service, NOW)
    assert cancelled is not None and cancelled.status == "cancelled"
    moved = await _book(factory, c, session_key="10:00-12:00", reschedule=True)
    assert moved.outcome is store.Outcome.BOOKED
    assert moved.booking.number == 1  # a's freed seat


async def test_closed_days_started_sessions_and_the_window_are_refused(
    engine: AsyncEngine,
) -> None:
    (user,) = await add_citizens(engine, 1)
    factory = sessions(engine)
    saturday = dt.date(2026, 12, 12)
    assert (await _book(factory, user, day=saturday)).outcome is store.Outcome.CLOSED
    late = NOW.replace(hour=8, minute=30)
    assert (await _book(factory, user, day=NOW.date(), now=late)).outcome is store.Outcome.CLOSED
    far = NOW.date() + dt.timedelta(days=45)
    assert (await _book(factory, user, day=far)).outcome is store.Outcome.CLOSED
    holiday = await store.book(
        factory,
        user_id=user,
        queue=QUEUE,
        day=TUESDAY,
        session_key="08:00-10:00",
        now=NOW,
        holidays=frozenset({TUESDAY}),
    )
    assert holiday.outcome is store.Outcome.CLOSED
    async with factory() as session:
        assert await session.scalar(select(func.count()).select_from(Booking)) == 0


async def test_check_in_no_show_and_erasure(engine: AsyncEngine) -> None:
    a, b = await add_citizens(engine, 2)
    factory = sessions(engine)
    booked = await _book(factory, a)
    other = await _book(factory, b)
    assert (await store.check_in(factory, "disdukcapil", booked.booking.code, NOW))[
        0
    ] == "other_day"
    on_the_day = NOW.replace(day=8, hour=8, minute=5)
    code = booked.booking.code.removeprefix("ANT-").lower()
    assert (await store.check_in(factory, "disdukcapil", code, on_the_day))[0] == "ok"
    assert (await store.check_in(factory, "disdukcapil", code, on_the_day))[0] == "checked_in"
    assert (await store.check_in(factory, "bapenda", code, on_the_day))[0] == "unknown"
    assert not await store.mark_no_show(factory, other.booking.id, NOW)  # not yet the day
    assert await store.mark_no_show(factory, other.booking.id, on_the_day)
    async with factory() as session:
        assert await store.no_show_count(session, b) == 1
        listed = await store.day_list(session, "disdukcapil", TUESDAY)
    assert [r.status for r in listed] == ["checked_in", "no_show"]
    async with factory() as session, session.begin():
        await session.execute(delete(User).where(User.id == a))
    async with factory() as session:
        left = (await session.scalars(select(Booking.user_id))).all()
        reminders = await session.scalar(
            select(func.count())
            .select_from(BookingReminder)
            .where(BookingReminder.booking_id == booked.booking.id)
        )
    assert left == [b]
    assert reminders == 0


async def test_repeated_no_shows_are_asked_to_confirm_three_days_ahead(
    engine: AsyncEngine,
) -> None:
    (user,) = await add_citizens(engine, 1)
    factory = sessions(engine)
    for day in (dt.date(2026, 12, 8), dt.date(2026, 12, 9)):
        before = dt.datetime.combine(day - dt.timedelta(days=1), dt.time(7), WIT)
        booked = await _book(factory, user, day=day, now=before)
        assert booked.outcome is store.Outcome.BOOKED
        on_the_day = dt.datetime.combine(day, dt.time(11), WIT)
        assert await store.mark_no_show(factory, booked.booking.id, on_the_day)
    later = await _book(
        factory, user, day=dt.date(2026, 12, 21), now=dt.datetime(2026, 12, 9, 12, tzinfo=WIT)
    )
    assert later.outcome is store.Outcome.BOOKED
    async with factory() as session:
        planned = (
            await session.scalars(
                select(BookingReminder).where(BookingReminder.booking_id == later.booking.id)
            )
        ).all()
    due = {r.kind: repo.as_utc(r.due_at).astimezone(WIT) for r in planned}
    assert due == {
        "confirm": dt.datetime(2026, 12, 18, 9, tzinfo=WIT),
        "day_before": dt.datetime(2026, 12, 20, 17, tzinfo=WIT),
        "morning": dt.datetime(2026, 12, 21, 6, tzinfo=WIT),
    }
