"""What the front desk stores survives a restart: the conversation (with its deadline), the
citizen's language, and the append-only record of every step. Each test has its own SQLite
file and clock; "restart" means disposing the whole app and opening a new one on the file."""

from __future__ import annotations

import datetime as dt

from bot.engine.engine import DEFAULT_TIMEOUT
from bot.storage.models import Conversation as ConversationRow
from bot.storage.models import Event
from tests.support.app import FakeClock, rows, running_loket
from tests.support.conversation import Conversation

EXPIRED = "sudah berakhir"


def utc(value: dt.datetime | None) -> dt.datetime | None:
    """SQLite gives back naive datetimes; the app stores UTC."""
    if value is None or value.tzinfo is not None:
        return value
    return value.replace(tzinfo=dt.UTC)


async def test_restart_mid_flow_resumes(database_url: str) -> None:
    db, clock = database_url, FakeClock()
    async with running_loket(db, clock=clock) as first:
        chat = Conversation(first)
        await chat.send("cek status permohonan")
        assert "nomor permohonan" in chat.last_text
        assert (await chat.state()).step == "disdukcapil:status_permohonan"
        old_engine = first.runtime.current()

    clock.advance(minutes=10)
    async with running_loket(db, clock=clock) as second:
        assert second.runtime.current() is not old_engine
        chat.loket = second
        await chat.send("9404-2026-000103")
        chat.assert_sane()
        assert "sudah selesai" in chat.last_text
        assert EXPIRED not in chat.last_text
        assert (await chat.state()).step is None


async def test_restart_keeps_the_back_history(database_url: str) -> None:
    db, clock = database_url, FakeClock()
    async with running_loket(db, clock=clock, sandbox=False) as first:
        chat = Conversation(first)
        await chat.send("menu")
        await chat.click("Pajak Daerah")
        await chat.click("Cek tagihan PBB")
    async with running_loket(db, clock=clock, sandbox=False) as second:
        chat.loket = second
        await chat.send("kembali")
        assert (await chat.state()).step == "bapenda:menu"
        await chat.click("Cara bayar PBB")  # the buttons of the resumed step still work
        chat.assert_sane()
        assert chat.replies[0].title == "Cara bayar PBB"


async def test_expired_conversation_starts_fresh_with_a_note(database_url: str) -> None:
    db, clock = database_url, FakeClock()
    async with running_loket(db, clock=clock) as app:
        chat = Conversation(app)
        await chat.send("cek status permohonan")
        asked_at = clock()

        async with app.sessions() as session:
            row = await session.get(ConversationRow, await chat.user_id())
            assert row is not None
            assert utc(row.expires_at) == asked_at + DEFAULT_TIMEOUT  # the deadline is stored
            assert row.state["step"] == "disdukcapil:status_permohonan"

        clock.advance(minutes=30, seconds=1)
        await chat.send("9404-2026-000103")
        chat.assert_sane()
        assert EXPIRED in chat.last_text
        assert "30 menit" in chat.last_text
        # The number is not the expired question's answer: it is read afresh, as a bare
        # application number is (issue 13), after the note that the old question lapsed.
        assert chat.last_text.index(EXPIRED) < chat.last_text.index("sudah selesai")
        state = await chat.state()
        assert state.step is None
        assert utc(state.expires_at) == clock() + DEFAULT_TIMEOUT
        events = await rows(app, Event, Event.user_id == await chat.user_id(), order_by=Event.id)
        kinds = [e.kind for e in events]
        assert "expired" in kinds
        fresh = [e for e in events[kinds.index("expired") :] if e.kind == "intent"]
        assert [e.detail.get("via") for e in fresh] == ["text"]


async def test_not_expired_just_before_the_deadline(database_url: str) -> None:
    clock = FakeClock()
    async with running_loket(database_url, clock=clock) as app:
        chat = Conversation(app)
        await chat.send("cek status permohonan")
        clock.advance(minutes=29, seconds=59)
        await chat.send("9404-2026-000103")
        assert EXPIRED not in chat.last_text
        assert "sudah selesai" in chat.last_text


async def test_deadline_survives_a_restart(database_url: str) -> None:
    db, clock = database_url, FakeClock()
    async with running_loket(db, clock=clock, sandbox=False) as first:
        chat = Conversation(first)
        await chat.send("cek status permohonan")
    clock.advance(hours=2)
    async with running_loket(db, clock=clock, sandbox=False) as second:
        chat.loket = second
        await chat.send("9404-2026-000103")
        chat.assert_sane()
        assert EXPIRED in chat.last_text


