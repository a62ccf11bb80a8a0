"""Issue 13 through python-telegram-bot and the local Bot API: a citizen's first message is
read like a clerk would (numbers, English, emergencies, a choice instead of a refusal)."""

from __future__ import annotations

from tests.telegram.support import Citizen

NOP_QUESTION = "Tulis NOP"
NUMBER_QUESTION = "Tulis nomor permohonan"


async def test_bare_application_number_reaches_the_status(warga: Citizen) -> None:
    reply = await warga.send("9404-2026-000104")
    assert "siap diambil" in reply.text
    assert "nomor permohonan" not in reply.text.lower().split("siap diambil")[-1]


async def test_status_with_number_reaches_the_status_without_asking(warga: Citizen) -> None:
    reply = await warga.send("status 9404-2026-000104")
    assert "siap diambil" in reply.text
    assert NUMBER_QUESTION not in reply.text


async def test_receipt_number_with_slashes_reaches_the_status(warga: Citizen) -> None:
    reply = await warga.send("tanda terima 9404/2026/000104 sudah jadi?")
    assert "siap diambil" in reply.text


async def test_pbb_with_nop_asks_only_the_year(warga: Citizen) -> None:
    reply = await warga.send("cek pbb 94.12.010.001.001-0001.0")
    assert "Tagihan tahun berapa?" in reply.text
    assert NOP_QUESTION not in reply.text
    reply = await warga.send("2026")
    assert "1.250.000" in reply.text


async def test_emergency_in_the_middle_of_the_pbb_flow(warga: Citizen) -> None:
    reply = await warga.send("cek tagihan pbb")
    assert NOP_QUESTION in reply.text
    reply = await warga.send("tolong anak sa kejang2 dari tadi")
    assert reply.text.index("112") < reply.text.index(NOP_QUESTION)
    assert "119" in reply.text
    assert "UGD RSUD Mimika" in reply.text
    # The conversation goes on: the NOP is still what the bot waits for.
    reply = await warga.send("94.12.010.001.001-0001.0")
    assert "Tagihan tahun berapa?" in reply.text


async def test_english_question_is_answered_in_english(warga: Citizen) -> None:
    reply = await warga.send("how do I get a birth certificate for my son")
    assert "Birth certificate" in reply.text
    assert "Register within 60 days" in reply.text
