"""Turning an application's new status into notifications, exactly once per real change.

A change (from an OPD's push or from polling) is compared with what each follower was last
told. In one transaction, every follow that sees a real change is updated and one outbox row
per citizen is queued; the delivery loop sends the rows later. So a duplicated push, a
retried push or a poll that sees the same status again queues nothing, and a crash between
the change and the message leaves the row waiting for the next start.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy.exc import OperationalError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.notify.source import is_final
from bot.privacy import mask_identifiers
from bot.storage import repo

logger = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Change:
    """One application's status as an OPD reports it at ``updated_at``."""

    opd: str
    number: str
    status: str
    updated_at: dt.datetime
    note: str | None = None


async def record_change(session: AsyncSession, change: Change) -> int:
    """Applies ``change`` to every active follow of the application; returns how many
    citizens will be told.

    Per follow: an ``updated_at`` older than the last one seen is an out-of-order push and is
    ignored; the same status again only moves ``last_updated_at`` forward (a new note alone
    is not worth a message); a different status updates the follow and queues one message.
    A final status (completed, rejected...) ends the follow after that message.
    """
    told = 0
    moment = repo.as_utc(change.updated_at)
    assert moment is not None
    final = is_final(change.opd, change.status)
    for follow in await repo.active_followers(session, change.opd, change.number):
        last = repo.as_utc(follow.last_updated_at)
        if last is not None and moment < last:
            continue
        if follow.last_status == change.status:
            follow.last_updated_at = moment
            continue
        follow.last_status = change.status
        follow.last_updated_at = moment
        follow.changed_at = repo.session_now(session)
        if final:
            follow.active = False
        queued = await repo.queue_notification(
            session,
            follow.user_id,
            change.opd,
            change.number,
            status=change.status,
            updated_at=moment,
            note=change.note,
            final=final,
        )
        told += int(queued)
    return told


class ChangeRecorder:
    """Records changes one at a time and wakes the delivery loop when someone is to be told.

    Pushes and polls may arrive together; serialising them in-process keeps SQLite from
    refusing one of two concurrent writers, and a refused write is retried a few times.
    """

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        *,
        on_queued: Callable[[], None] | None = None,
        attempts: int = 3,
    ) -> None:
        self._sessions = sessions
        self._lock = asyncio.Lock()
        self._on_queued = on_queued
        self._attempts = attempts

    def set_listener(self, on_queued: Callable[[], None] | None) -> None:
        self._on_queued = on_queued

    async def record(self, change: Change) -> int:
        """Records ``change`` in its own transaction; returns how many citizens will be told.
        Raises ``OperationalError`` if the database stayed busy (the caller retries later)."""
        async with self._lock:
            for attempt in range(1, self._attempts + 1):
                try:
                    async with self._sessions() as session, session.begin():
                        told = await record_change(session, change)
                    break
                except OperationalError:
                    if attempt == self._attempts:
                        raise
                    await asyncio.sleep(0.05 * attempt)
        logger.log(
            logging.INFO if told else logging.DEBUG,
            "%s application %s is now %s: %d citizen(s) to tell",
            change.opd,
            mask_identifiers(change.number),
            change.status,
            told,
        )
        if told and self._on_queued is not None:
            self._on_queued()
        return told
