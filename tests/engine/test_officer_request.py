"""An officer request and the status of one's own requests (issue 12, item 11), through the
real front desk and storage on each backend.

The request asks the question and how the citizen wants to be reached; a phone number is kept
in the request row only (not in the conversation, the events or a log line), is in the
citizen's export and goes with /hapusdata. "cek pengaduan" answers only about the asking
citizen's own references: another citizen's is answered exactly like one that does not exist.
"""

from __future__ import annotations

import json
import logging
import re

import pytest

from bot.app import Loket
from bot.core_actions import find_reference
from bot.export import export_user
from bot.storage.models import CitizenRequest, Event
from bot.storage.models import Conversation as ConversationRow
from tests.support.app import rows
from tests.support.conversation import Conversation

pytestmark = pytest.mark.asyncio(loop_scope="module")

PHONE_TYPED = "0812-3456-7890"
PHONE = "081234567890"


def reference_in(text: str) -> str:
    found = find_reference(text)
    assert found is not None, text
    return found


async def ask_officer(chat: Conversation, agency: str, question: str, *contact: str) -> str:
    """Goes through the officer request; returns the reference given."""
    await chat.send("menu")
    await chat.click("Lainnya")
    await chat.click("Bicara dengan petugas")
    await chat.click(agency)
    assert "Tulis pertanyaan Anda" in chat.last_text
    await chat.send(question)
    assert "menghubungi Anda" in chat.last_text
    for move in contact:
        if move in chat.buttons:
            await chat.click(move)
        else:
            await chat.send(move)
    chat.assert_sane()
    return reference_in(chat.last_text)


async def test_a_phone_request_is_recorded_with_question_and_number_in_its_row_only(
    loket: Loket, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)  # what loket run logs (a driver at DEBUG logs parameters)
    chat = Conversation(loket)
    question = "Tagihan PBB saya dobel untuk tahun 2025"
    reference = await ask_officer(chat, "Pajak Daerah", question, "Telepon saya", PHONE_TYPED)
    assert "menelepon Anda" in chat.last_text
    assert PHONE_TYPED not in chat.last_text and PHONE not in chat.last_text

    user_id = await chat.user_id()
    [row] = await rows(loket, CitizenRequest, CitizenRequest.user_id == user_id)
    assert (row.reference, row.kind, row.opd) == (reference, "request", "bapenda")
    assert (row.message, row.contact, row.phone) == (question, "phone", PHONE)

    # Nowhere else: not in the stored conversation, the events or any log line.
    [conversation] = await rows(loket, ConversationRow, ConversationRow.user_id == user_id)
    events = await rows(loket, Event, Event.user_id == user_id)
    stored = json.dumps([conversation.state, [e.detail for e in events]], default=str)
    assert PHONE not in stored and "3456" not in stored
    leaked = [
        (r.name, r.levelname, r.getMessage()[:200])
        for r in caplog.records
        if PHONE in r.getMessage() + json.dumps(r.__dict__, default=str)
    ]
    assert leaked == []

    # In the citizen's export; gone after /hapusdata.
    export = await export_user(loket.sessions, chat.channel, chat.user)
    assert export is not None
    [exported] = export["tables"]["citizen_requests"]
    assert (exported["reference"], exported["phone"]) == (reference, PHONE)
    await chat.command("hapusdata")
    await chat.click("Ya, hapus")
    assert await rows(loket, CitizenRequest, CitizenRequest.reference == reference) == []


async def test_a_chat_request_keeps_no_number_and_says_the_answer_comes_here(
    loket: Loket,
) -> None:
    chat = Conversation(loket)
    reference = await ask_officer(
        chat,
        "Kependudukan (Disdukcapil)",
        "Bagaimana membetulkan akta?",
        "Balas di chat ini",
        "Tidak",
    )
    assert "dikirim di chat ini" in chat.last_text
    assert "jam kerja" in chat.last_text and "WIT" in chat.last_text
    [row] = await rows(loket, CitizenRequest, CitizenRequest.reference == reference)
    assert (row.contact, row.phone, row.opd) == ("chat", None, "disdukcapil")


