"""The hoax check's code finder and text comparison."""

from __future__ import annotations

import datetime as dt
from typing import Any

from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.broadcast.store import REFERENCE_ALPHABET, create_announcement, new_reference
from bot.broadcast.verify import (
    AnnouncementCheck,
    Change,
    compare,
    find_reference,
    looks_like_copy,
    plain,
)
from bot.engine.messages import Inbound
from bot.i18n import Translator
from bot.region import default_region_path, load_region
from bot.storage.db import sessions


def test_codes_as_citizens_type_them() -> None:
    for text in ("MMK-7K3Q", "mmk 7k3q", "kode MMK7K3Q?", "Kode pengumuman: MMK-7K3Q."):
        assert find_reference(text) == "MMK-7K3Q"
    for text in ("MMK-7K3QX", "XMMK-7K3Q", "MMK-7K3", "syarat ktp", ""):
        assert find_reference(text) is None


@given(
    st.text(alphabet="abcdefgh .,!?:\n", max_size=30), st.text(alphabet="xyz .,!?", max_size=30)
)
def test_a_real_code_is_found_anywhere_in_a_message(before: str, after: str) -> None:
    code = new_reference()
    assert find_reference(f"{before} {code} {after}") == code
    assert find_reference(f"{before} {code.lower().replace('-', ' ')} {after}") == code


@given(st.text(alphabet=REFERENCE_ALPHABET, min_size=4, max_size=4))
def test_every_code_is_found_in_its_footer(body: str) -> None:
    footer = f"Kode pengumuman: MMK-{body}. Kirim kode ini ke bot."
    assert find_reference(footer) == f"MMK-{body}"


def test_forwarded_text_is_compared_without_its_footer() -> None:
    official = plain("<b>Imunisasi</b> gratis &amp; aman.\n\nSabtu 08.00.")
    forwarded = "Imunisasi gratis & aman.\n\nSabtu 08.00.\n\nKode pengumuman: MMK-7K3Q. Kirim..."
    assert compare(official, forwarded, "MMK-7K3Q").same
    assert not compare(official, "Bayar Rp50.000.\n\nKode pengumuman: MMK-7K3Q.", "MMK-7K3Q").same


# -- a pasted, forwarded or captioned copy compared with the official text (issue 12) --------

OFFICIAL = (
    "Imunisasi campak GRATIS untuk balita di Puskesmas Timika Jaya.\n\n"
    "Sabtu, 7 Desember, pukul 08.00 WIT. Biaya pendaftaran posyandu Rp50.000 ditanggung Dinkes."
)
REF = "MMK-7K3Q"
FOOTER_ID = f"Kode pengumuman: {REF}. Kirim kode ini ke bot untuk memastikan pengumuman ini asli."


def test_added_words_are_named() -> None:
    pasted = OFFICIAL.replace("Jaya.", "Jaya. Bayar 50 ribu ke petugas.") + "\n\n" + FOOTER_ID
    difference = compare(OFFICIAL, pasted, REF)
    assert not difference.same
    assert [c.kind for c in difference.changes] == ["added"]
    assert difference.changes[0].received == "Bayar 50 ribu ke petugas."


def test_a_changed_amount_and_a_removed_word_are_named() -> None:
    pasted = OFFICIAL.replace("Rp50.000", "Rp500.000").replace("GRATIS ", "")
    difference = compare(OFFICIAL, f"{pasted}\n{FOOTER_ID}", REF)
    assert not difference.same
    assert Change("removed", "GRATIS", "") in difference.changes
    assert Change("changed", "Rp50.000", "Rp500.000") in difference.changes


