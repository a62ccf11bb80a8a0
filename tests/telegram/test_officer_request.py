"""Officer requests and "cek pengaduan" through PTB and the local Bot API with Telegram's
limits on (issue 12, item 11): the request asks the question and how to reach the citizen
before it gives a reference; a reference the same citizen got earlier is answered with its
status, while another citizen asking about it learns nothing."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from bot.botapi import BotApiLimits
from bot.core_actions import find_reference
from bot.storage.models import CitizenRequest
from tests.telegram.support import Citizen, Desk


@pytest.fixture
def limits() -> BotApiLimits:
    """Telegram's limits as they are: 30/s per bot, 1/s per chat with a burst of 3."""
    return BotApiLimits()


async def test_the_officer_request_asks_the_question_and_the_contact_first(
    desk: Desk, warga: Citizen
) -> None:
    await warga.send("mau bicara dengan petugas")
    reply = await warga.click("Kependudukan (Disdukcapil)")
    assert "Tulis pertanyaan Anda" in reply.text
    assert "Nomor referensi" not in reply.text
    reply = await warga.send("Nama ibu di akta anak saya salah tulis, bagaimana membetulkannya?")
    assert "Bagaimana petugas sebaiknya menghubungi Anda?" in reply.text
    assert reply.choice_buttons == ["Balas di chat ini", "Telepon saya", "WhatsApp"]
    reply = await warga.click("Telepon saya")
    assert "0812-3456-7890" in reply.text
    reply = await warga.send("0812 345")
    assert "yang Anda kirim 7 angka" in reply.text and "0812-3456-7890" in reply.text
    reply = await warga.send("0812 3456 7890")
    assert "Nomor referensi: LKT-" in reply.text
    assert "jam kerja" in reply.text and "WIT" in reply.text
    assert "menelepon Anda" in reply.text
    reference = find_reference(reply.text)
    assert reference is not None

    assert desk.loket is not None
    async with desk.loket.sessions() as session:
        row = await session.scalar(
            select(CitizenRequest).where(CitizenRequest.reference == reference)
        )
    assert row is not None
    assert (row.kind, row.opd, row.contact, row.phone) == (
        "request",
        "disdukcapil",
        "phone",
        "081234567890",
    )
    assert row.message.startswith("Nama ibu di akta anak saya")


async def test_cek_pengaduan_tells_the_status_of_the_citizens_own_reference(
    desk: Desk, warga: Citizen, tetangga: Citizen
) -> None:
    await warga.send("/start pengaduan")
    await warga.click("Kesehatan")
    reply = await warga.send("Puskesmas tutup padahal masih jam buka, Senin pagi.")
    reference = find_reference(reply.text)
    assert reference is not None

    reply = await warga.send("cek status pengaduan saya")
    assert "Tulis nomor referensi" in reply.text
    reply = await warga.send(reference)
    assert f"Pengaduan {reference}" in reply.text
    assert "Diteruskan ke: Dinkes" in reply.text
    assert "menunggu tindak lanjut petugas" in reply.text
    assert "Pengaduan ini tentang instansi mana" not in reply.text

    await tetangga.send("cek status pengaduan saya")
    reply = await tetangga.send(reference)
    assert "tidak kami temukan" in reply.text and "LKT-ABC123" in reply.text
    assert "Dinkes" not in reply.text
