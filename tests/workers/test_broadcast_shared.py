"""The broadcast queue with several senders (PostgreSQL): claims, owners, the shared rate."""

from __future__ import annotations

import asyncio
import time
from collections import Counter

from sqlalchemy import insert, select, update
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.broadcast.pacer import Pacer
from bot.broadcast.sender import BroadcastSender, Media, Outcome
from bot.storage.models import AnnouncementDelivery, LoketWorker
from bot.workers.rate import SharedRate
from bot.workers.registry import WorkerRegistry
from tests.broadcast.conftest import add_citizens, new_announcement

RATE = 200.0  # fast enough for a unit test; the two-worker test runs at Telegram's 30/s


async def test_two_senders_share_one_announcement_without_a_second_copy(
    engine: AsyncEngine,
) -> None:
    recipients = await add_citizens(engine, 120)
    announcement_id, _ = await new_announcement(engine, recipients)
    sent: Counter[str] = Counter()
    times: list[float] = []

    async def send(chat_id: str, text: str, media: Media | None = None) -> Outcome:
        sent[chat_id] += 1
        times.append(time.monotonic())
        await asyncio.sleep(0.002)
        return Outcome.sent()

    async with WorkerRegistry(engine).running() as one, WorkerRegistry(engine).running() as two:
        senders = []
        for registry in (one, two):
            pacer = Pacer(RATE)
            pacer.shared = SharedRate(engine, RATE)
            senders.append(BroadcastSender(engine, send, pacer=pacer, workers=registry))
        reports = await asyncio.gather(*(s.run(announcement_id) for s in senders))

    assert len(sent) == 120 and max(sent.values()) == 1
    async with engine.connect() as connection:
        owners = Counter((await connection.scalars(select(AnnouncementDelivery.claimed_by))).all())
    assert len(owners) == 2, owners  # both claimed rows
    assert sorted(r.closed_here for r in reports) == [False, True]  # one report only
    assert all(r.status == "done" for r in reports if r.closed_here)
    # Together within the one global rate (the first slot of each reservation may fall a
    # little early: the bucket's burst of a tenth of a second).
    elapsed = times[-1] - times[0]
    assert elapsed >= (120 - RATE / 10) / RATE, elapsed


async def test_a_starting_worker_leaves_a_live_workers_rows_alone(engine: AsyncEngine) -> None:
    """Rows in ``sending``: the dead owner's become ``unknown``, a live owner's stay."""
    recipients = await add_citizens(engine, 6)
    announcement_id, _ = await new_announcement(engine, recipients)
    async with engine.begin() as connection:
        dead = await connection.scalar(
            insert(LoketWorker).values(host="gone", pid=1).returning(LoketWorker.id)
        )
    sent: list[str] = []

    async def send(chat_id: str, text: str, media: Media | None = None) -> Outcome:
        sent.append(chat_id)
        return Outcome.sent()

    async with WorkerRegistry(engine).running() as live, WorkerRegistry(engine).running() as me:
        async with engine.begin() as connection:
            for owner, chosen in ((dead, recipients[:2]), (live.id, recipients[2:4])):
                await connection.execute(
                    update(AnnouncementDelivery)
                    .where(AnnouncementDelivery.user_id.in_([r.user_id for r in chosen]))
                    .values(status="sending", attempts=1, claimed_by=owner)
                )
        report = await BroadcastSender(engine, send, workers=me).run(announcement_id)
        async with engine.connect() as connection:
            statuses = dict(
                (
                    await connection.execute(
                        select(AnnouncementDelivery.chat_id, AnnouncementDelivery.status)
                    )
                ).all()
            )
    assert [statuses[r.chat_id] for r in recipients] == ["unknown"] * 2 + ["sending"] * 2 + [
        "sent"
    ] * 2
    assert sorted(sent) == [r.chat_id for r in recipients[4:]]
    # The live worker still has rows in flight: this one neither closes nor reports it.
    assert (report.status, report.closed_here, report.remaining) == ("sending", False, 2)


async def test_shared_slots_are_spaced_one_rate_apart_across_workers(
    engine: AsyncEngine,
) -> None:
    rate = 100.0
    taken: list[float] = []

    async def worker() -> None:
        shared = SharedRate(engine, rate, batch=5)
        for _ in range(25):
            await shared.take()
            taken.append(time.monotonic())

    started = time.monotonic()
    await asyncio.gather(worker(), worker())
    # 50 slots of one global budget: about half a second, not a quarter (two local buckets).
    assert time.monotonic() - started >= 49 / rate * 0.9
    taken.sort()
    in_any_tenth = max(sum(1 for t in taken if start <= t < start + 0.1) for start in taken)
    assert in_any_tenth <= rate / 10 + 2, in_any_tenth