def test_whitespace_emoji_case_and_the_footer_do_not_count() -> None:
    variants = [
        OFFICIAL,
        f"📢📢 {OFFICIAL}\n\n{FOOTER_ID}",
        OFFICIAL.replace(" ", "  ").replace("\n\n", "\n") + f"  {FOOTER_ID.upper()} ✅",
        OFFICIAL.replace("GRATIS", "GRATIS🎉") + f"\n\n{REF.lower().replace('-', ' ')}",
        OFFICIAL.replace("Timika", "Ｔｉｍｉｋａ") + "\n\nKode pengumuman: MMK7K3Q.",
        OFFICIAL.replace("WIT.", "WIT. 👨\u200d👩\u200d👧 ❤\ufe0f 🇮🇩 1\ufe0f\u20e3"),
    ]
    for variant in variants:
        assert compare(OFFICIAL, variant, REF).same, variant


def test_the_english_footer_is_not_a_difference() -> None:
    english = f"Announcement code: {REF}. Send this code to the bot to check that this is genuine."
    assert compare(OFFICIAL, f"{OFFICIAL}\n\n{english}", REF, footers=(english,)).same


def test_a_question_about_a_code_is_not_a_copy() -> None:
    for text in (REF, "apakah MMK-7K3Q asli?", "cek kode mmk 7k3q", "is MMK-7K3Q real?"):
        assert not looks_like_copy(OFFICIAL, text, REF), text
    for text in (
        f"Bayar 50 ribu untuk imunisasi. {REF}",
        f"Imunisasi campak berbayar untuk balita. {REF}",
        f"{OFFICIAL}\n\n{FOOTER_ID}",
        f"Pengumuman penting.\n\n{FOOTER_ID}",
    ):
        assert looks_like_copy(OFFICIAL, text, REF), text


# Official words never spell a reference code (no "m"/"k"), and carry a digit somewhere.
_WORD = st.text(alphabet="abcdefghijlnoprstuvwy0123456789.,:;!?()/%", min_size=1, max_size=9)
_OFFICIAL_WORDS = st.lists(_WORD, min_size=1, max_size=25).map(lambda words: [*words, "2026"])
_SPACE = st.sampled_from([" ", "  ", "\n", "\n\n", "\t", "\u00a0", " \n "])
_EMOJI = st.sampled_from(
    ["", "", "🎉", "✅", "📢", "👍🏽", "❤\ufe0f", "🇮🇩", "👨\u200d👩\u200d👧", "⚠️", "#\ufe0f\u20e3"]
)


@given(_OFFICIAL_WORDS, st.data())
def test_whitespace_and_emoji_variations_are_always_genuine(
    words: list[str], data: st.DataObject
) -> None:
    official = " ".join(words)
    pieces = [data.draw(_EMOJI) + word + data.draw(_EMOJI) for word in words]
    pasted = "".join(piece + data.draw(_SPACE) for piece in pieces)
    if data.draw(st.booleans()):
        pasted += data.draw(_SPACE) + FOOTER_ID
    assert compare(official, pasted, REF).same


@given(_OFFICIAL_WORDS, st.data())
def test_an_inserted_word_is_always_different(words: list[str], data: st.DataObject) -> None:
    official = " ".join(words)
    inserted = data.draw(st.text(alphabet="abcdefghijlnoprstuvwy0123456789", min_size=1))
    at = data.draw(st.integers(min_value=0, max_value=len(words)))
    pasted = " ".join([*words[:at], inserted, *words[at:]]) + "\n\n" + FOOTER_ID
    difference = compare(official, pasted, REF)
    assert not difference.same
    assert difference.changes


@given(_OFFICIAL_WORDS, st.data())
def test_a_changed_digit_is_always_different(words: list[str], data: st.DataObject) -> None:
    official = " ".join(words)
    digits = [i for i, ch in enumerate(official) if ch.isdigit()]
    at = data.draw(st.sampled_from(digits))
    new = data.draw(st.sampled_from([d for d in "0123456789" if d != official[at]]))
    pasted = official[:at] + new + official[at + 1 :] + "\n\n" + FOOTER_ID
    difference = compare(official, pasted, REF)
    assert not difference.same
    assert any(c.kind == "changed" for c in difference.changes)


# -- the interceptor's answers -----------------------------------------------------------------


