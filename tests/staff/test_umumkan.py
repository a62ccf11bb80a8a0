"""/umumkan end to end: python-telegram-bot, the local Bot API, the broadcast service.

Staff compose in their chat; the service (as ``loket run`` wires it) queues and sends; the
citizens' chats on the local server show what arrived. Scheduling runs on a wall clock the
test moves; the service's idle sleep never returns by itself, so it acts only when woken.
"""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import AsyncIterator

import pytest
from sqlalchemy import select

from bot.botapi import LocalBotApi
from bot.broadcast.sender import Report
from bot.settings import Settings
from bot.storage import repo
from bot.storage.models import Announcement, AuditLog
from bot.telegram.channel import CHANNEL
from tests.staff.conftest import STAFF_ID
from tests.telegram.support import TIMEOUT, Citizen, Desk

WANIA, MIMIKA_BARU = "94.04.16", "94.04.01"


class WallClock:
    """Real UTC time plus an offset the test moves forward."""

    def __init__(self) -> None:
        self.offset = dt.timedelta()

    def __call__(self) -> dt.datetime:
        return dt.datetime.now(dt.UTC) + self.offset

    def advance(self, delta: dt.timedelta) -> None:
        self.offset += delta


async def never(_seconds: float) -> None:
    await asyncio.Event().wait()


@pytest.fixture
def wallclock() -> WallClock:
    return WallClock()


@pytest.fixture
async def desk(
    api: LocalBotApi, settings: Settings, agencies: dict[str, str], wallclock: WallClock
) -> AsyncIterator[Desk]:
    running = Desk(api, settings, agencies)
    running.broadcast_options = {
        "wallclock": wallclock,
        "sleep": never,
        "progress_interval": 0.0,
    }
    await running.start()
    try:
        yield running
    finally:
        tracker = running.tracker
        await running.stop()
    assert running.unexpected_errors() == [], running.unexpected_errors()
    assert tracker is not None and tracker.errors == [], tracker.errors


async def subscribe(desk: Desk, citizen: Citizen, district: str, topics: list[str]) -> None:
    await citizen.send("/start")
    assert desk.loket is not None
    async with desk.loket.sessions() as session, session.begin():
        user = await repo.find_user(session, CHANNEL, str(citizen.user_id))
        assert user is not None
        await repo.save_subscription(session, user.id, district, topics)


async def make_staff(admin: Citizen, opd: str = "dinkes") -> None:
    reply = await admin.send(f"/peran beri {STAFF_ID} staf {opd}")
    assert "diberikan" in reply.text


REPORT_TIMEOUT = 30.0  # a whole broadcast, on a machine busy with other tests


async def wait_report(desk: Desk, reference: str) -> Report:
    assert desk.broadcasts is not None
    service = desk.broadcasts.service
    signal = desk.api.bot().signal

    def done() -> bool:
        return any(r.reference == reference for r in service.reports)

    # The report is sent to the author after it is recorded: wait for the server to see it.
    assert await signal.wait_for(done, REPORT_TIMEOUT), f"{reference} did not finish"
    return next(r for r in service.reports if r.reference == reference)


async def reference_of(desk: Desk) -> str:
    assert desk.loket is not None
    async with desk.loket.sessions() as session:
        found = await session.scalar(select(Announcement).order_by(Announcement.id.desc()))
        assert found is not None
        return found.reference


async def schedule(desk: Desk, petugas: Citizen, text: str, when: str) -> str:
    """Staff schedule ``text`` to every subscriber at ``when``; returns its reference."""
    await petugas.send("/umumkan")
    await petugas.send(text)
    await petugas.click("Semua pelanggan")
    await petugas.click("Jadwalkan")
    await petugas.send(when)
    await petugas.click("Ya, jadwalkan")
    return await reference_of(desk)


def announcements_in(citizen: Citizen) -> list[str]:
    return [m.visible_text for m in citizen.bot_messages() if "Kode pengumuman" in m.visible_text]


