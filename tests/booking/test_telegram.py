"""Booking, reminders, "Masih datang?", cancel and reschedule through the real Telegram path:
Loket on python-telegram-bot against the local Bot API server, real signed button presses,
and a fake clock moved to the reminders' times (no sleeps)."""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack

import pytest
from sqlalchemy import select

from bot.app import Loket, open_loket
from bot.booking.reminders import ReminderLoop, build_reminders
from bot.botapi import BotApiLimits, LocalBotApi
from bot.local import integration_env
from bot.settings import Settings
from bot.storage.models import Booking, BookingReminder
from bot.telegram import callbacks
from bot.telegram.channel import CHANNEL
from bot.telegram.notify import TelegramDeliver
from tests.support.app import FakeClock
from tests.telegram.support import BOT_USERNAME, CALLBACK_SECRET, TOKEN, Citizen, Desk

CITIZEN = 7101
WIT = dt.timezone(dt.timedelta(hours=9))


def wit(day: int, hour: int, minute: int = 0) -> dt.datetime:
    return dt.datetime(2026, 12, day, hour, minute, tzinfo=WIT).astimezone(dt.UTC)


class ClockedDesk(Desk):
    """The Telegram test desk with Loket on a fake clock (the front desk's and the actions')."""

    clock: FakeClock

    async def open_loket(self) -> Loket:
        assert self._stack is None
        self._stack = AsyncExitStack()
        self.loket = await self._stack.enter_async_context(
            open_loket(self.settings, clock=self.clock, integration_env=self.integration_env)
        )
        return self.loket


@pytest.fixture
async def desk(database_url: str) -> AsyncIterator[ClockedDesk]:
    api = LocalBotApi(BotApiLimits.unlimited(), token=TOKEN, username=BOT_USERNAME)
    await api.start()
    settings = Settings(
        database_url=database_url, callback_secret=CALLBACK_SECRET, flood_messages=1000, env={}
    )
    try:
        async with integration_env({}) as agencies:
            running = ClockedDesk(api, settings, dict(agencies))
            running.clock = FakeClock()  # Tuesday 1 December 2026, 10.00 WIT
            await running.start()
            try:
                yield running
            finally:
                await running.stop()
        assert running.unexpected_errors() == [], running.unexpected_errors()
    finally:
        await api.stop()


def reminders_of(desk: ClockedDesk) -> ReminderLoop:
    assert desk.loket is not None and desk.application is not None
    deliver = TelegramDeliver(desk.application.bot, callbacks.derive_key(CALLBACK_SECRET, TOKEN))
    return build_reminders(desk.loket, {CHANNEL: deliver}, pace=0)


async def book_on_telegram(citizen: Citizen, day: str, session: str) -> str:
    await citizen.send("/start")
    reply = await citizen.send("syarat kk baru")
    assert "Ambil nomor antrean" in reply.buttons
    reply = await citizen.click("Ambil nomor antrean")
    assert "Pilih tanggal kedatangan" in reply.text
    reply = await citizen.click(day)
    assert f"Pilih sesi pada {day}" in reply.text
    reply = await citizen.click(session)
    assert "Ambil nomor antrean ini?" in reply.text
    reply = await citizen.click("Ya, ambil nomor")
    assert "Kode booking: ANT-" in reply.text
    return reply.text.split("Kode booking: ", 1)[1].split("\n", 1)[0]


async def bookings(desk: ClockedDesk) -> list[Booking]:
    assert desk.loket is not None
    async with desk.loket.sessions() as session:
        return list((await session.scalars(select(Booking).order_by(Booking.id))).all())


async def test_book_remind_confirm_then_not_coming_frees_the_seat(desk: ClockedDesk) -> None:
    citizen = desk.citizen(CITIZEN, "Yosina")
    code = await book_on_telegram(citizen, "Kamis, 3 Desember 2026", "Pukul 08.00-10.00")
    reminders = reminders_of(desk)
    assert await reminders.send_due() == 0  # nothing is due on the day of booking

    desk.clock.now = wit(2, 17, 0)  # the day before, 17.00 WIT
    mark = citizen.mark()
    assert await reminders.send_due() == 1
    (message,) = citizen.since(mark).messages
    assert message.visible_text.startswith(
        "Pengingat: besok, Kamis, 3 Desember 2026, Anda punya nomor antrean 1 untuk KK baru"
    )
    assert f"Kode booking: {code}." in message.visible_text
    assert "Masih datang?" in message.visible_text
    assert [label for row in message.buttons for label, _ in row] == [
        "Ya, saya datang",
        "Tidak, batalkan",
    ]
    assert await reminders.send_due() == 0  # exactly once
    reply = await citizen.click("Ya, saya datang")
    assert "Sampai jumpa pada Kamis, 3 Desember 2026, sesi pukul 08.00-10.00 WIT" in reply.text

    desk.clock.now = wit(3, 6, 0)  # the morning
    mark = citizen.mark()
    assert await reminders.send_due() == 1
    (morning,) = citizen.since(mark).messages
    assert morning.visible_text.startswith("Hari ini, Kamis, 3 Desember 2026: nomor antrean 1")
    reply = await citizen.click("Tidak, batalkan")
    assert (
        f"nomor antrean {code} (KK baru / pisah KK, Kamis, 3 Desember 2026) kami batalkan"
        in reply.text
    )
    (row,) = await bookings(desk)
    assert (row.status, row.slot, row.active_user) == ("cancelled", None, None)
    # The seat is free again for another citizen, who gets number 1.
    other = desk.citizen(CITIZEN + 1, "Markus")
    desk.clock.now = wit(3, 7, 0)
    await book_on_telegram(other, "Kamis, 3 Desember 2026", "Pukul 08.00-10.00")
    assert "Nomor antrean: 1" in other.last_reply().text


