"""The citizen's booking conversation through the real front desk, on a fixed clock.

Tuesday 1 December 2026, 10.00 WIT (the project's test start). The Disdukcapil queues of
regions/mimika.yaml: KK baru has two sessions of 10 a weekday.
"""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy import select

from bot.app import Loket
from bot.storage.models import Booking
from tests.support.app import FakeClock, running_loket
from tests.support.conversation import Conversation


@pytest.fixture
async def app(database_url: str) -> AsyncIterator[Loket]:
    async with running_loket(database_url, clock=FakeClock(), sandbox=False) as loket:
        yield loket


async def _to_dates(chat: Conversation, question: str = "syarat kk baru") -> None:
    await chat.send(question)
    await chat.click("Ambil nomor antrean")


async def test_dates_are_a_week_of_open_days_in_wit_then_next_week(app: Loket) -> None:
    chat = Conversation(app)
    await _to_dates(chat)
    assert "Pilih tanggal kedatangan untuk KK baru" in chat.last_text
    dates = [b for b in chat.buttons if "2026" in b]
    # Today 10.00 WIT: the 08.00 and 10.00 sessions have started, so today is not offered.
    assert dates == [
        "Rabu, 2 Desember 2026",
        "Kamis, 3 Desember 2026",
        "Jumat, 4 Desember 2026",
        "Senin, 7 Desember 2026",
        "Selasa, 8 Desember 2026",
        "Rabu, 9 Desember 2026",
        "Kamis, 10 Desember 2026",
    ]
    await chat.click("Minggu berikutnya")
    later = [b for b in chat.buttons if "2026" in b]
    assert later[0] == "Jumat, 11 Desember 2026"
    assert len(later) == 7
    await chat.click("Minggu berikutnya")
    after = [b.split(" 2026")[0] for b in chat.buttons if "2026" in b]
    # 24 and 25 December are holidays; the 30-day window ends on 31 December: no more pages.
    assert after == [
        "Selasa, 22 Desember",
        "Rabu, 23 Desember",
        "Senin, 28 Desember",
        "Selasa, 29 Desember",
        "Rabu, 30 Desember",
        "Kamis, 31 Desember",
    ]
    assert "Minggu berikutnya" not in chat.buttons


async def test_book_then_reschedule_then_cancel(app: Loket) -> None:
    chat = Conversation(app)
    await _to_dates(chat)
    await chat.click("Kamis, 3 Desember 2026")
    assert "Pilih sesi pada Kamis, 3 Desember 2026" in chat.last_text
    assert chat.buttons[:2] == ["Pukul 08.00-10.00", "Pukul 10.00-12.00"]
    assert "Pukul 08.00-10.00: sisa 10 nomor" in chat.last_text
    await chat.click("Pukul 10.00-12.00")
    assert "Sesi: pukul 10.00-12.00 WIT" in chat.last_text
    await chat.click("Ya, ambil nomor")
    text = chat.last_text
    assert "Kode booking: ANT-" in text
    assert "Nomor antrean: 1" in text
    assert "Tanggal: Kamis, 3 Desember 2026, sesi pukul 10.00-12.00 WIT" in text
    assert "Jl. Cenderawasih" in text
    assert "Yang perlu dibawa:\n•" in text
    # A second booking of the same service is refused: one at a time.
    await _to_dates(chat)
    assert "Anda sudah punya nomor antrean KK baru" in chat.last_text
    await chat.click("Ubah jadwal")
    await chat.click("Jumat, 4 Desember 2026")
    await chat.click("Pukul 08.00-10.00")
    await chat.click("Ya, ambil nomor")
    assert (
        "Jadwal lama Anda (Kamis, 3 Desember 2026, sesi pukul 10.00-12.00 WIT)" in chat.last_text
    )
    assert "Tanggal: Jumat, 4 Desember 2026" in chat.last_text
    async with app.sessions() as session:
        rows = (await session.scalars(select(Booking).order_by(Booking.id))).all()
    assert [(r.day, r.status) for r in rows] == [
        (dt.date(2026, 12, 3), "cancelled"),
        (dt.date(2026, 12, 4), "active"),
    ]
    await chat.send("batal antrean")
    assert "Nomor antrean Anda:" in chat.last_text
    await chat.click(next(b for b in chat.buttons if b.startswith("KK baru")))
    await chat.click("Batalkan nomor antrean")
    assert "sudah dibatalkan" in chat.last_text
    async with app.sessions() as session:
        assert await session.scalar(select(Booking).where(Booking.status == "active")) is None


async def test_two_citizens_pressing_for_the_last_seat(app: Loket) -> None:
    """Nine seats of the 08.00 session are taken; two citizens confirm at the same moment."""
    fillers = [Conversation(app) for _ in range(9)]
    for filler in fillers:
        await _to_dates(filler)
        await filler.click(next(b for b in filler.buttons if b.startswith("Rabu, 2 Desember")))
        await filler.click(next(b for b in filler.buttons if b.startswith("Pukul 08.00")))
        await filler.click("Ya, ambil nomor")
    racers = [Conversation(app) for _ in range(2)]
    for racer in racers:
        await _to_dates(racer)
        await racer.click("Rabu, 2 Desember 2026")
        await racer.click("Pukul 08.00-10.00")
    await asyncio.gather(*(racer.click("Ya, ambil nomor") for racer in racers))
    texts = sorted((racer.last_text for racer in racers), key=lambda t: "penuh" in t)
    assert "Nomor antrean: 10" in texts[0]
    assert "Maaf, kuota sesi itu baru saja penuh" in texts[1]
    # The next free date is named: the 10.00 session of the same day still has seats.
    assert "Tanggal terdekat yang masih ada kuotanya: Rabu, 2 Desember 2026" in texts[1]
    loser = next(r for r in racers if "penuh" in r.last_text)
    await loser.click("Pilih tanggal lain")
    await loser.click("Rabu, 2 Desember 2026")
    assert "Pukul 08.00-10.00" not in loser.buttons
    assert "Pukul 10.00-12.00: sisa 10 nomor" in loser.last_text


async def test_english_dates_and_a_service_without_queue(app: Loket) -> None:
    chat = Conversation(app, locale="en")
    await chat.send("requirements for a new family card")
    if "Ambil nomor antrean" in " ".join(chat.buttons):
        pytest.fail("the button must be translated")
    await chat.click("Get a queue number")
    assert "Wednesday, 2 December 2026" in chat.buttons
    assert "Next week" in chat.buttons
    other = Conversation(app)
    await other.send("syarat akta kematian")
    assert "Ambil nomor antrean" not in other.buttons


def test_the_clock_is_the_only_source_of_today(tmp_path: Path) -> None:
    """Nothing in bot/booking reads the wall clock: "today" comes from the injected clock."""
    source = "\n".join(p.read_text(encoding="utf-8") for p in Path("bot/booking").glob("*.py"))
    for forbidden in (
        "datetime.now(",
        "date.today(",
        "dt.datetime.now(",
        "dt.date.today(",
        "time.time(",
    ):
        assert forbidden not in source
