"""The retention period (UU 27/2022): conversation records are kept RETENTION_DAYS, no longer.

A daily job inside ``loket run`` (and ``loket retention run``, once, for cron) deletes:

- step transitions (``events``), unanswered questions and complaints/officer requests older
  than the period;
- a conversation's stored state when the citizen has not written for the whole period;
- the values a finished or expired conversation still holds (``context``: the NIK or NOP a
  citizen typed, say), at the first run after it expired — the step name stays so that the
  citizen, coming back, still gets the "your conversation ended" note;
- citizens silent for the whole period who keep nothing that needs them (no subscription,
  no followed application, no staff role): erased as /hapusdata would.

Deleting is idempotent, so several workers running the job at once do no harm.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import asdict, dataclass

from sqlalchemy import delete, exists, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.engine.state import ConversationState
from bot.handoff import store as handoff_store
from bot.storage import repo
from bot.storage.models import (
    Booking,
    BookingSession,
    CitizenRequest,
    Conversation,
    Event,
    FollowedApplication,
    Role,
    Subscription,
    UnmatchedQuestion,
    User,
)

logger = logging.getLogger(__name__)
DEFAULT_RETENTION_DAYS = 90
DAILY = dt.timedelta(days=1)
BATCH = 500

Clock = Callable[[], dt.datetime]
Sleep = Callable[[float], Awaitable[None]]


@dataclass(frozen=True, slots=True)
class RetentionReport:
    """What one run removed, by kind (numbers only: the log line and the CLI print it)."""

    events: int = 0
    unmatched_questions: int = 0
    citizen_requests: int = 0
    conversations: int = 0
    contexts_purged: int = 0
    users_erased: int = 0
    tickets: int = 0  # issue 15: closed, erased or abandoned before the cutoff
    bookings: int = 0  # queue numbers of days older than the period (issue 18)

    def to_json(self) -> dict[str, int]:
        return asdict(self)

    @property
    def total(self) -> int:
        return sum(self.to_json().values())


def _count(result: object) -> int:
    return int(getattr(result, "rowcount", 0) or 0)


async def _purge_contexts(session: AsyncSession, now: dt.datetime) -> int:
    """Empties the stored values of conversations whose inactivity deadline has passed."""
    purged = 0
    rows = await session.execute(
        select(Conversation.user_id, Conversation.state).where(
            Conversation.expires_at <= repo.as_utc(now)
        )
    )
    for user_id, data in rows.all():
        state = ConversationState.from_json(data)
        if not state.context and not state.offered:
            continue
        state.context = {}
        state.offered = []
        await session.execute(
            update(Conversation)
            .where(Conversation.user_id == user_id)
            .values(state=state.to_json())
        )
        purged += 1
    return purged


async def _dormant_users(session: AsyncSession, cutoff: dt.datetime, limit: int) -> list[int]:
    """Citizens silent since before ``cutoff`` with nothing kept on their behalf."""
    kept = (
        exists().where(Subscription.user_id == User.id),
        exists().where(Role.user_id == User.id),
        exists().where(FollowedApplication.user_id == User.id, FollowedApplication.active),
        # A queue number still to be used (issue 18): the citizen is expected at the counter.
        exists().where(Booking.user_id == User.id, Booking.active_user.is_not(None)),
    )
    rows = await session.scalars(
        select(User.id)
        .where(User.last_seen_at < cutoff, *(~condition for condition in kept))
        .order_by(User.id)
        .limit(limit)
    )
    return list(rows)


async def apply_retention(
    sessions: async_sessionmaker[AsyncSession],
    *,
    now: dt.datetime,
    days: int = DEFAULT_RETENTION_DAYS,
) -> RetentionReport:
    """Deletes what is older than ``days`` before ``now``; short transactions, in batches."""
    if days < 1:
        raise ValueError("RETENTION_DAYS must be at least 1")
    cutoff = repo.as_utc(now - dt.timedelta(days=days))
    assert cutoff is not None
    counts: dict[str, int] = {}
    async with sessions() as session, session.begin():
        counts["events"] = _count(await session.execute(delete(Event).where(Event.at < cutoff)))
        counts["unmatched_questions"] = _count(
            await session.execute(delete(UnmatchedQuestion).where(UnmatchedQuestion.at < cutoff))
        )
        counts["citizen_requests"] = _count(
            await session.execute(delete(CitizenRequest).where(CitizenRequest.created_at < cutoff))
        )
        counts["conversations"] = _count(
            await session.execute(delete(Conversation).where(Conversation.updated_at < cutoff))
        )
        # Queue numbers (issue 18) by the day of the visit; their reminders go with them.
        day_cutoff = cutoff.date()
        counts["bookings"] = _count(
            await session.execute(delete(Booking).where(Booking.day < day_cutoff))
        )
        await session.execute(delete(BookingSession).where(BookingSession.day < day_cutoff))
    async with sessions() as session, session.begin():
        counts["tickets"] = await handoff_store.purge_closed(session, cutoff)
    async with sessions() as session, session.begin():
        counts["contexts_purged"] = await _purge_contexts(session, now)
    erased = 0
    while True:
        async with sessions() as session, session.begin():
            dormant = await _dormant_users(session, cutoff, BATCH)
            for user_id in dormant:
                await repo.erase_user(session, user_id)
        erased += len(dormant)
        if len(dormant) < BATCH:
            break
    counts["users_erased"] = erased
    return RetentionReport(**counts)


class RetentionJob:
    """Runs :func:`apply_retention` at start and then every ``interval`` (a day)."""

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        days: int = DEFAULT_RETENTION_DAYS,
        *,
        clock: Clock,
        interval: dt.timedelta = DAILY,
        sleep: Sleep = asyncio.sleep,
    ) -> None:
        self._sessions = sessions
        self.days = days
        self._clock = clock
        self._interval = interval
        self._sleep = sleep
        self.runs = 0

    async def run_once(self) -> RetentionReport:
        report = await apply_retention(self._sessions, now=self._clock(), days=self.days)
        self.runs += 1
        logger.info(
            "retention (%d days): %d rows removed",
            self.days,
            report.total,
            extra={"retention": report.to_json()},
        )
        return report

    async def _loop(self) -> None:
        while True:
            try:
                await self.run_once()
            except Exception:  # the database may be away for a while: try again tomorrow
                logger.exception("retention run failed")
            await self._sleep(self._interval.total_seconds())

    @contextlib.asynccontextmanager
    async def running(self) -> AsyncIterator[RetentionJob]:
        """The job runs in the background until the block ends."""
        task = asyncio.get_running_loop().create_task(self._loop(), name="loket-retention")
        try:
            yield self
        finally:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
