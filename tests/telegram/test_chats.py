"""Group chats, restarts mid-flow and /hapusdata."""

from __future__ import annotations

from sqlalchemy import text

from bot.botapi import LocalBotApi
from bot.storage.models import Base
from tests.telegram.support import Citizen, Desk

GROUP = -100_777
POINTER = "lewat chat pribadi: https://t.me/loket_mimika_bot?start=menu"


async def test_group_chat_answers_only_when_addressed(desk: Desk, warga: Citizen) -> None:
    group = warga.in_group(GROUP)
    for chatter in (
        "selamat pagi semua",
        "siapa tahu syarat ktp baru?",
        "/start@other_bot",
        "@loket_mimika_bot_lain tolong",
    ):
        reply = await group.send(chatter)
        assert not reply, (chatter, reply.text)

    for addressed in ("/start", "/start@loket_mimika_bot", "@Loket_Mimika_Bot syarat ktp baru?"):
        reply = await group.send(addressed)
        (pointer,) = reply.messages
        assert POINTER in pointer.visible_text
        assert "Agar data Anda aman" in pointer.visible_text
        asked = group.sent[-1]["message"]["message_id"]
        assert pointer.extra["reply_to_message"]["message_id"] == asked  # threaded

    reply = await group.send("bagaimana caranya?", reply_to=pointer.message_id)
    (again,) = reply.messages
    assert POINTER in again.visible_text
    reply = await group.send("terima kasih")  # a plain message afterwards: ignored
    assert not reply

    # Nothing about the citizen was stored from the group, and nothing was sent privately.
    assert await desk.rows_of(warga.user_id) is None
    assert warga.bot_messages() == []


async def test_restart_in_the_middle_of_a_flow_resumes_it(desk: Desk, warga: Citizen) -> None:
    reply = await warga.send("cek status permohonan")
    assert reply.text.startswith("Tulis nomor permohonan Anda")

    await desk.restart()  # a new process: new Application, new Loket, same database file

    reply = await warga.send("9404-2026-000102")
    assert "Permohonan 9404-2026-000102: Kartu Keluarga (perubahan data)" in reply.text
    assert "Status: Sedang diproses" in reply.text
    assert "Menunggu verifikasi data anggota keluarga" in reply.text


async def test_restart_without_an_open_flow_starts_fresh(desk: Desk, warga: Citizen) -> None:
    await warga.send("syarat kia")
    await desk.restart()
    reply = await warga.send("9404-2026-000102")  # a number out of the blue
    # Nothing resumed (no open flow took the number as its answer): the bare number is read
    # afresh as an application number, and its status is told (issue 13).
    assert "Permohonan 9404-2026-000102: Kartu Keluarga" in reply.text
    assert "Kartu Identitas Anak" not in reply.text


async def _all_rows_mentioning(desk: Desk, user_id: int) -> dict[str, int]:
    """Rows per table that point at this user (its id, or any column referring to users.id),
    over every table of the schema."""
    assert desk.loket is not None
    counts = {}
    async with desk.loket.sessions() as session:
        for table in Base.metadata.sorted_tables:
            columns = (
                ["id"]
                if table.name == "users"
                else [
                    column.name
                    for column in table.c
                    if column.name == "user_id"
                    or any(fk.column.table.name == "users" for fk in column.foreign_keys)
                ]
            )
            if not columns:
                continue
            where = " OR ".join(f"{name} = :id" for name in columns)
            counts[table.name] = await session.scalar(
                text(f"SELECT count(*) FROM {table.name} WHERE {where}"),  # noqa: S608
                {"id": user_id},
            )
    return counts


async def _fill_with_data(warga: Citizen) -> None:
    await warga.send("syarat ktp baru")
    await warga.send("asdf qwerty tidak jelas")  # an unmatched question is kept
    await warga.send("/start pengaduan")
    await warga.click("Kesehatan")
    await warga.send("Puskesmas tutup pada jam buka")
    await warga.send("/langganan")
    await warga.click("Atur langganan")
    await warga.click("Wania")
    await warga.click("Jadwal jemput bola")


async def _database_id(desk: Desk, user_id: int) -> int:
    from bot.storage import repo
    from bot.telegram.channel import CHANNEL

    assert desk.loket is not None
    async with desk.loket.sessions() as session:
        user = await repo.find_user(session, CHANNEL, str(user_id))
        assert user is not None
        return user.id


async def test_hapusdata_confirmed_erases_every_row(
    desk: Desk, warga: Citizen, tetangga: Citizen
) -> None:
    await _fill_with_data(warga)
    await tetangga.send("syarat akta kelahiran")
    user_id = await _database_id(desk, warga.user_id)
    neighbour_id = await _database_id(desk, tetangga.user_id)
    before = await _all_rows_mentioning(desk, user_id)
    assert all(before[name] > 0 for name in ("users", "conversations", "events")), before
    assert before["citizen_requests"] == 1
    assert before["unmatched_questions"] == 1
    assert before["subscriptions"] == 1
    neighbour_before = await _all_rows_mentioning(desk, neighbour_id)

    reply = await warga.send("/hapusdata")
    assert "Yang akan dihapus" in reply.text
    assert reply.choice_buttons == ["Ya, hapus", "Tidak"]
    reply = await warga.click("Ya, hapus")
    assert "sudah dihapus" in reply.text

    after = await _all_rows_mentioning(desk, user_id)
    # Tables of the several-workers mode (issue 7) with no users.id column: workers and the
    # shared rate hold nothing about a citizen; the webhook inbox, keyed by the Telegram id,
    # is erased too (tests/workers/test_erasure.py); so is the WhatsApp inbox, keyed by the
    # WhatsApp number (tests/whatsapp).
    # Queue numbers (issue 18): a session's lock row and the quota versions hold no citizen
    # (an author's link is set to NULL); reminders go with the bookings (tests/booking).
    no_user_column = {
        "loket_workers",
        "broadcast_rate_slots",
        "inbox_updates",
        "whatsapp_inbound",
        "booking_sessions",
        "booking_reminders",
        "booking_quota_versions",
    }
    assert set(after) | no_user_column == {t.name for t in Base.metadata.sorted_tables}
    assert all(count == 0 for count in after.values()), after
    assert await desk.rows_of(warga.user_id) is None
    assert await _all_rows_mentioning(desk, neighbour_id) == neighbour_before


async def test_hapusdata_cancelled_keeps_everything(desk: Desk, warga: Citizen) -> None:
    await _fill_with_data(warga)
    user_id = await _database_id(desk, warga.user_id)
    before = await _all_rows_mentioning(desk, user_id)

    await warga.send("/hapusdata")
    reply = await warga.click("Tidak")
    assert "tidak dihapus" in reply.text

    after = await _all_rows_mentioning(desk, user_id)
    for name in (
        "users",
        "conversations",
        "citizen_requests",
        "unmatched_questions",
        "subscriptions",
    ):
        assert after[name] == before[name], name
    assert after["events"] >= before["events"]
    reply = await warga.send("/langganan")
    await warga.click("Lihat langganan saya")
    assert "Wania" in warga.last_reply().text


async def test_no_request_of_the_bot_was_refused(api: LocalBotApi, warga: Citizen) -> None:
    await warga.send("/start")
    await warga.click("Lainnya")
    await warga.click("Ganti bahasa / Language")
    reply = await warga.click("English")
    assert "from now on I will reply in English" in reply.text
    reply = await warga.send("menu")
    assert "Main menu" in reply.text
    assert api.errors == []
