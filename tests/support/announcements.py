"""A database prepared for a broadcast by real `loket run` processes (kill, workers)."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import insert, select

from bot.app import open_loket
from bot.broadcast.store import create_announcement
from bot.settings import Settings
from bot.staff.audience import Segment
from bot.storage.models import Subscription, User


async def prepare_broadcast(
    database_url: str,
    *,
    author: int,
    first_chat: int,
    recipients: int,
    text: str,
    send_at: dt.datetime | None = None,
) -> str:
    """Telegram citizens ``first_chat``.. subscribed to Dinkes news (Mimika Baru), the staff
    ``author`` and one Dinkes announcement to all of them, due at ``send_at`` (None: now).
    Returns its reference code."""
    async with open_loket(Settings(database_url=database_url, env={})) as loket:
        async with loket.database.begin() as connection:
            await connection.execute(
                insert(User),
                [{"channel": "telegram", "external_id": str(author)}]
                + [
                    {"channel": "telegram", "external_id": str(first_chat + i)}
                    for i in range(recipients)
                ],
            )
            users = (await connection.execute(select(User.id, User.external_id))).all()
            await connection.execute(
                insert(Subscription),
                [
                    {"user_id": uid, "district": "94.04.01", "topics": "dinkes"}
                    for uid, ext in users
                    if ext != str(author)
                ],
            )
        author_id = next(uid for uid, ext in users if ext == str(author))
        async with loket.sessions() as session, session.begin():
            announcement = await create_announcement(
                session,
                opd="dinkes",
                text=text,
                author_user_id=author_id,
                segment=Segment("dinkes").to_json(),
                send_at=send_at,
            )
            return announcement.reference
