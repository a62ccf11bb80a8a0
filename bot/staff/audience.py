"""Who an announcement reaches: the citizens subscribed to its distrik and topic.

Only a ``subscriptions`` row makes a citizen a recipient, so /berhenti (which deletes the
row in the event's transaction) takes effect for every announcement queued after it.
The /umumkan segment step (issue 5) is meant to build its recipients with this.
"""

from __future__ import annotations

from sqlalchemy import literal, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.broadcast.store import Recipient
from bot.storage.models import Subscription, User


async def subscribers(
    session: AsyncSession, *, channel: str, district: str | None = None, topic: str | None = None
) -> list[Recipient]:
    """Subscribed citizens of ``channel`` (of one distrik / one topic when given)."""
    query = (
        select(User.id, User.external_id, User.locale)
        .join(Subscription, Subscription.user_id == User.id)
        .where(User.channel == channel)
        .order_by(User.id)
    )
    if district is not None:
        query = query.where(Subscription.district == district)
    if topic is not None:
        padded = literal(",") + Subscription.topics + literal(",")
        query = query.where(padded.contains(f",{topic},"))
    rows = await session.execute(query)
    return [Recipient(user_id, chat_id, locale) for user_id, chat_id, locale in rows]