async def test_reschedule_moves_the_reminders_and_cancel_stops_them(desk: ClockedDesk) -> None:
    citizen = desk.citizen(CITIZEN, "Yosina")
    await book_on_telegram(citizen, "Kamis, 3 Desember 2026", "Pukul 10.00-12.00")
    reply = await citizen.send("ubah jadwal antrean")
    assert "Nomor antrean Anda:" in reply.text
    reply = await citizen.click("KK baru / pisah KK, Kamis, 3 Desember 2026")
    assert "Anda sudah punya nomor antrean KK baru" in reply.text
    await citizen.click("Ubah jadwal")
    await citizen.click("Senin, 7 Desember 2026")
    await citizen.click("Pukul 08.00-10.00")
    reply = await citizen.click("Ya, ambil nomor")
    assert "Jadwal lama Anda (Kamis, 3 Desember 2026, sesi pukul 10.00-12.00 WIT)" in reply.text
    assert "Tanggal: Senin, 7 Desember 2026, sesi pukul 08.00-10.00 WIT" in reply.text

    reminders = reminders_of(desk)
    desk.clock.now = wit(3, 6, 30)  # the old date's morning: nothing any more
    mark = citizen.mark()
    assert await reminders.send_due() == 0
    assert not citizen.since(mark).messages

    reply = await citizen.send("batal antrean")
    await citizen.click("KK baru / pisah KK, Senin, 7 Desember 2026")
    reply = await citizen.click("Batalkan nomor antrean")
    assert "sudah dibatalkan" in reply.text
    desk.clock.now = wit(7, 6, 30)
    assert await reminders.send_due() == 0
    assert desk.loket is not None
    async with desk.loket.sessions() as session:
        states = sorted((await session.scalars(select(BookingReminder.state))).all())
    assert states == ["skipped"] * 4


async def test_two_loops_on_one_database_send_each_reminder_once(desk: ClockedDesk) -> None:
    """Two workers' reminder loops: the claim lets only one of them send a due reminder."""
    citizen = desk.citizen(CITIZEN, "Yosina")
    await book_on_telegram(citizen, "Rabu, 2 Desember 2026", "Pukul 08.00-10.00")
    first, second = reminders_of(desk), reminders_of(desk)
    desk.clock.now = wit(1, 17, 0)
    mark = citizen.mark()
    sent = await asyncio.gather(first.send_due(), second.send_due())
    assert sorted(sent) == [0, 1]
    assert len(citizen.since(mark).messages) == 1


async def test_not_coming_under_one_of_two_reminders_cancels_that_visit_only(
    desk: ClockedDesk,
) -> None:
    """Two visits the same day (KK and KTP-el), two reminders: "Tidak, batalkan" under the
    first reminder cancels the KK visit, whichever reminder went out last."""
    citizen = desk.citizen(CITIZEN, "Yosina")
    kk = await book_on_telegram(citizen, "Kamis, 3 Desember 2026", "Pukul 08.00-10.00")
    reply = await citizen.send("syarat ktp baru")
    reply = await citizen.click("Ambil nomor antrean")
    reply = await citizen.click("Kamis, 3 Desember 2026")
    reply = await citizen.click("Pukul 08.00-10.00")
    reply = await citizen.click("Ya, ambil nomor")
    ktp = reply.text.split("Kode booking: ", 1)[1].split("\n", 1)[0]
    assert kk != ktp

    desk.clock.now = wit(2, 17, 0)  # the day before: both reminders
    mark = citizen.mark()
    assert await reminders_of(desk).send_due() == 2
    sent = citizen.since(mark).messages
    first = next(m for m in sent if kk in m.visible_text)
    data = next(d for row in first.buttons for label, d in row if label == "Tidak, batalkan")
    assert data is not None
    reply, _answer = await citizen.press(first.message_id, data)
    assert f"nomor antrean {kk}" in reply.text
    by_code = {row.code: row.status for row in await bookings(desk)}
    assert by_code == {kk: "cancelled", ktp: "active"}
