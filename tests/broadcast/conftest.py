"""Fixtures: a database with citizens (on SQLite, then on PostgreSQL), a manual clock the
pacer sleeps on."""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import AsyncIterator

import pytest
from sqlalchemy import insert, select
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.botapi import ManualClock
from bot.broadcast.store import Recipient, create_announcement, enqueue
from bot.storage.db import create_schema, make_engine, sessions
from bot.storage.models import User

FIRST_CHAT = 700_000
EPOCH = dt.datetime(2026, 11, 28, tzinfo=dt.UTC)


@pytest.fixture(autouse=True)
def _timedelta_retry_after(monkeypatch: pytest.MonkeyPatch) -> None:
    """PTB 22.8 warns on every RetryAfter unless PTB_TIMEDELTA is set (warnings are errors)."""
    monkeypatch.setenv("PTB_TIMEDELTA", "1")


@pytest.fixture
async def engine(database_url: str, clock: ManualClock) -> AsyncIterator[AsyncEngine]:
    """A fresh database at head, on SQLite and on PostgreSQL (tests/support/database.py).
    Rows are stamped on the test's calendar (EPOCH + the manual clock), never the machine's:
    a 403 marked now must be newer than a citizen last seen before EPOCH on any date."""
    database = make_engine(database_url, clock=lambda: EPOCH + dt.timedelta(seconds=clock()))
    await create_schema(database)
    try:
        yield database
    finally:
        await database.dispose()


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock()


class Time:
    """The monotonic clock, a sleep that advances it, and a wall clock that follows it."""

    def __init__(self, clock: ManualClock) -> None:
        self.clock = clock
        self.slept: list[float] = []

    async def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.clock.advance(seconds)
        await asyncio.sleep(0)

    def wallclock(self) -> dt.datetime:
        return EPOCH + dt.timedelta(seconds=self.clock())


@pytest.fixture
def time(clock: ManualClock) -> Time:
    return Time(clock)


async def add_citizens(
    engine: AsyncEngine, count: int, first: int = FIRST_CHAT
) -> list[Recipient]:
    """``count`` Telegram citizens; their chat ids are ``first``, ``first + 1``, ..."""
    # Last seen before the test's epoch: a 403 recorded during the test is newer.
    seen = EPOCH - dt.timedelta(days=1)
    rows = [
        {"channel": "telegram", "external_id": str(first + i), "last_seen_at": seen}
        for i in range(count)
    ]
    async with engine.begin() as connection:
        await connection.execute(insert(User), rows)
    maker = sessions(engine)
    async with maker() as session:
        users = (
            await session.execute(
                select(User.id, User.external_id).where(
                    User.external_id.in_([r["external_id"] for r in rows])
                )
            )
        ).all()
    return sorted((Recipient(uid, ext) for uid, ext in users), key=lambda r: int(r.chat_id))


async def new_announcement(
    engine: AsyncEngine, recipients: list[Recipient], text: str = "Vaksinasi gratis besok."
) -> tuple[int, str]:
    async with sessions(engine)() as session, session.begin():
        announcement = await create_announcement(session, opd="dinkes", text=text)
        announcement_id, reference = announcement.id, announcement.reference
    await enqueue(engine, announcement_id, recipients)
    return announcement_id, reference
