"""Small named queries. Handlers and services call these, never ``select()`` directly."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from typing import Any

from sqlalchemy import delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.engine.state import ConversationState
from bot.storage.models import (
    CitizenRequest,
    Conversation,
    Event,
    Subscription,
    UnmatchedQuestion,
    User,
    utcnow,
)

# Every table that holds something about one citizen. /hapusdata deletes from all of them,
# and a test checks that this list covers every table with a user_id column.
USER_TABLES = (Event, UnmatchedQuestion, CitizenRequest, Subscription, Conversation)


async def get_or_create_user(
    session: AsyncSession, channel: str, external_id: str, locale: str
) -> tuple[User, bool]:
    user = await session.scalar(
        select(User).where(User.channel == channel, User.external_id == external_id)
    )
    if user is not None:
        user.last_seen_at = utcnow()
        return user, False
    user = User(channel=channel, external_id=external_id, locale=locale)
    session.add(user)
    await session.flush()
    return user, True


async def find_user(session: AsyncSession, channel: str, external_id: str) -> User | None:
    return await session.scalar(
        select(User).where(User.channel == channel, User.external_id == external_id)
    )


async def load_state(session: AsyncSession, user_id: int) -> ConversationState | None:
    row = await session.get(Conversation, user_id)
    return ConversationState.from_json(row.state) if row is not None else None


async def save_state(session: AsyncSession, user_id: int, state: ConversationState) -> None:
    row = await session.get(Conversation, user_id)
    if row is None:
        row = Conversation(user_id=user_id, state={})
        session.add(row)
    row.state = state.to_json()
    row.flow_version = state.flow_version
    row.expires_at = state.expires_at
    row.updated_at = utcnow()


async def append_events(
    session: AsyncSession,
    user_id: int | None,
    events: Iterable[tuple[str, Mapping[str, Any]]],
    *,
    flow_version: str | None,
    intent: str | None,
    at: dt.datetime | None = None,
) -> None:
    moment = at or utcnow()
    session.add_all(
        Event(
            user_id=user_id, at=moment, kind=kind, intent=detail.get("intent") or intent,
            step=detail.get("step"), flow_version=flow_version, detail=dict(detail),
        )
        for kind, detail in events
    )


async def record_unmatched(session: AsyncSession, user_id: int, text: str, locale: str) -> None:
    session.add(UnmatchedQuestion(user_id=user_id, text=text, locale=locale))


async def record_request(
    session: AsyncSession, user_id: int, *, reference: str, kind: str, opd: str | None,
    intent: str | None, message: str,
) -> None:
    session.add(CitizenRequest(
        reference=reference, user_id=user_id, kind=kind, opd=opd, intent=intent, message=message,
    ))


async def save_subscription(session: AsyncSession, user_id: int, district: str, topics: list[str]) -> None:
    row = await session.get(Subscription, user_id)
    if row is None:
        row = Subscription(user_id=user_id, district=district, topics="")
        session.add(row)
    row.district = district
    row.topics = ",".join(sorted(set(topics)))
    row.updated_at = utcnow()


async def get_subscription(session: AsyncSession, user_id: int) -> Subscription | None:
    return await session.get(Subscription, user_id)


async def erase_user(session: AsyncSession, user_id: int) -> None:
    """Deletes everything stored about one citizen, in every table."""
    for table in USER_TABLES:
        await session.execute(delete(table).where(table.user_id == user_id))  # type: ignore[attr-defined]
    await session.execute(delete(User).where(User.id == user_id))


async def count_rows_for_user(session: AsyncSession, user_id: int) -> dict[str, int]:
    """How many rows each table holds for a user (used to prove an erasure)."""
    counts = {}
    for table in USER_TABLES:
        counts[table.__tablename__] = await session.scalar(
            select(func.count()).select_from(table).where(table.user_id == user_id)  # type: ignore[attr-defined]
        ) or 0
    counts["users"] = await session.scalar(select(func.count()).select_from(User).where(User.id == user_id)) or 0
    return counts