async def _published(engine: AsyncEngine, text_html: str, status: str = "done") -> str:
    """An announcement as the sender leaves it once it went out; returns its reference."""
    async with sessions(engine)() as session, session.begin():
        announcement = await create_announcement(session, opd="dinkes", text=text_html)
        announcement.status = status
        announcement.started_at = dt.datetime(2026, 12, 1, 1, 30, tzinfo=dt.UTC)
        return announcement.reference


def _check(engine: AsyncEngine) -> AnnouncementCheck:
    return AnnouncementCheck(
        sessions(engine), Translator.load(), load_region(default_region_path())
    )


async def _answer(check: AnnouncementCheck, text: str, locale: str = "id", **kw: Any) -> str:
    answer = await check(Inbound(kind=kw.pop("kind", "text"), text=text, **kw), locale)
    assert answer is not None and len(answer) == 1
    return answer[0].text


async def test_a_pasted_tampered_copy_is_called_different(engine: AsyncEngine) -> None:
    reference = await _published(engine, "<b>Imunisasi campak GRATIS</b> untuk balita &amp; ibu.")
    check = _check(engine)
    pasted = (
        "Imunisasi campak GRATIS untuk balita & ibu. Bayar 50 ribu ke petugas.\n\n"
        f"Kode pengumuman: {reference}. Kirim kode ini ke bot untuk memastikan pengumuman ini "
        "asli."
    )
    text = await _answer(check, pasted)
    assert "teks ini BERBEDA dari pengumuman resmi" in text
    assert "Bayar 50 ribu ke petugas." in text  # what was added
    assert "Imunisasi campak GRATIS untuk balita & ibu." in text  # the official text
    assert "Jangan membayar atau mentransfer uang" in text
    assert "ASLI" not in text

    english = await _answer(check, pasted, "en")
    assert "this text is DIFFERENT from the official announcement" in english
    assert "Do not pay or transfer money" in english


async def test_a_genuine_copy_a_code_question_and_an_unknown_code(engine: AsyncEngine) -> None:
    reference = await _published(engine, "<b>Imunisasi campak GRATIS</b> untuk balita &amp; ibu.")
    check = _check(engine)
    genuine = f"📢 Imunisasi  campak GRATIS\nuntuk balita & ibu. 🎉\n\n{reference}"
    assert f"Pengumuman {reference} ASLI" in await _answer(check, genuine)
    assert f"Pengumuman {reference} ASLI" in await _answer(check, f"apakah {reference} asli?")
    assert "TIDAK terdaftar" in await _answer(check, "Bayar 50 ribu. MMK-XXXX")
    forwarded = await _answer(check, f"Imunisasi campak. {reference}", forwarded=True)
    assert "teks ini BERBEDA dari pengumuman resmi" in forwarded


async def test_a_photo_caption_with_a_code_is_checked(engine: AsyncEngine) -> None:
    reference = await _published(engine, "Jadwal posyandu bulan Desember.")
    check = _check(engine)
    caption = f"Jadwal posyandu bulan Desember, bayar Rp20.000.\n\nKode pengumuman: {reference}."
    text = await _answer(check, caption, kind="unsupported")
    assert "teks ini BERBEDA dari pengumuman resmi" in text
    # A photo without a code is left to the conversation ("I can only read text").
    assert await check(Inbound(kind="unsupported", text="foto KTP saya"), "id") is None
    assert await check(Inbound(kind="unsupported"), "id") is None


async def test_a_long_official_text_is_trimmed_to_one_telegram_message(
    engine: AsyncEngine,
) -> None:
    official = " ".join(f"Kalimat {i} tentang jadwal imunisasi." for i in range(120))[:3_790]
    reference = await _published(engine, official)
    check = _check(engine)
    pasted = "Transfer Rp100.000 dulu. " + official.replace("Kalimat 7 ", "Kalimat 70 ")
    text = await _answer(check, f"{pasted}\n\n{reference}")
    assert "teks ini BERBEDA dari pengumuman resmi" in text
    assert len(text.encode("utf-16-le")) // 2 <= 4096
    assert "dipotong" in text and "Transfer Rp100.000 dulu." in text
