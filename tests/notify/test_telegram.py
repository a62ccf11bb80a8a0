"""Notifications through the real Telegram path: Loket on python-telegram-bot against the
local Bot API server, the citizen following and stopping by pressing real buttons."""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator

import pytest
from sqlalchemy import select

from bot.botapi import BotApiLimits, LocalBotApi
from bot.local import integration_env
from bot.notify.changes import Change
from bot.notify.service import Notifications, build_notifications
from bot.settings import Settings
from bot.storage import repo
from bot.storage.models import FollowedApplication
from bot.telegram import callbacks
from bot.telegram.channel import CHANNEL
from bot.telegram.notify import TelegramDeliver
from tests.notify.conftest import RECEIVED
from tests.telegram.support import BOT_USERNAME, CALLBACK_SECRET, TOKEN, Citizen, Desk

CITIZEN = 7001


@pytest.fixture
async def desk(database_url: str) -> AsyncIterator[Desk]:
    api = LocalBotApi(BotApiLimits.unlimited(), token=TOKEN, username=BOT_USERNAME)
    await api.start()
    settings = Settings(
        database_url=database_url,
        callback_secret=CALLBACK_SECRET,
        flood_messages=1000,
        env={},
    )
    try:
        async with integration_env({}) as agencies:
            running = Desk(api, settings, dict(agencies))
            await running.start()
            try:
                yield running
            finally:
                await running.stop()
        assert running.unexpected_errors() == [], running.unexpected_errors()
    finally:
        await api.stop()


def telegram_notifications(desk: Desk) -> Notifications:
    assert desk.loket is not None and desk.application is not None
    deliver = TelegramDeliver(desk.application.bot, callbacks.derive_key(CALLBACK_SECRET, TOKEN))
    return build_notifications(desk.loket, {CHANNEL: deliver}, pace=0)


async def follow_on_telegram(citizen: Citizen) -> None:
    await citizen.send("/start")
    await citizen.click("Kependudukan (Disdukcapil)")
    await citizen.click("Cek status permohonan")
    reply = await citizen.send(RECEIVED)
    assert "Beri tahu saya bila status berubah" in reply.buttons
    reply = await citizen.click("Beri tahu saya bila status berubah")
    assert "Kami akan memberi tahu Anda" in reply.text


def change(status: str, day: int, note: str | None = None) -> Change:
    return Change("disdukcapil", RECEIVED, status, dt.datetime(2026, 12, day, tzinfo=dt.UTC), note)


async def test_follow_notify_and_stop_with_telegram_buttons(desk: Desk) -> None:
    citizen = desk.citizen(CITIZEN, "Yosina")
    await follow_on_telegram(citizen)
    notifications = telegram_notifications(desk)
    mark = citizen.mark()
    # A note from the agency is shown as text, never as formatting.
    assert (
        await notifications.recorder.record(
            change("in_process", 2, "Berkas <b>lengkap</b> & diverifikasi")
        )
        == 1
    )
    assert await notifications.delivery.deliver_pending() == 1
    (message,) = citizen.since(mark).messages
    assert message.visible_text.startswith(
        f"Kabar permohonan {RECEIVED}: status berubah menjadi Sedang diproses."
    )
    assert "Catatan: Berkas <b>lengkap</b> & diverifikasi" in message.visible_text
    assert message.entities == []
    assert [label for row in message.buttons for label, _ in row] == ["Berhenti memantau"]

    reply = await citizen.click("Berhenti memantau")  # a real, signed button press
    assert f"1. Permohonan {RECEIVED}: Sedang diproses" in reply.text
    reply = await citizen.click(f"Berhenti memantau {RECEIVED}")
    assert f"kami berhenti memantau {RECEIVED}" in reply.text

    mark = citizen.mark()
    assert await notifications.recorder.record(change("ready_for_pickup", 3)) == 0
    assert await notifications.delivery.deliver_pending() == 0
    assert not citizen.since(mark)


async def test_a_citizen_who_blocked_the_bot_is_not_written_to_again(desk: Desk) -> None:
    citizen = desk.citizen(CITIZEN, "Yosina")
    await follow_on_telegram(citizen)
    notifications = telegram_notifications(desk)
    desk.api.block_user(CITIZEN)
    desk.allowed_error_codes.add(403)
    await notifications.recorder.record(change("in_process", 2))
    assert await notifications.delivery.deliver_pending() == 0
    assert desk.loket is not None
    async with desk.loket.sessions() as session:
        user = await repo.find_user(session, CHANNEL, str(CITIZEN))
        assert user is not None
        (follow,) = await session.scalars(
            select(FollowedApplication).where(FollowedApplication.user_id == user.id)
        )
    assert follow.active is False
    assert [e.error_code for e in desk.api.errors] == [403]
