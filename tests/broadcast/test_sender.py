"""The sender against the local Bot API over HTTP, and with a scripted send, on a manual clock."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest
from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.botapi import BotApiLimits, LocalBotApi, ManualClock
from bot.broadcast import store
from bot.broadcast.pacer import Pacer
from bot.broadcast.sender import BroadcastSender, Outcome, Progress
from bot.broadcast.telegram import TelegramSend
from bot.storage.db import sessions
from bot.storage.models import AnnouncementDelivery
from tests.broadcast.conftest import FIRST_CHAT, Time, add_citizens, new_announcement

TOKEN = "123456:LOCAL"


async def start_api(limits: BotApiLimits, clock: ManualClock, users: int) -> LocalBotApi:
    api = LocalBotApi(limits, clock=clock, token=TOKEN)
    for i in range(users):
        api.add_user(FIRST_CHAT + i, f"Warga {i}")
    await api.start()
    return api


@pytest.fixture
async def api(clock: ManualClock) -> AsyncIterator[LocalBotApi]:
    server = await start_api(BotApiLimits(per_chat_burst=1), clock, 200)
    try:
        yield server
    finally:
        await server.stop()


@pytest.fixture
async def send(api: LocalBotApi) -> AsyncIterator[TelegramSend]:
    async with TelegramSend.create(TOKEN, base_url=api.bot_api_url) as sender:
        yield sender


def make_sender(engine: AsyncEngine, send, time: Time, rate: float = 30, **kw) -> BroadcastSender:  # type: ignore[no-untyped-def]
    pacer = Pacer(rate, clock=time.clock, sleep=time.sleep)
    return BroadcastSender(
        engine,
        send,
        pacer=pacer,
        clock=time.clock,
        sleep=time.sleep,
        wallclock=time.wallclock,
        **kw,
    )


async def test_200_recipients_at_default_limits_without_a_429(
    engine: AsyncEngine, api: LocalBotApi, send: TelegramSend, time: Time
) -> None:
    recipients = await add_citizens(engine, 200)
    announcement_id, reference = await new_announcement(engine, recipients)
    seen: list[Progress] = []

    async def progress(update: Progress) -> None:
        seen.append(update)

    sender = make_sender(engine, send, time, progress=progress, progress_interval=3.0)
    report = await sender.run(announcement_id)
    assert (report.status, report.sent, report.failed, report.remaining) == ("done", 200, 0, 0)
    assert api.stats.rate_limited == 0
    assert api.stats.total_delivered == 200
    assert set(api.stats.delivered.values()) == {1}
    assert 199 / 30 - 0.5 <= report.elapsed <= 200 / 30 + 0.5  # at the limit, not below it
    text = api.messages(FIRST_CHAT)[0].text
    assert f"Kode pengumuman: {reference}." in text
    assert seen[-1].final and seen[-1].sent == 200 and seen[-1].remaining == 0
    assert 2 <= len(seen) <= 200 / 30 / 3 + 3  # throttled to one every 3 s
    assert seen[1].remaining > 0 and seen[1].eta_seconds > 0


async def test_429_is_honoured(engine: AsyncEngine, clock: ManualClock, time: Time) -> None:
    api = await start_api(BotApiLimits(global_per_second=10), clock, 60)
    try:
        async with TelegramSend.create(TOKEN, base_url=api.bot_api_url) as send:
            announcement_id, _ = await new_announcement(engine, await add_citizens(engine, 60))
            report = await make_sender(engine, send, time, rate=30).run(announcement_id)
        assert report.status == "done" and report.sent == 60
        assert report.rate_limited == api.stats.rate_limited > 0
        assert api.stats.total_delivered == 60 and set(api.stats.delivered.values()) == {1}
        assert 1.0 in time.slept or max(time.slept) >= 0.99  # waited retry_after
    finally:
        await api.stop()


async def test_403_marks_inactive_and_is_skipped_next_time(
    engine: AsyncEngine, api: LocalBotApi, send: TelegramSend, time: Time
) -> None:
    recipients = await add_citizens(engine, 10)
    api.block_user(FIRST_CHAT + 3)
    first, _ = await new_announcement(engine, recipients)
    report = await make_sender(engine, send, time).run(first)
    assert (report.sent, report.blocked) == (9, 1)
    second, _ = await new_announcement(engine, recipients)
    api.reset()
    report = await make_sender(engine, send, time).run(second)
    assert (report.total, report.sent, report.blocked) == (9, 9, 0)
    assert FIRST_CHAT + 3 not in api.stats.delivered
    assert api.stats.calls["sendMessage"] == 9


async def test_crash_then_resume_sends_everyone_exactly_once(
    engine: AsyncEngine, api: LocalBotApi, send: TelegramSend, time: Time
) -> None:
    announcement_id, _ = await new_announcement(engine, await add_citizens(engine, 120))
    calls = 0
    task: asyncio.Task[object] | None = None

    async def crashing(chat_id: str, text: str, media: object = None) -> Outcome:
        nonlocal calls
        calls += 1
        if calls == 37 and task is not None:
            task.cancel()  # the process is stopped mid-broadcast
        return await send(chat_id, text)

    task = asyncio.create_task(make_sender(engine, crashing, time).run(announcement_id))
    with pytest.raises(asyncio.CancelledError):
        await task
    assert 37 <= api.stats.total_delivered < 120
    report = await make_sender(engine, send, time).run(announcement_id)
    assert (report.status, report.sent, report.unknown) == ("done", 120, 0)
    assert api.stats.total_delivered == 120
    assert set(api.stats.delivered.values()) == {1}


async def test_rows_cut_off_by_a_hard_crash_are_not_sent_again(
    engine: AsyncEngine, api: LocalBotApi, send: TelegramSend, time: Time
) -> None:
    recipients = await add_citizens(engine, 5)
    announcement_id, _ = await new_announcement(engine, recipients)
    async with engine.begin() as connection:  # as a killed process leaves them
        await connection.execute(
            update(AnnouncementDelivery)
            .where(AnnouncementDelivery.user_id.in_([r.user_id for r in recipients[:2]]))
            .values(status="sending", attempts=1)
        )
    report = await make_sender(engine, send, time).run(announcement_id)
    assert (report.status, report.sent, report.unknown) == ("done", 3, 2)
    assert FIRST_CHAT not in api.stats.delivered and FIRST_CHAT + 1 not in api.stats.delivered


async def test_cancel_stops_the_broadcast(engine: AsyncEngine, time: Time) -> None:
    announcement_id, _ = await new_announcement(engine, await add_citizens(engine, 50))
    sent: list[str] = []

    async def send(chat_id: str, text: str, media: object = None) -> Outcome:
        sent.append(chat_id)
        if len(sent) == 10:
            async with sessions(engine)() as session, session.begin():
                await store.cancel(session, announcement_id)
        return Outcome.sent()

    # One send at a time, so the cancel commits before the next batch is claimed.
    report = await make_sender(engine, send, time, batch=5, concurrency=1).run(announcement_id)
    assert report.status == "cancelled"
    assert 10 <= len(sent) <= 15 and report.sent == len(sent)
    assert report.remaining == 50 - len(sent)
    again = await make_sender(engine, send, time).run(announcement_id)
    assert again.status == "cancelled" and again.sent == report.sent


async def test_transient_errors_are_retried_with_backoff_then_given_up(
    engine: AsyncEngine, time: Time
) -> None:
    announcement_id, _ = await new_announcement(engine, await add_citizens(engine, 3))
    tries: dict[str, int] = {}

    async def flaky(chat_id: str, text: str, media: object = None) -> Outcome:
        tries[chat_id] = tries.get(chat_id, 0) + 1
        if chat_id == str(FIRST_CHAT):
            return Outcome.transient("timed out") if tries[chat_id] < 3 else Outcome.sent()
        if chat_id == str(FIRST_CHAT + 1):
            return Outcome.transient("bad gateway")
        raise RuntimeError("channel bug")  # counted as transient too

    sender = make_sender(engine, flaky, time, max_attempts=4, backoff=2.0)
    report = await sender.run(announcement_id)
    assert (report.sent, report.failed, report.remaining) == (1, 2, 0)
    assert tries == {str(FIRST_CHAT): 3, str(FIRST_CHAT + 1): 4, str(FIRST_CHAT + 2): 4}
    assert sum(time.slept) >= 2 + 4 + 8  # exponential backoff between the attempts
