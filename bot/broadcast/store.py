"""The announcement queue in the database: create, enqueue in bulk, cancel, inactive citizens.

Enqueueing writes one ``announcement_deliveries`` row per recipient with SQLAlchemy Core
``executemany`` in chunks, in one transaction (100,000 rows in about a second on SQLite, see
bench/README.md). A recipient listed in ``broadcast_inactive`` (Telegram answered 403 to an
earlier message) is left out; a recipient listed twice is queued once.
"""

from __future__ import annotations

import datetime as dt
import secrets
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Select, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, AsyncSession

from bot.storage.models import (
    Announcement,
    AnnouncementDelivery,
    BroadcastInactive,
    User,
    utcnow,
)
from bot.storage.repo import dialect_insert

REFERENCE_PREFIX = "MMK"
# No 0/O, 1/I/L, 5/S, 2/Z: a code read aloud or copied by hand stays unambiguous.
REFERENCE_ALPHABET = "346789ABCDEFGHJKMNPQRTUVWXY"
REFERENCE_LENGTH = 4
ENQUEUE_CHUNK = 5_000
# Telegram's limit is 4,096 characters; the footer with the reference takes the rest.
MAX_TEXT_LENGTH = 3_800
# A photo's or document's caption is at most 1,024 characters, the footer included.
MAX_CAPTION_LENGTH = 850

DELIVERIES = AnnouncementDelivery.__table__


@dataclass(frozen=True)
class Recipient:
    user_id: int
    chat_id: str
    locale: str = "id"


def new_reference(prefix: str = REFERENCE_PREFIX) -> str:
    """A short code such as ``MMK-7K3Q`` (27**4 = 531,441 codes, drawn at random)."""
    body = "".join(secrets.choice(REFERENCE_ALPHABET) for _ in range(REFERENCE_LENGTH))
    return f"{prefix}-{body}"


def normalise_reference(text: str) -> str:
    """What a citizen typed (``mmk 7k3q``, ``MMK-7K3Q.``) as a stored reference."""
    cleaned = "".join(ch for ch in text.upper() if ch.isalnum())
    if cleaned.startswith(REFERENCE_PREFIX):
        cleaned = cleaned[len(REFERENCE_PREFIX) :]
    return f"{REFERENCE_PREFIX}-{cleaned}"


async def create_announcement(
    session: AsyncSession,
    *,
    opd: str,
    text: str,
    author_user_id: int | None = None,
    segment: dict[str, Any] | None = None,
    send_at: dt.datetime | None = None,
) -> Announcement:
    """A new ``scheduled`` announcement with a reference code no other announcement has.
    Call inside a transaction; the caller enqueues its recipients next."""
    if not text.strip():
        raise ValueError("an announcement needs a text")
    if len(text) > MAX_TEXT_LENGTH:
        raise ValueError(f"an announcement is at most {MAX_TEXT_LENGTH} characters")
    announcement = Announcement(
        reference=await free_reference(session),
        opd=opd,
        author_user_id=author_user_id,
        text=text,
        segment=segment or {},
        send_at=send_at,
        status="scheduled",
    )
    session.add(announcement)
    await session.flush()
    return announcement


async def free_reference(session: AsyncSession) -> str:
    """A reference code no announcement (draft included) has yet."""
    for _ in range(20):
        reference = new_reference()
        taken = await session.scalar(
            select(Announcement.id).where(Announcement.reference == reference)
        )
        if taken is None:
            return reference
    raise RuntimeError("no free announcement reference")  # pragma: no cover - space full


async def find_by_reference(session: AsyncSession, text: str) -> Announcement | None:
    """The announcement a citizen's code names (for the hoax check), or None. A draft was
    never sent, so its code proves nothing and is not found."""
    return await session.scalar(
        select(Announcement).where(
            Announcement.reference == normalise_reference(text), Announcement.status != "draft"
        )
    )


def still_inactive() -> Select[tuple[int]]:
    """Users whose 403 still stands: marked inactive and not seen since. A citizen who
    unblocked the bot and wrote to it again (``users.last_seen_at`` after the mark) receives
    announcements again, with no write on their message's path."""
    return (
        select(BroadcastInactive.user_id)
        .select_from(BroadcastInactive)
        .join(User, User.id == BroadcastInactive.user_id)
        .correlate(None)  # also used as a subquery of queries over broadcast_inactive
        .where(or_(User.last_seen_at.is_(None), User.last_seen_at <= BroadcastInactive.at))
    )


def _chunks(rows: Iterable[dict[str, Any]], size: int) -> Iterator[list[dict[str, Any]]]:
    chunk: list[dict[str, Any]] = []
    for row in rows:
        chunk.append(row)
        if len(chunk) >= size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def _insert_ignoring_duplicates(connection: AsyncConnection) -> Any:
    make = dialect_insert(connection.dialect.name)
    return DELIVERIES.insert() if make is None else make(DELIVERIES).on_conflict_do_nothing()


async def enqueue(
    engine: AsyncEngine,
    announcement_id: int,
    recipients: Iterable[Recipient],
    *,
    chunk: int = ENQUEUE_CHUNK,
) -> int:
    """Queues one delivery per recipient (inactive ones left out) in one transaction and
    returns the number of recipients now queued for the announcement."""
    async with engine.begin() as connection:
        inactive = set((await connection.execute(still_inactive())).scalars())
        statement = _insert_ignoring_duplicates(connection)
        rows = (
            {
                "announcement_id": announcement_id,
                "user_id": recipient.user_id,
                "chat_id": recipient.chat_id,
                "locale": recipient.locale,
                "status": "pending",
                "attempts": 0,
            }
            for recipient in recipients
            if recipient.user_id not in inactive
        )
        for part in _chunks(rows, chunk):
            await connection.execute(statement, part)
        total = await connection.scalar(
            select(func.count())
            .select_from(DELIVERIES)
            .where(DELIVERIES.c.announcement_id == announcement_id)
        )
        await connection.execute(
            update(Announcement.__table__)
            .where(Announcement.__table__.c.id == announcement_id)
            .values(recipients=total)
        )
    return int(total or 0)


async def status_counts(session: AsyncSession, announcement_id: int) -> dict[str, int]:
    """Deliveries of an announcement by status (``pending``, ``sent``, ...)."""
    result = await session.execute(
        select(AnnouncementDelivery.status, func.count())
        .where(AnnouncementDelivery.announcement_id == announcement_id)
        .group_by(AnnouncementDelivery.status)
    )
    return {status: int(count) for status, count in result.all()}


async def cancel(session: AsyncSession, announcement_id: int) -> bool:
    """Stops an announcement: a running sender notices before its next batch. Returns False
    when it had already finished. Call inside a transaction."""
    result = await session.execute(
        update(Announcement)
        .where(
            Announcement.id == announcement_id,
            Announcement.status.in_(("scheduled", "sending")),
        )
        .values(status="cancelled", finished_at=utcnow())
    )
    return bool(result.rowcount)  # type: ignore[attr-defined]


async def mark_inactive(session: AsyncSession, user_id: int, reason: str) -> None:
    """No more announcements to ``user_id`` (Telegram answered 403)."""
    if await session.get(BroadcastInactive, user_id) is None:
        session.add(BroadcastInactive(user_id=user_id, reason=reason[:200]))


async def reactivate(session: AsyncSession, user_id: int) -> None:
    """Announcements reach the citizen again (``still_inactive`` already ignores a mark older
    than their last message; this removes the mark itself)."""
    row = await session.get(BroadcastInactive, user_id)
    if row is not None:
        await session.delete(row)
