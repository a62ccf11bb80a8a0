"""Two workers (two Lokets, each with its own reply loop and connection pool) on one
database deliver every officer reply exactly once, whichever of them runs the pass; on
PostgreSQL as in production with several workers, and on SQLite too."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from sqlalchemy import select

from bot.engine.messages import Outbound
from bot.handoff import store
from bot.handoff.service import ReplyLoop
from bot.notify.delivery import DeliveryResult
from bot.storage import repo
from bot.storage.models import TicketOutbox
from tests.support.app import FakeClock, running_loket

REPLIES = 40


class Channel:
    """One worker's channel. Its first send waits until the other worker is sending too, so
    the claims really race (without it, one worker may claim every row before the other
    starts, and the test would prove nothing about two)."""

    def __init__(self, sent: list[str]) -> None:
        self.sent = sent
        self.started = asyncio.Event()
        self.other: Channel | None = None

    async def __call__(self, channel: str, external_id: str, message: Outbound) -> DeliveryResult:
        if not self.started.is_set():
            self.started.set()
            assert self.other is not None
            await asyncio.wait_for(self.other.started.wait(), 10)
        self.sent.append(message.text)
        return DeliveryResult.DELIVERED


@pytest.mark.asyncio
async def test_two_workers_deliver_each_reply_once(database_url: str, tmp_path: Path) -> None:
    clock = FakeClock()
    async with (
        running_loket(database_url, clock=clock, sandbox=False) as first,
        running_loket(database_url, clock=clock, sandbox=False) as second,
    ):
        async with first.sessions() as session, session.begin():
            user, _created = await repo.get_or_create_user(session, "test", "warga-1", "id")
            await session.flush()
            ticket = await store.open_ticket(
                session,
                number="LKT-TWOW22",
                user_id=user.id,
                opd="dinkes",
                kind="request",
                consent=False,
                message="Apakah puskesmas buka hari Sabtu?",
                now=clock(),
            )
            for n in range(REPLIES):
                await store.reply(session, ticket, user.id, f"balasan {n}", clock())
        sent: list[str] = []
        one, two = Channel(sent), Channel(sent)
        one.other, two.other = two, one
        loops = [
            ReplyLoop(first.handoff, first.frontdesk, {"test": one}, name="worker-1"),
            ReplyLoop(second.handoff, second.frontdesk, {"test": two}, name="worker-2"),
        ]
        counts = await asyncio.gather(*(loop.deliver_pending() for loop in loops))
        assert sum(counts) == REPLIES
        assert all(counts), counts  # both workers took part: the claims really raced
        assert len(sent) == REPLIES
        assert sorted(sent) == sorted(
            f"Balasan petugas Dinkes (LKT-TWOW22):\nbalasan {n}" for n in range(REPLIES)
        )
        # A second pass finds nothing left to send.
        assert await asyncio.gather(*(loop.deliver_pending() for loop in loops)) == [0, 0]
        async with first.sessions() as session:
            rows = (await session.scalars(select(TicketOutbox))).all()
        assert [row.state for row in rows] == ["sent"] * REPLIES
        assert {row.claimed_by for row in rows} <= {"worker-1", "worker-2"}
