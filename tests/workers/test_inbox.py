"""The inbox on its own: two inboxes (as two workers) on one PostgreSQL database.

Updates of several citizens are recorded alternately at the two, as a round-robin load
balancer would hand them out, and both race for every citizen's lock, while each handler
yields to the event loop mid-update: every
citizen's updates must still be handled exactly once and in update_id order, whichever
worker handled them.
"""

from __future__ import annotations

import asyncio
import random
from typing import Any

from sqlalchemy import func, insert, select
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.storage import repo
from bot.storage.db import sessions
from bot.storage.models import InboxUpdate, User
from bot.workers.inbox import Inbox, lock_id

CITIZENS = 8
PER_CITIZEN = 12


async def test_each_citizens_updates_once_and_in_order_across_two_workers(
    engine: AsyncEngine,
) -> None:
    handled: dict[str, list[int]] = {}
    by_worker = [0, 0]
    rng = random.Random(7)

    def handler(worker: int) -> Any:
        async def handle(update: dict[str, Any]) -> None:
            for _ in range(rng.randint(0, 3)):  # another citizen's update may run meanwhile
                await asyncio.sleep(0)
            handled.setdefault(update["key"], []).append(update["update_id"])
            by_worker[worker] += 1

        return handle

    inboxes = [Inbox(engine, handler(0), lock_pool=4), Inbox(engine, handler(1), lock_pool=4)]
    async with inboxes[0].running(), inboxes[1].running():
        update_id = 1000
        for _ in range(PER_CITIZEN):
            for n in range(CITIZENS):
                update_id += 1
                key = f"user:{900 + n}"
                inbox = inboxes[update_id % 2]
                assert await inbox.record(update_id, key, {"update_id": update_id, "key": key})
                inbox.kick(key)
            # Both workers race for every citizen's lock at once, too.
            for n in range(CITIZENS):
                inboxes[0].kick(f"user:{900 + n}")
                inboxes[1].kick(f"user:{900 + n}")
        # A redelivery of an update already recorded (by either worker) is dropped.
        assert not await inboxes[0].record(1001, "user:900", {"update_id": 1001})
        assert not await inboxes[1].record(1001, "user:900", {"update_id": 1001})
        await asyncio.gather(inboxes[0].idle(), inboxes[1].idle())

    assert len(handled) == CITIZENS
    for key, ids in handled.items():
        assert ids == sorted(ids), f"{key} reordered: {ids}"
        assert len(ids) == len(set(ids)) == PER_CITIZEN, f"{key}: {ids}"
    assert min(by_worker) > 0, by_worker
    assert inboxes[0].duplicates == inboxes[1].duplicates == 1
    async with engine.connect() as connection:
        left = await connection.scalar(
            select(func.count()).select_from(InboxUpdate).where(InboxUpdate.started_at.is_(None))
        )
    assert left == 0


async def test_a_waiting_update_of_a_dead_worker_is_swept(engine: AsyncEngine) -> None:
    """Recorded, answered 200, then the worker died before processing: the sweep of a
    living worker finds it once it has waited ``sweep_after`` seconds."""
    handled: list[int] = []

    async def handle(update: dict[str, Any]) -> None:
        handled.append(update["update_id"])

    dead = Inbox(engine, handle)
    assert await dead.record(5, "user:1", {"update_id": 5})  # never kicked
    await dead._locks_engine.dispose()
    living = Inbox(engine, handle, sweep_after=0.0)
    try:
        assert await living.sweep() == 1
        await living.idle()
    finally:
        await living._locks_engine.dispose()
    assert handled == [5]


async def test_hapusdata_erases_the_citizens_inbox_rows(engine: AsyncEngine) -> None:
    async with engine.begin() as connection:
        user_id = await connection.scalar(
            insert(User).values(channel="telegram", external_id="4242").returning(User.id)
        )
    inbox = Inbox(engine, lambda update: asyncio.sleep(0))
    try:
        await inbox.record(1, "user:4242", {"update_id": 1, "text": "NIK saya ..."})
        await inbox.record(2, "user:4243", {"update_id": 2})
    finally:
        await inbox._locks_engine.dispose()
    async with sessions(engine)() as session, session.begin():
        await repo.erase_user(session, user_id)
    async with engine.connect() as connection:
        keys = (await connection.scalars(select(InboxUpdate.ordering_key))).all()
    assert keys == ["user:4243"]


def test_lock_ids_are_signed_32_bit() -> None:
    ids = {lock_id(f"user:{n}") for n in range(10_000)}
    assert all(-(2**31) <= value < 2**31 for value in ids)
    assert len(ids) > 9_990  # collisions only make two citizens wait for each other