async def test_a_wrong_number_is_asked_again_with_an_example_and_nothing_is_recorded(
    loket: Loket,
) -> None:
    chat = Conversation(loket)
    await chat.send("menu")
    await chat.click("Lainnya")
    await chat.click("Bicara dengan petugas")
    await chat.click("Tenaga Kerja")
    await chat.send("Kartu kuning saya hilang")
    await chat.click("WhatsApp")
    await chat.send("0901 321456")
    assert "diawali 08" in chat.last_text and "0812-3456-7890" in chat.last_text
    assert (await chat.state()).step == "umum:petugas_nomor"
    assert await rows(loket, CitizenRequest, CitizenRequest.user_id == await chat.user_id()) == []
    await chat.send("+62 813 4444 5555")
    [row] = await rows(loket, CitizenRequest, CitizenRequest.user_id == await chat.user_id())
    assert (row.contact, row.phone, row.opd) == ("whatsapp", "081344445555", "disnakertrans")


# -- cek pengaduan: core.request_status ----------------------------------------------------


async def complain(chat: Conversation) -> str:
    await chat.send("menu")
    await chat.click("Lainnya")
    await chat.click("Pengaduan")
    await chat.click("Kesehatan")
    await chat.send("Puskesmas tutup padahal masih jam buka")
    return reference_in(chat.last_text)


async def check(chat: Conversation, reference: str) -> str:
    await chat.send("cek status pengaduan saya")
    if "Tulis nomor referensi" in chat.last_text:
        await chat.send(reference)
    chat.assert_sane()
    return chat.last_text


async def test_the_citizens_own_reference_gets_its_status(loket: Loket) -> None:
    chat = Conversation(loket)
    reference = await complain(chat)
    text = await check(chat, reference.lower().replace("-", " "))  # typed loosely
    assert f"Pengaduan {reference}" in text
    assert "Diteruskan ke: Dinkes" in text
    assert "menunggu tindak lanjut petugas" in text
    assert "Diterima:" in text and "WIT" in text
    assert "tidak kami temukan" not in text

    request = await ask_officer(
        chat, "Kesehatan", "Apakah buka hari Sabtu?", "Balas di chat ini", "Ya, boleh"
    )
    text = await check(chat, request)
    assert f"Permintaan bicara dengan petugas {request}" in text


async def test_another_citizens_reference_is_answered_like_an_unknown_one(
    loket: Loket,
) -> None:
    owner, other = Conversation(loket), Conversation(loket)
    reference = await complain(owner)
    unknown = "LKT-ZZZZ22" if reference != "LKT-ZZZZ22" else "LKT-ZZZZ23"

    theirs = await check(other, reference)
    nothing = await check(other, unknown)
    assert "tidak kami temukan" in theirs
    assert theirs.replace(reference, "<ref>") == nothing.replace(unknown, "<ref>")
    assert "Dinkes" not in theirs and "Diterima" not in theirs
    assert "LKT-ABC123" in theirs  # what a reference looks like


async def test_something_that_is_not_a_reference_gets_the_format(loket: Loket) -> None:
    chat = Conversation(loket)
    await chat.send("cek status pengaduan saya")
    await chat.send("nomor saya hilang")
    assert "belum saya kenali" in chat.last_text and "LKT-ABC123" in chat.last_text
    assert (await chat.state()).step == "umum:cek_pengaduan_tanya"


async def test_find_reference_reads_loose_spellings() -> None:
    assert find_reference("cek pengaduan lkt lwmfwv ya") == "LKT-LWMFWV"
    assert find_reference("LKT–ABC234") == "LKT-ABC234"
    assert find_reference("LKT-ABC12") is None
    assert re.fullmatch(r"LKT-[A-Z2-9]{6}", find_reference("Lkt-abc234") or "")