async def test_an_idle_citizen_gets_no_expiry_note(database_url: str) -> None:
    clock = FakeClock()
    async with running_loket(database_url, clock=clock, sandbox=False) as app:
        chat = Conversation(app)
        await chat.send("syarat ktp baru")  # answered; nothing is waiting
        clock.advance(days=3)
        await chat.send("syarat kk baru")
        chat.assert_sane()
        assert EXPIRED not in chat.last_text


async def test_every_step_transition_is_appended_to_events(database_url: str) -> None:
    clock = FakeClock()
    async with running_loket(database_url, clock=clock, sandbox=False) as app:
        chat = Conversation(app)
        script = [
            (chat.send, "menu", ["umum:menu"]),
            (chat.click, "Kependudukan (Disdukcapil)", ["disdukcapil:menu"]),
            (chat.click, "Kembali", ["umum:menu"]),
            (chat.click, "Lainnya", ["umum:lainnya"]),
            (chat.click, "Pengaduan", ["umum:pengaduan", "umum:pengaduan_instansi"]),
            (chat.click, "Kesehatan", ["umum:pengaduan_tulis"]),
            (
                chat.send,
                "Puskesmas tutup di jam buka",
                ["umum:pengaduan_tujuan", "umum:pengaduan_dinkes"],
            ),
        ]
        snapshots: list[tuple[int, str, str | None, dict[str, object], dt.datetime]] = []
        for turn, (act, argument, steps) in enumerate(script):
            clock.advance(minutes=1)
            await act(argument)
            chat.assert_sane()
            events = await rows(
                app, Event, Event.user_id == await chat.user_id(), order_by=Event.id
            )
            now = [(e.id, e.kind, e.step, dict(e.detail), utc(e.at)) for e in events]
            assert now[: len(snapshots)] == snapshots, f"turn {turn}: earlier events changed"
            new = now[len(snapshots) :]
            assert [step for _id, kind, step, _d, _at in new if kind == "step"] == steps
            assert all(at == clock() for *_rest, at in new)
            snapshots = now
        ids = [event_id for event_id, *_ in snapshots]
        assert ids == sorted(ids)
        intents = [
            e.intent for e in await rows(app, Event, Event.kind == "step", order_by=Event.id)
        ]
        assert intents[-1] == "umum.pengaduan"


async def test_language_preference_persists_across_restart(database_url: str) -> None:
    db, clock = database_url, FakeClock()
    async with running_loket(db, clock=clock, sandbox=False) as first:
        chat = Conversation(first, locale="id")
        await chat.send("menu")
        await chat.click("Lainnya")
        await chat.click("Ganti bahasa / Language")
        await chat.click("English")
        assert "reply in English" in chat.last_text
        assert (await chat.user_row()).locale == "en"  # type: ignore[union-attr]

    async with running_loket(db, clock=clock, sandbox=False) as second:
        chat.loket = second  # Telegram still says the phone is in Indonesian: the choice wins
        await chat.send("menu")
        chat.assert_sane()
        assert "Main menu" in chat.last_text
        assert "Population (Disdukcapil)" in chat.buttons
        assert (await chat.user_row()).locale == "en"  # type: ignore[union-attr]
        assert (await chat.state()).locale == "en"


async def test_a_finished_flow_expires_quietly(database_url: str) -> None:
    """After a complaint was sent nothing is waiting: no "sudah berakhir" note, but the values
    the flow kept (the complaint text) are forgotten once the deadline passed."""
    clock = FakeClock()
    async with running_loket(database_url, clock=clock, sandbox=False) as app:
        chat = Conversation(app)
        await chat.send("menu")
        await chat.click("Lainnya")
        await chat.click("Pengaduan")
        await chat.click("Kesehatan")
        await chat.send("Puskesmas tutup di jam buka")
        assert "Nomor referensi" in chat.last_text
        assert (await chat.state()).context  # kept for the buttons under the last answer
        clock.advance(minutes=31)
        await chat.send("syarat ktp baru")
        chat.assert_sane()
        assert EXPIRED not in chat.last_text
        assert "message" not in (await chat.state()).context