async def test_staff_announce_to_one_distrik_each_subscriber_gets_it_once(
    desk: Desk, admin: Citizen, petugas: Citizen
) -> None:
    sehat_wania = desk.citizen(6001, "Ana")
    pajak_wania = desk.citizen(6002, "Beni")  # Wania, but only tax news
    sehat_kota = desk.citizen(6003, "Citra")  # health news, another distrik
    semua_wania = desk.citizen(6004, "Dani")
    await subscribe(desk, sehat_wania, WANIA, ["dinkes"])
    await subscribe(desk, pajak_wania, WANIA, ["bapenda"])
    await subscribe(desk, sehat_kota, MIMIKA_BARU, ["dinkes"])
    await subscribe(desk, semua_wania, WANIA, ["dinkes", "bapenda", "jemput_bola"])
    await make_staff(admin)

    reply = await petugas.send("/umumkan")
    assert "Kirim teks pengumuman" in reply.text
    reply = await petugas.send("Imunisasi gratis di Puskesmas Wania, Sabtu pukul 08.00.")
    assert "Kepada siapa?" in reply.text
    reply = await petugas.click("Pilih distrik")
    reply = await petugas.click("Wania")
    assert "Terpilih: Wania" in reply.text
    reply = await petugas.click("Selesai memilih")
    preview, summary = reply.messages
    reference = await reference_of(desk)
    assert preview.visible_text.startswith("Imunisasi gratis di Puskesmas Wania")
    assert f"Kode pengumuman: {reference}" in preview.visible_text
    assert "Jumlah penerima saat ini: 2 warga" in summary.visible_text
    assert "pelanggan Distrik Wania" in summary.visible_text

    reply = await petugas.click("Kirim sekarang")
    assert f"Pengumuman {reference} segera dikirim" in reply.text
    report = await wait_report(desk, reference)
    assert (report.status, report.total, report.sent, report.failed) == ("done", 2, 2, 0)

    # Exactly what the preview showed, once, to the two right citizens only.
    assert announcements_in(sehat_wania) == [preview.visible_text]
    assert announcements_in(semua_wania) == [preview.visible_text]
    assert announcements_in(pajak_wania) == [] and announcements_in(sehat_kota) == []

    await petugas.tracker.signal.wait_for(
        lambda: any("Laporan pengumuman" in m.visible_text for m in petugas.bot_messages()),
        TIMEOUT,
    )
    texts = [m.visible_text for m in petugas.bot_messages()]
    assert any(t.startswith(f"Pengumuman {reference} selesai") for t in texts)  # the live msg
    final = next(t for t in texts if "Laporan pengumuman" in t)
    assert "Terkirim: 2" in final and "Penerima: 2" in final

    assert desk.loket is not None
    async with desk.loket.sessions() as session:
        created = (
            await session.scalars(select(AuditLog).where(AuditLog.action == "announcement.create"))
        ).all()
    assert len(created) == 1 and created[0].detail["reference"] == reference
    assert created[0].detail["segment"]["districts"] == [WANIA]


async def test_citizens_and_other_roles_cannot_announce(
    desk: Desk, admin: Citizen, petugas: Citizen, warga: Citizen
) -> None:
    unknown = await warga.send("/xyz")
    for text in ("/umumkan", "/umumkan daftar", "/UMUMKAN@loket_mimika_bot batal MMK-AAAA"):
        reply = await warga.send(text)
        assert reply.text == unknown.text  # no hint that the command exists
    # A staff member of Dinkes may not address the tax subscribers through a forged topic.
    await make_staff(admin)
    await petugas.send("/umumkan")
    await petugas.send("Info kesehatan.")
    await petugas.click("Semua pelanggan")  # Dinkes has one topic: no topic picker offered
    assert desk.loket is not None
    async with desk.loket.sessions() as session:
        draft = await session.scalar(select(Announcement).where(Announcement.status == "draft"))
        assert draft is not None
    message, _ = petugas.find_button("Kirim sekarang")
    reply, _ = await petugas.press(message.message_id, f"umk:{draft.id}:t:bapenda", check=False)
    assert "tidak berlaku" in reply.text
    # A citizen pressing a staff button (forged) gets the ordinary stale-button answer.
    warga_reply, answer = await warga.press(
        message.message_id, f"umk:{draft.id}:send", check=False
    )
    assert (
        warga_reply.messages == [] and answer.text is not None and "tidak berlaku" in answer.text
    )
    # Revoked meanwhile: now a citizen, their button is a stale one and nothing is sent.
    await admin.send(f"/peran cabut {STAFF_ID} staf dinkes")
    message, data = petugas.find_button("Kirim sekarang")
    reply, answer = await petugas.press(message.message_id, data)
    assert reply.messages == [] and answer.text is not None and "tidak berlaku" in answer.text
    async with desk.loket.sessions() as session:
        statuses = (await session.scalars(select(Announcement.status))).all()
    assert statuses == ["draft"]  # nothing was queued
    # Staff of two OPDs: a revoked OPD's draft is dropped, not sent.
    await admin.send(f"/peran beri {STAFF_ID} staf dinkes")
    await admin.send(f"/peran beri {STAFF_ID} staf bapenda")
    reply = await petugas.send("/umumkan")
    assert "atas nama siapa?" in reply.text
    await petugas.click("Dinkes")
    await petugas.send("Info kesehatan lagi.")
    await petugas.click("Semua pelanggan")
    await admin.send(f"/peran cabut {STAFF_ID} staf dinkes")
    reply = await petugas.click("Kirim sekarang")
    assert "tidak lagi berwenang" in reply.text
    async with desk.loket.sessions() as session:
        statuses = (await session.scalars(select(Announcement.status))).all()
    assert statuses == []  # the draft is gone and nothing was queued


