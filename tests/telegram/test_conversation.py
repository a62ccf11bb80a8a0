"""Citizens talking to Loket through python-telegram-bot and the local Bot API server."""

from __future__ import annotations

import asyncio

from bot.botapi import LocalBotApi
from bot.i18n import SUPPORTED_LOCALES
from bot.telegram.aiohttp_request import AiohttpRequest
from bot.telegram.channel import COMMANDS
from tests.telegram.support import TIMEOUT, Citizen, Desk, GatedRequest, HeldReply

MAIN_MENU = ["Kependudukan (Disdukcapil)", "Tenaga Kerja", "Kesehatan", "Pajak Daerah", "Lainnya"]


CARD_SECTIONS = ["Syarat", "Biaya dan waktu", "Tempat dan jam", "Bisa diwakilkan?", "Dasar hukum"]


def assert_ktp_baru(text: str) -> None:
    """The first card of the KTP-el baru answer as flows/disdukcapil.yaml writes it: what,
    cost and where, then the provenance (issue 14); the requirements are a button away."""
    assert text.startswith("KTP-el baru")
    for words in (
        "berusia 17 tahun",
        "Gratis",
        "Pasal 79A",
        "Tempat: Disdukcapil Mimika",
        "Sumber: UU 23/2006 jo. UU 24/2013",
        "Belum diverifikasi oleh Disdukcapil",
    ):
        assert words in text, words


def assert_ktp_baru_requirements(text: str) -> None:
    for words in (
        "Persyaratan",
        "Berusia 17 tahun",
        "Kartu Keluarga (KK)",
        "Langkah-langkah",
        "Tidak perlu surat pengantar RT/RW",
    ):
        assert words in text, words


async def test_start_menu_then_disdukcapil_then_ktp_baru(warga: Citizen) -> None:
    reply = await warga.send("/start")
    assert "Halo! Saya Loket" in reply.text
    assert "Menu utama" in reply.text
    assert reply.buttons == MAIN_MENU

    reply = await warga.click("Kependudukan (Disdukcapil)")
    assert reply.text.startswith("Layanan kependudukan (Disdukcapil)")
    assert "KTP-el baru" in reply.buttons
    assert "Cek status permohonan" in reply.buttons

    reply = await warga.click("KTP-el baru")
    assert_ktp_baru(reply.text)
    # The title is bold: the server parsed the bot's HTML into a bold entity.
    (answer,) = reply.messages
    assert answer.entities[0]["type"] == "bold"
    assert answer.text is not None
    assert answer.text[: answer.entities[0]["length"]] == "KTP-el baru"
    # The card's sections, then a queue number at the office (issue 18), then the menu.
    assert reply.buttons == [*CARD_SECTIONS, "Ambil nomor antrean", "Menu utama"]

    reply = await warga.click("Syarat")
    assert reply.text.startswith("KTP-el baru: Syarat")
    assert_ktp_baru_requirements(reply.text)
    assert "Belum diverifikasi oleh Disdukcapil" in reply.text
    reply = await warga.click("Dasar hukum")
    assert reply.text.startswith("KTP-el baru: Dasar hukum")
    assert "• UU 24/2013 Pasal 79A" in reply.text and "Sumber: " in reply.text


async def test_deep_link_goes_straight_to_the_answer(warga: Citizen) -> None:
    reply = await warga.send("/start ktp_baru")
    assert_ktp_baru(reply.text)
    assert "Halo! Saya Loket" not in reply.text


async def test_unknown_deep_link_shows_the_menu(warga: Citizen) -> None:
    reply = await warga.send("/start <b>bukan-layanan</b>")
    assert "Menu utama" in reply.text
    assert reply.buttons == MAIN_MENU


async def test_free_text_with_typos_finds_ktp_baru(warga: Citizen) -> None:
    reply = await warga.send("gmn cara bkin ktp bru")
    assert_ktp_baru(reply.text)


async def test_close_call_offers_exactly_three_choices(warga: Citizen) -> None:
    # `loket match "ktp kk hilang" --json`: KK hilang 90.1, KTP hilang 89.0, KTP baru 39.1
    reply = await warga.send("ktp kk hilang")
    assert "Maksud Anda yang mana?" in reply.text
    assert reply.choice_buttons == [
        "KK hilang atau rusak",
        "KTP-el hilang atau rusak",
        "KTP-el baru",
        "Bukan semuanya",  # records the text for admins (tests/engine/test_mid_flow.py)
    ]
    reply = await warga.click("KTP-el hilang atau rusak")
    assert reply.text.startswith("KTP-el hilang atau rusak")
    reply = await warga.click("Syarat")
    assert "surat keterangan kehilangan dari kepolisian" in reply.text


async def test_commands_are_registered_in_indonesian_and_english(
    desk: Desk, api: LocalBotApi
) -> None:
    assert desk.loket is not None
    translator = desk.loket.translator
    indonesian = api.get_commands()
    assert indonesian == [
        {"command": name, "description": description} for name, description in COMMANDS
    ]
    assert {"command": "hapusdata", "description": "Hapus data saya"} in indonesian
    for locale in SUPPORTED_LOCALES:
        if locale == "id":
            continue
        assert api.get_commands(language_code=locale) == [
            {"command": name, "description": translator.gettext(locale, description)}
            for name, description in COMMANDS
        ]
    assert [c["command"] for c in api.get_commands(language_code="en")] == [
        "start",
        "menu",
        "bantuan",
        "bahasa",
        "batal",
        "hapusdata",
    ]


async def test_english_speaking_citizen_gets_english_flow_texts(desk: Desk) -> None:
    visitor = desk.citizen(5101, "Anna", language_code="en-GB")
    reply = await visitor.send("/start ktp_baru")
    assert reply.text.startswith("New ID card (KTP-el)")
    assert "for Indonesian citizens aged 17" in reply.text


async def test_replies_of_one_citizen_come_in_order(
    desk: Desk, warga: Citizen, tetangga: Citizen
) -> None:
    """Sent at once, handled one by one and answered in order. The first reply is held at
    the HTTP layer: meanwhile the neighbour is served, and none of Yosina's later messages
    has even reached the front desk. (The number answers the prompt only in this order.)"""
    hold = HeldReply(warga.chat_id)
    await desk.restart(request=GatedRequest(AiohttpRequest(), hold))
    mark, other_mark = warga.mark(), tetangga.mark()
    ids = [
        warga.send_nowait("cek status permohonan"),
        warga.send_nowait("9404-2026-000103"),
        warga.send_nowait("syarat kia"),
        warga.send_nowait("menu"),
    ]
    other = tetangga.send_nowait("syarat akta kelahiran")
    try:
        async with asyncio.timeout(TIMEOUT):
            await hold.held.wait()
        await warga.tracker.wait_updates([other])
        assert tetangga.since(other_mark).text.startswith("Akta kelahiran")
        assert not warga.since(mark)
        assert desk.entered.count(str(warga.user_id)) == 1
    finally:
        hold.release.set()

    await warga.tracker.wait_updates(ids)
    texts = [m.visible_text for m in warga.since(mark).messages]
    assert len(texts) == 4, texts
    assert texts[0].startswith("Tulis nomor permohonan Anda")
    assert "Permohonan 9404-2026-000103: Akta Kelahiran" in texts[1]
    assert "Permohonan Anda sudah selesai" in texts[1]
    assert texts[2].startswith("KIA")
    assert "Menu utama" in texts[3]
