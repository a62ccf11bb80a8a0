"""``loket export-user``: everything stored about one citizen, as JSON (UU 27/2022 Pasal 7).

A citizen may ask what the regency's bot holds about them. This gathers it from every table
that has a row of theirs — the same list /hapusdata erases from (``repo.USER_TABLES``) — plus
the official acts that name them (announcements they wrote, audit entries about them, roles
they granted), so an answer to an access request and an erasure cover the same ground.
"""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.handoff import store as handoff_store
from bot.storage import repo
from bot.storage.models import Announcement, AuditLog, Booking, BookingReminder, Role

EXPORT_FORMAT = "loket-user-export/1"


def _plain(value: Any) -> Any:
    if isinstance(value, dt.datetime):
        return (repo.as_utc(value) or value).isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    return value


def _row(instance: Any) -> dict[str, Any]:
    """A mapped row as a dict of its columns (not its relationships), JSON-ready."""
    table = instance.__table__
    return {column.key: _plain(getattr(instance, column.key)) for column in table.columns}


async def _rows(session: AsyncSession, statement: Any) -> list[dict[str, Any]]:
    return [_row(instance) for instance in (await session.scalars(statement)).all()]


async def export_user(
    sessions: async_sessionmaker[AsyncSession],
    channel: str,
    external_id: str,
    *,
    now: dt.datetime | None = None,
) -> dict[str, Any] | None:
    """The citizen's data by table; None when no such citizen is stored."""
    async with sessions() as session:
        user = await repo.find_user(session, channel, external_id)
        if user is None:
            return None
        tables: dict[str, list[dict[str, Any]]] = {"users": [_row(user)]}
        for table in repo.USER_TABLES:
            key = table.__tablename__
            column = table.user_id  # type: ignore[attr-defined]
            order = list(table.__table__.primary_key.columns)  # type: ignore[attr-defined]
            tables[key] = await _rows(
                session, select(table).where(column == user.id).order_by(*order)
            )
        # The reminders of the citizen's queue numbers (issue 18; the bookings themselves
        # are in USER_TABLES): /hapusdata erases them with the bookings (ON DELETE CASCADE).
        tables["booking_reminders"] = await _rows(
            session,
            select(BookingReminder)
            .join(Booking, Booking.id == BookingReminder.booking_id)
            .where(Booking.user_id == user.id)
            .order_by(BookingReminder.id),
        )
        tables["announcements"] = await _rows(
            session,
            select(Announcement)
            .where(Announcement.author_user_id == user.id)
            .order_by(Announcement.id),
        )
        tables["audit_log"] = await _rows(
            session,
            select(AuditLog)
            .where(
                or_(
                    AuditLog.actor_user_id == user.id,
                    AuditLog.target == repo.audit_target(user.id),
                )
            )
            .order_by(AuditLog.id),
        )
        # Issue 15: the citizen's tickets, each with its messages (not the internal notes).
        tables["tickets"] = [
            {**_row(ticket), "messages": [_row(message) for message in rows]}
            for ticket, rows in await handoff_store.for_user(session, user.id)
        ]
        tables["roles_granted"] = await _rows(
            session, select(Role).where(Role.granted_by == user.id).order_by(Role.id)
        )
    return {
        "format": EXPORT_FORMAT,
        "exported_at": _plain(now or dt.datetime.now(dt.UTC)),
        "channel": channel,
        "external_id": external_id,
        "tables": tables,
    }


def to_json(export: dict[str, Any]) -> str:
    """Readable, stable JSON (sorted keys, Indonesian text as is)."""
    return json.dumps(export, ensure_ascii=False, indent=2, sort_keys=True, default=str)


__all__ = ["EXPORT_FORMAT", "export_user", "to_json"]
