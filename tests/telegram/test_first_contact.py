"""A crowd of first contacts (issue 17): after an announcement or on a market day, many
citizens write for the first time at once. Each is answered exactly once, and each gets one
user row however many arrive together (their rows are created in shared transactions)."""

from __future__ import annotations

from sqlalchemy import func, select

from bot.storage.models import User
from tests.telegram.support import Desk

CROWD = 2000


async def test_two_thousand_first_contacts_each_get_one_answer(desk: Desk) -> None:
    citizens = [desk.citizen(700_000 + i) for i in range(CROWD)]
    update_ids = [c.send_nowait("syarat bikin ktp") for c in citizens]
    assert desk.tracker is not None
    await desk.tracker.wait_updates(update_ids, timeout=120.0)

    for citizen in citizens:
        replies = citizen.bot_messages()
        assert len(replies) == 1, (citizen.user_id, [m.text[:60] for m in replies])
        assert "KTP" in replies[0].text
    assert desk.loket is not None
    async with desk.loket.sessions() as session:
        users = await session.scalar(
            select(func.count()).select_from(User).where(User.external_id.like("70____"))
        )
        distinct = await session.scalar(
            select(func.count(func.distinct(User.external_id))).where(
                User.external_id.like("70____")
            )
        )
    assert users == distinct == CROWD
    assert desk.unexpected_errors() == []
