"""A running broadcast under Telegram's real limits: cancel, and citizens chatting meanwhile.

The local Bot API server enforces 30 messages/s per bot and 1/s per chat, like Telegram. The
broadcast goes out at the default 30/s while a citizen chats; the citizen's replies must not
wait behind it nor be refused, and a staff member's "stop" must take effect within a second.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator

import pytest
from sqlalchemy import insert, select

from bot.botapi import BotApiLimits, LocalBotApi
from bot.settings import Settings
from bot.storage.models import Subscription, User
from tests.staff.conftest import STAFF_ID
from tests.staff.test_umumkan import wait_report
from tests.telegram.support import TIMEOUT, Citizen, Desk

SUBSCRIBERS = 240  # eight seconds at 30/s
LONG = 30.0  # a whole broadcast, on a machine busy with other tests
FIRST = 720_000


@pytest.fixture
def limits() -> BotApiLimits:
    # Telegram's global limit enforced as it is; the per-chat burst is raised because a test
    # clicks through the staff dialogue faster than any person (the broadcast's own pacer
    # keeps 1 message/s per chat regardless).
    return BotApiLimits(per_chat_burst=10)


@pytest.fixture
async def desk(
    api: LocalBotApi, settings: Settings, agencies: dict[str, str]
) -> AsyncIterator[Desk]:
    running = Desk(api, settings, agencies)
    running.broadcast_options = {"progress_interval": 0.5}
    await running.start()
    try:
        yield running
    finally:
        await running.stop()
    assert [e for e in api.errors if e.error_code == 429] == [], "Telegram's limit exceeded"


async def add_subscribers(desk: Desk, count: int = SUBSCRIBERS, first: int = FIRST) -> None:
    """``count`` Telegram citizens from chat id ``first`` on, subscribed to Dinkes news."""
    assert desk.loket is not None
    chats = [str(first + i) for i in range(count)]
    for i in range(count):
        desk.api.add_user(first + i, f"Warga {i}")
    async with desk.loket.database.begin() as connection:
        await connection.execute(
            insert(User), [{"channel": "telegram", "external_id": chat} for chat in chats]
        )
        ids = (
            await connection.execute(select(User.id).where(User.external_id.in_(chats)))
        ).scalars()
        await connection.execute(
            insert(Subscription),
            [{"user_id": uid, "district": "94.04.01", "topics": "dinkes"} for uid in ids],
        )


def delivered(desk: Desk) -> int:
    return sum(n for chat, n in desk.api.stats.delivered.items() if chat >= FIRST)


async def start_broadcast(desk: Desk, admin: Citizen, petugas: Citizen) -> str:
    await add_subscribers(desk)
    await admin.send(f"/peran beri {STAFF_ID} staf dinkes")
    await petugas.send("/umumkan")
    await petugas.send("Pemeriksaan kesehatan gratis di RSUD Mimika.")
    reply = await petugas.click("Semua pelanggan")
    assert f"Jumlah penerima saat ini: {SUBSCRIBERS} warga" in reply.text
    reply = await petugas.click("Kirim sekarang")
    return reply.text.split()[1]  # "Pengumuman MMK-XXXX segera dikirim..."


async def test_stop_button_halts_the_broadcast_within_a_second(
    desk: Desk, admin: Citizen, petugas: Citizen
) -> None:
    reference = await start_broadcast(desk, admin, petugas)
    signal = desk.api.bot().signal
    assert await signal.wait_for(lambda: delivered(desk) >= 30, LONG), delivered(desk)
    await signal.wait_for(
        lambda: any(
            label == "Hentikan pengiriman"
            for m in petugas.bot_messages()
            for row in m.buttons
            for label, _ in row
        ),
        TIMEOUT,
    )
    live = next(m for m in petugas.bot_messages() if "sedang dikirim" in m.visible_text)
    assert "sedang dikirim" in live.visible_text and "Perkiraan selesai" in live.visible_text
    pressed = time.monotonic()
    reply = await petugas.click("Hentikan pengiriman")
    assert f"Pengumuman {reference} dihentikan" in reply.text
    at_stop = delivered(desk)
    report = await wait_report(desk, reference)
    assert time.monotonic() - pressed < 1.0
    assert report.status == "cancelled" and report.remaining > 0
    assert delivered(desk) - at_stop <= 30  # at most the sends in flight: under a second
    assert report.sent == delivered(desk) < SUBSCRIBERS


async def test_citizens_chatting_during_a_broadcast_are_not_slowed(
    desk: Desk, admin: Citizen, petugas: Citizen, warga: Citizen
) -> None:
    await warga.send("/start")
    reference = await start_broadcast(desk, admin, petugas)
    signal = desk.api.bot().signal
    assert await signal.wait_for(lambda: delivered(desk) >= 30, LONG), delivered(desk)
    waits = []
    for text in ("/menu", "syarat ktp", "/bantuan", "jam buka dukcapil"):
        started = time.monotonic()
        reply = await warga.send(text)
        waits.append(time.monotonic() - started)
        assert reply.text
    assert delivered(desk) < SUBSCRIBERS  # the broadcast was still running meanwhile
    assert max(waits) < 1.0, waits
    report = await wait_report(desk, reference)
    assert (report.status, report.sent) == ("done", SUBSCRIBERS)
