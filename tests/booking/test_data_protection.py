"""Bookings are personal data: in `loket export-user`, erased by /hapusdata, kept no longer
than RETENTION_DAYS after the visit (but a citizen with a number still to use is kept)."""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator

import pytest
from sqlalchemy import func, select

from bot.app import Loket
from bot.export import export_user
from bot.retention import apply_retention
from bot.storage.models import Booking, BookingReminder, BookingSession
from tests.support.app import FakeClock, running_loket
from tests.support.conversation import Conversation


@pytest.fixture
async def app(database_url: str) -> AsyncIterator[Loket]:
    async with running_loket(database_url, clock=FakeClock(), sandbox=False) as loket:
        yield loket


async def book(chat: Conversation, day: str = "Kamis, 3 Desember 2026") -> None:
    await chat.send("syarat kk baru")
    await chat.click("Ambil nomor antrean")
    await chat.click(day)
    await chat.click("Pukul 08.00-10.00")
    await chat.click("Ya, ambil nomor")
    assert "Kode booking: ANT-" in chat.last_text


async def count(app: Loket, table: type) -> int:
    async with app.sessions() as session:
        return int(await session.scalar(select(func.count()).select_from(table)) or 0)


async def test_export_erase_and_retention(app: Loket) -> None:
    mine, theirs = Conversation(app, channel="telegram"), Conversation(app, channel="telegram")
    await book(mine)
    await book(theirs)
    export = await export_user(app.sessions, "telegram", mine.user)
    assert export is not None
    (row,) = export["tables"]["bookings"]
    assert row["user_id"] == await mine.user_id()
    assert row["day"] == "2026-12-03" and row["status"] == "active"
    assert row["code"].startswith("ANT-")
    kinds = sorted(r["kind"] for r in export["tables"]["booking_reminders"])
    assert kinds == ["day_before", "morning"]

    await mine.command("hapusdata")
    await mine.click("Ya, hapus")
    assert await count(app, Booking) == 1  # theirs
    assert await count(app, BookingReminder) == 2
    assert await export_user(app.sessions, "telegram", mine.user) is None

    # 90 days after the visit the booking goes; the citizen, silent since, with it.
    later = dt.datetime(2027, 3, 5, tzinfo=dt.UTC)
    report = await apply_retention(app.sessions, now=later, days=90)
    assert report.bookings == 1
    assert await count(app, Booking) == 0
    assert await count(app, BookingReminder) == 0
    assert await count(app, BookingSession) == 0


async def test_a_citizen_with_a_number_to_use_is_not_dormant(app: Loket) -> None:
    chat = Conversation(app, channel="telegram")
    await book(chat, "Kamis, 10 Desember 2026")
    # Silent for 8 days with a 1-day retention period: the number is still ahead.
    report = await apply_retention(
        app.sessions, now=dt.datetime(2026, 12, 9, tzinfo=dt.UTC), days=1
    )
    assert report.users_erased == 0
    assert report.bookings == 0
    assert await count(app, Booking) == 1
