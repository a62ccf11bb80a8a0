"""Who an announcement reaches: subscribed citizens, narrowed by what its author may address.

Only a ``subscriptions`` row makes a citizen a recipient, so /berhenti (which deletes the
row in the event's transaction) takes effect for every announcement queued after it (and
drops what was queued for them and not yet sent, see ``repo.delete_subscription``).

An OPD speaks only to the citizens who asked for its news: staff of Dinkes reach subscribers
of the ``dinkes`` topic, never those who asked for tax news only. A segment narrows that
further to one or more distrik and/or one of the OPD's topics. ``pemkab`` (the regency
itself, admins only) reaches every subscriber.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import func, literal, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.broadcast.store import Recipient, still_inactive
from bot.storage.models import Subscription, User

REGENCY = "pemkab"
# The subscription topics each OPD may address (values of ``subscriptions.topics``).
OPD_TOPICS: dict[str, tuple[str, ...]] = {
    "disdukcapil": ("disdukcapil", "jemput_bola"),
    "disnakertrans": ("disnakertrans",),
    "dinkes": ("dinkes",),
    "bapenda": ("bapenda",),
}
ALL_TOPICS = ("disdukcapil", "jemput_bola", "disnakertrans", "dinkes", "bapenda")
TOPIC_LABELS = {
    "disdukcapil": "Kependudukan",
    "jemput_bola": "Jadwal jemput bola",
    "disnakertrans": "Tenaga kerja",
    "dinkes": "Kesehatan",
    "bapenda": "Pajak daerah",
}


@dataclass(frozen=True, slots=True)
class Segment:
    """Who an announcement is for: an OPD's subscribers, optionally some distrik / a topic."""

    opd: str
    districts: tuple[str, ...] = field(default_factory=tuple)
    topic: str | None = None

    def topics(self) -> tuple[str, ...]:
        """The topics a recipient must have subscribed to (any one of them)."""
        if self.topic is not None:
            return (self.topic,)
        return ALL_TOPICS if self.opd == REGENCY else OPD_TOPICS.get(self.opd, (self.opd,))

    def allowed(self) -> bool:
        """A topic outside the OPD's own is never allowed (a staff member of one OPD cannot
        address another OPD's subscribers through a topic)."""
        return self.topic is None or self.topic in (
            ALL_TOPICS if self.opd == REGENCY else OPD_TOPICS.get(self.opd, ())
        )

    def to_json(self) -> dict[str, Any]:
        return {"opd": self.opd, "districts": list(self.districts), "topic": self.topic}

    @classmethod
    def from_json(cls, data: dict[str, Any], default_opd: str) -> Segment:
        return cls(
            opd=str(data.get("opd") or default_opd),
            districts=tuple(str(d) for d in data.get("districts") or ()),
            topic=data.get("topic") or None,
        )


def _audience(channel: str, segment: Segment) -> Any:
    padded = literal(",") + Subscription.topics + literal(",")
    query = (
        select(User.id, User.external_id, User.locale)
        .join(Subscription, Subscription.user_id == User.id)
        .where(User.channel == channel)
        .where(or_(*(padded.contains(f",{topic},") for topic in segment.topics())))
        .where(User.id.not_in(still_inactive()))  # blocked the bot: not counted, not queued
    )
    if segment.districts:
        query = query.where(Subscription.district.in_(segment.districts))
    return query


async def recipients(session: AsyncSession, channel: str, segment: Segment) -> list[Recipient]:
    """The subscribed citizens of ``channel`` the segment reaches, in a stable order."""
    rows = await session.execute(_audience(channel, segment).order_by(User.id))
    return [Recipient(user_id, chat_id, locale) for user_id, chat_id, locale in rows]


async def count(session: AsyncSession, channel: str, segment: Segment) -> int:
    """How many citizens the segment reaches now (for the preview)."""
    subquery = _audience(channel, segment).subquery()
    return int(await session.scalar(select(func.count()).select_from(subquery)) or 0)


async def subscribers(
    session: AsyncSession,
    *,
    channel: str,
    district: str | None = None,
    topic: str | None = None,
    districts: Sequence[str] = (),
) -> list[Recipient]:
    """Every subscriber of ``channel`` (of one distrik / one topic when given)."""
    segment = Segment(
        REGENCY, tuple(districts) + ((district,) if district is not None else ()), topic
    )
    return await recipients(session, channel, segment)
