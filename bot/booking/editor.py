"""Queue quotas edited by admins in the console (issue 18).

The console sends a ``queues:`` block; it is checked exactly like the region file's (same
parser, same messages, with the line), stored as a new ``booking_quota_versions`` row with its
author in the audit log, and applied at once to the running region: ``QueueConfig`` holds its
services in one dict, replaced in place, so the engine's button, the actions and the console
see the new quotas from the next message on. At start the newest stored version replaces the
region file's block (``apply_latest``). Bookings already made keep their seats; a lowered
quota only stops new ones.

Other worker processes read the change at their next start (not live: docs/booking.md).
"""

from __future__ import annotations

import logging
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.booking.quota import QueueConfig, parse_queues
from bot.storage.models import BookingQuotaVersion
from bot.yamlsrc import YamlError, load_yaml_text

logger = logging.getLogger(__name__)
SOURCE = "kuota"


def check(text: str, region: Any) -> QueueConfig:
    """The quotas of ``text`` (a ``queues:`` block); YamlError with the line otherwise."""
    data = load_yaml_text(text, SOURCE)
    if not isinstance(data, dict) or set(data) != {"queues"}:
        raise YamlError(SOURCE, 1, "write one block that starts with 'queues:'")
    hours = {key: office.hours for key, office in region.offices.items()}
    return parse_queues(data["queues"], SOURCE, hours)


async def save(
    sessions: async_sessionmaker[AsyncSession], region: Any, text: str, author_user_id: int
) -> QueueConfig:
    """Checks, stores and applies ``text``; raises YamlError and changes nothing if bad."""
    from bot.staff.roles import audit

    config = check(text, region)
    async with sessions() as session, session.begin():
        row = BookingQuotaVersion(text=text, author_user_id=author_user_id)
        session.add(row)
        await session.flush()
        await audit(
            session,
            author_user_id,
            "booking_quota",
            None,
            {"version": row.id, "services": len(config.queues)},
        )
    region.queues.replace_with(config)
    logger.info("queue quotas version %s applied: %d services", row.id, len(config.queues))
    return config


async def apply_latest(sessions: async_sessionmaker[AsyncSession], region: Any) -> int | None:
    """At start: the newest stored quotas replace the region file's; returns its id. A stored
    version that no longer checks (an office was removed since) is logged and skipped."""
    async with sessions() as session:
        row = await session.scalar(
            select(BookingQuotaVersion).order_by(BookingQuotaVersion.id.desc()).limit(1)
        )
    if row is None:
        return None
    try:
        region.queues.replace_with(check(row.text, region))
    except YamlError as error:
        logger.error(
            "stored queue quotas %s do not load, using the region file: %s", row.id, error
        )
        return None
    return row.id