async def test_photo_announcement_and_the_hoax_check(
    desk: Desk, admin: Citizen, petugas: Citizen, warga: Citizen
) -> None:
    await subscribe(desk, warga, WANIA, ["dinkes"])
    await make_staff(admin)
    await petugas.send("/umumkan")
    reply = await petugas.send_photo(caption="Jadwal posyandu bulan Desember.")
    assert "Kepada siapa?" in reply.text
    reply = await petugas.click("Semua pelanggan")
    preview = reply.messages[0]
    assert preview.kind == "photo" and "Jadwal posyandu" in (preview.caption or "")
    await petugas.click("Kirim sekarang")
    reference = await reference_of(desk)
    await wait_report(desk, reference)
    received = [m for m in warga.bot_messages() if m.kind == "photo"]
    assert len(received) == 1 and f"Kode pengumuman: {reference}" in (received[0].caption or "")

    reply = await warga.send(reference.lower().replace("-", " "))
    assert f"Pengumuman {reference} ASLI" in reply.text
    assert "Dinas Kesehatan" in reply.text and "Jadwal posyandu bulan Desember." in reply.text

    reply = await warga.send("MMK-XXXX")
    assert "TIDAK terdaftar" in reply.text

    # A hoax that copies the real code onto another text, forwarded from a group.
    hoax = f"Vaksin berbayar Rp50.000, transfer ke rekening ini.\n\nKode pengumuman: {reference}."
    update = warga.api.forward_text(warga.user_id, hoax)
    await warga.tracker.wait_updates([update["update_id"]])
    assert "BERBEDA dari pengumuman resmi" in warga.bot_messages()[-1].visible_text

    update = warga.api.forward_text(warga.user_id, "Bantuan tunai dari bupati, klik tautan ini!")
    await warga.tracker.wait_updates([update["update_id"]])
    assert "tidak memuat kode pengumuman" in warga.bot_messages()[-1].visible_text

    # The citizen's conversation is untouched by the checks: the menu still works.
    reply = await warga.send("/menu")
    assert reply.buttons


async def test_scheduled_announcement_survives_a_restart_and_goes_out_at_its_time(
    desk: Desk, admin: Citizen, petugas: Citizen, warga: Citizen, wallclock: WallClock
) -> None:
    await subscribe(desk, warga, MIMIKA_BARU, ["dinkes"])
    await make_staff(admin)
    await petugas.send("/umumkan")
    await petugas.send("Fogging DBD di Kwamki Baru besok pagi.")
    await petugas.click("Semua pelanggan")
    reply = await petugas.click("Jadwalkan")
    assert "Kapan dikirim?" in reply.text
    reply = await petugas.send("kemarin sore")
    assert "Waktu tidak dikenali. Contoh yang benar:" in reply.text
    reply = await petugas.send("besok 07:30")
    assert "WIT. Benar?" in reply.text
    reply = await petugas.click("Ya, jadwalkan")
    reference = await reference_of(desk)
    assert f"Pengumuman {reference} dijadwalkan" in reply.text

    await desk.restart()  # a deploy before its time: everything in memory is gone
    assert desk.broadcasts is not None
    desk.broadcasts.service.wake()
    desk.broadcasts.service.wake()
    assert announcements_in(warga) == []  # not before its time

    wallclock.advance(dt.timedelta(days=2))
    desk.broadcasts.service.wake()
    report = await wait_report(desk, reference)
    assert (report.sent, report.total) == (1, 1)
    assert len(announcements_in(warga)) == 1


async def test_berhenti_takes_effect_before_the_next_message(
    desk: Desk, admin: Citizen, petugas: Citizen, warga: Citizen, wallclock: WallClock
) -> None:
    await subscribe(desk, warga, WANIA, ["dinkes"])
    await make_staff(admin)
    reference = await schedule(desk, petugas, "Pengumuman kedua.", "besok 09.00")
    await warga.send("/berhenti")
    wallclock.advance(dt.timedelta(days=2))
    assert desk.broadcasts is not None
    desk.broadcasts.service.wake()
    report = await wait_report(desk, reference)
    assert report.total == 0 and announcements_in(warga) == []


async def test_staff_cancel_a_scheduled_announcement_and_list(
    desk: Desk, admin: Citizen, petugas: Citizen, warga: Citizen
) -> None:
    await subscribe(desk, warga, WANIA, ["dinkes"])
    await make_staff(admin)
    reference = await schedule(desk, petugas, "Akan dibatalkan.", "lusa 10:00")
    reply = await petugas.send("/umumkan daftar")
    assert reference in reply.text and "terjadwal" in reply.text
    reply = await petugas.send(f"/umumkan batal {reference}")
    assert f"Pengumuman {reference} dihentikan" in reply.text
    reply = await petugas.send(f"/umumkan batal {reference}")
    assert "sudah dibatalkan" in reply.text
    reply = await warga.send(reference)
    assert "dibatalkan" in reply.text
    assert desk.loket is not None
    async with desk.loket.sessions() as session:
        actions = (await session.scalars(select(AuditLog.action))).all()
    assert actions.count("announcement.cancel") == 1
