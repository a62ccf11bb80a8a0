"""Whatever a citizen sends (long, HTML- or SQL-looking, photos, edits) gets a sane answer,
and every request the bot makes is one the Bot API server accepts."""

from __future__ import annotations

from sqlalchemy import inspect, select

from bot.botapi import LocalBotApi
from bot.storage.models import CitizenRequest, UnmatchedQuestion
from bot.telegram.render import MAX_MESSAGE_UNITS
from tests.telegram.support import Citizen, Desk

STORY = (
    "Selamat pagi. Saya mau tanya syarat buat KTP baru. "
    + "Anak saya baru berumur tujuh belas tahun bulan lalu dan kami tinggal di Mimika Baru. " * 70
)[:5000]
HOSTILE = (
    "<b>Puskesmas</b> tutup & <script>alert(1)</script> </i><a href='x'>klik</a> "
    "'; DROP TABLE citizen_requests; -- \" OR 1=1 --"
)
NONSENSE = "<script>alert('x')</script> </b>&amp; '; DROP TABLE users; --"
SEND_LIMIT = "Pesan terlalu panjang"


def _utf16(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


def assert_all_within_limit(api: LocalBotApi, chat_id: int) -> None:
    for message in api.messages(chat_id):
        assert _utf16(message.visible_text) <= MAX_MESSAGE_UNITS


async def test_a_5000_character_question_gets_a_clear_reply(
    api: LocalBotApi, warga: Citizen
) -> None:
    assert len(STORY) == 5000
    reply = await warga.send(STORY)
    # The service is in the first sentence of the story: answered, not asked again.
    assert reply.text.startswith("KTP-el baru")
    reply = await warga.send("z" * 5000)
    assert reply.text.startswith("Maaf, saya belum mengerti pertanyaan Anda.")
    assert reply.buttons == ["Menu utama"]
    assert_all_within_limit(api, warga.chat_id)


async def test_a_5000_character_complaint_is_refused_politely(
    api: LocalBotApi, desk: Desk, warga: Citizen
) -> None:
    await warga.send("/start pengaduan")
    await warga.click("Kesehatan")
    reply = await warga.send(STORY)
    assert SEND_LIMIT in reply.text
    assert "paling banyak 1000" in reply.text
    assert "Ceritakan singkat apa yang terjadi" in reply.text  # asked again, still in the flow
    reply = await warga.send("Puskesmas tutup pada jam buka, Senin pagi.")
    assert "Pengaduan Anda sudah kami catat" in reply.text
    assert_all_within_limit(api, warga.chat_id)


async def test_html_and_sql_looking_input_is_harmless(
    api: LocalBotApi, desk: Desk, warga: Citizen
) -> None:
    reply = await warga.send(NONSENSE)
    assert reply.text.startswith("Maaf, saya belum mengerti")
    reply = await warga.send(HOSTILE)  # "Puskesmas tutup": the health facilities answer
    assert reply.text.startswith("Mimika memiliki 26 puskesmas")
    assert "<script>" not in reply.text and "DROP TABLE" not in reply.text

    await warga.send("/start pengaduan")
    await warga.click("Kesehatan")
    reply = await warga.send(HOSTILE)
    assert "Pengaduan Anda sudah kami catat" in reply.text
    assert "Nomor referensi: LKT-" in reply.text

    reply = await warga.send("/start <i>status</i> & <b>")
    assert "Menu utama" in reply.text

    # Stored verbatim (parameters, not SQL text), and every table is still there.
    assert desk.loket is not None
    async with desk.loket.sessions() as session:
        complaints = (await session.scalars(select(CitizenRequest))).all()
        unmatched = (await session.scalars(select(UnmatchedQuestion))).all()
        tables = await session.run_sync(
            lambda sync: set(inspect(sync.connection()).get_table_names())
        )
    assert [c.message for c in complaints] == [HOSTILE]
    assert [u.text for u in unmatched] == [NONSENSE]
    assert {"users", "conversations", "events", "citizen_requests", "subscriptions"} <= tables
    assert api.errors == []


async def test_photo_sticker_location_and_contact_get_a_polite_text_reply(
    warga: Citizen,
) -> None:
    polite = "Maaf, saya hanya bisa membaca pesan teks."
    for reply in (
        await warga.send_photo(),
        await warga.send_photo(caption="ini KTP saya"),
        await warga.send_sticker(),
        await warga.send_location(-4.5467, 136.8883),
        await warga.send_contact("+6281234567890"),
    ):
        assert reply.text.startswith(polite)
        assert 'misalnya "syarat KTP baru"' in reply.text


async def test_a_photo_in_the_middle_of_a_flow_repeats_the_question(warga: Citizen) -> None:
    await warga.send("/start status")
    reply = await warga.send_photo()
    assert reply.text.startswith("Maaf, saya hanya bisa membaca pesan teks.")
    assert "Tulis nomor permohonan Anda" in reply.text
    reply = await warga.send("9404-2026-000102")
    assert "Status: Sedang diproses" in reply.text


async def test_edited_messages_are_ignored(api: LocalBotApi, warga: Citizen) -> None:
    reply = await warga.send("syarat akta kelahiran")
    assert "Akta kelahiran" in reply.text
    mark = warga.mark()
    edited = warga.edit_nowait(warga.sent[-1], "syarat KTP baru")
    assert edited["edited_message"]["text"] == "syarat KTP baru"
    reply = await warga.send("menu")  # handled after the edit would have been
    assert warga.since(mark).messages == reply.messages
    assert "Menu utama" in reply.text
    # Not even fetched: the bot asks only for messages and button presses.
    assert api.bot().allowed_updates == ["message", "callback_query"]
    assert api.bot().dropped_updates == 1
