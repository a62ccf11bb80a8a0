"""The broadcast sender: queued deliveries out at Telegram's pace, each outcome recorded.

How a run goes (:meth:`BroadcastSender.run`):

1. Rows left in ``sending`` by an earlier run that crashed become ``unknown``: the message may
   or may not have reached Telegram, and nobody may get a second copy, so they are *not* sent
   again (at most once in that window) and are counted apart in the report.
2. A batch of due ``pending`` rows is claimed in one transaction: status ``sending``,
   ``attempts + 1``, committed *before* any of them is sent. Rows of citizens marked inactive
   meanwhile become ``blocked`` unsent. The batch is a quarter second's worth of messages, so
   a hard crash (power, kill -9) leaves at most that many ``unknown``.
3. Each row waits for the :class:`~bot.broadcast.pacer.Pacer`, then is sent (a few at a time,
   ``concurrency``) through a channel-neutral :class:`Send`.
4. Outcomes are written in one transaction per batch: ``sent``; ``blocked`` (403: the citizen
   is added to ``broadcast_inactive`` and skipped by later announcements); ``failed``
   (refused for good, or transient errors ``max_attempts`` times); back to ``pending`` after a
   429 (the pacer pauses the broadcast for ``retry_after``) or after a transient error (with
   ``next_attempt_at``, exponential backoff).
5. When nothing is pending the announcement is ``done``; :meth:`BroadcastSender.run` returns
   the :class:`Report`.

Stopping (``cancel()`` of the task, :meth:`BroadcastSender.stop`, or the announcement
cancelled in the database) is orderly: no new send starts, the sends in flight finish and are
recorded, claimed rows not yet sent go back to ``pending``. A restart then continues exactly
where the run stopped. One sender runs a given announcement at a time (one process).
"""

from __future__ import annotations

import asyncio
import datetime as dt
import enum
import logging
import time
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, Protocol

from sqlalchemy import bindparam, func, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from bot.broadcast.message import render_announcement
from bot.broadcast.pacer import Pacer
from bot.i18n import Translator
from bot.privacy import mask_identifiers
from bot.storage.db import READ_ONLY
from bot.storage.models import (
    Announcement,
    AnnouncementDelivery,
    BroadcastInactive,
    utcnow,
)

logger = logging.getLogger(__name__)

DELIVERIES = AnnouncementDelivery.__table__
ANNOUNCEMENTS = Announcement.__table__
INACTIVE = BroadcastInactive.__table__
FINAL = ("sent", "failed", "blocked", "unknown")


class OutcomeKind(enum.StrEnum):
    SENT = "sent"
    BLOCKED = "blocked"  # 403: blocked the bot, account deleted, chat gone
    RETRY_AFTER = "retry_after"  # 429: certainly not delivered; wait retry_after
    TRANSIENT = "transient"  # network error, timeout, 5xx: try again later
    FAILED = "failed"  # refused for good (malformed message...)


@dataclass(frozen=True)
class Outcome:
    kind: OutcomeKind
    retry_after: float = 0.0
    error: str = ""

    @classmethod
    def sent(cls) -> Outcome:
        return cls(OutcomeKind.SENT)

    @classmethod
    def blocked(cls, error: str) -> Outcome:
        return cls(OutcomeKind.BLOCKED, error=error)

    @classmethod
    def wait(cls, seconds: float) -> Outcome:
        return cls(OutcomeKind.RETRY_AFTER, retry_after=seconds, error="retry after")

    @classmethod
    def transient(cls, error: str) -> Outcome:
        return cls(OutcomeKind.TRANSIENT, error=error)

    @classmethod
    def failed(cls, error: str) -> Outcome:
        return cls(OutcomeKind.FAILED, error=error)


class Send(Protocol):
    """Sends one HTML message to a chat of the channel; never raises for Telegram answers."""

    async def __call__(self, chat_id: str, text: str) -> Outcome: ...


@dataclass(frozen=True)
class Progress:
    """What the sender's live message shows; ``failed`` counts failed, blocked and unknown."""

    reference: str
    total: int
    sent: int
    failed: int
    remaining: int
    eta_seconds: float
    final: bool = False


@dataclass(frozen=True)
class Report:
    announcement_id: int
    reference: str
    status: str  # done / cancelled / sending (stopped by the process, resumes on restart)
    total: int
    sent: int
    failed: int
    blocked: int
    unknown: int  # cut off by a crash: maybe delivered, never sent again
    remaining: int
    elapsed: float
    rate_limited: int  # 429 answers seen in this run
    retries: int  # transient errors seen in this run


@dataclass(frozen=True)
class _Row:
    id: int
    user_id: int
    chat_id: str
    locale: str
    attempts: int


ProgressCallback = Callable[[Progress], Awaitable[None]]


class BroadcastSender:
    """Sends one announcement at a time; see the module docstring."""

    def __init__(
        self,
        engine: AsyncEngine,
        send: Send,
        *,
        pacer: Pacer | None = None,
        translator: Translator | None = None,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        wallclock: Callable[[], dt.datetime] = utcnow,
        batch: int | None = None,
        concurrency: int = 16,
        max_attempts: int = 5,
        backoff: float = 2.0,
        progress: ProgressCallback | None = None,
        progress_interval: float = 5.0,
    ) -> None:
        self._engine = engine
        self._send = send
        self.pacer = pacer or Pacer(clock=clock, sleep=sleep)
        self._translator = translator
        self._clock = clock
        self._sleep = sleep
        self._wallclock = wallclock
        self._batch = batch or max(1, min(250, int(self.pacer.rate / 4)))
        self._concurrency = concurrency
        self._max_attempts = max_attempts
        self._backoff = backoff
        self._progress = progress
        self._progress_interval = progress_interval
        self._stopping = False
        self._counts: dict[str, int] = {}
        self._results: list[tuple[_Row, Outcome]] = []
        self._texts: dict[str, str] = {}
        self._reference = ""
        self._announcement_id = 0
        self._started = 0.0
        self._sent_this_run = 0
        self._progress_at: float | None = None
        self.rate_limited = 0
        self.retries = 0

    def stop(self) -> None:
        """Stops after the sends in flight (orderly, as on cancellation)."""
        self._stopping = True

    # -- the run -------------------------------------------------------------------------

    async def run(self, announcement_id: int) -> Report:
        self._started = self._clock()
        self._sent_this_run = 0
        self._progress_at = None
        self._announcement_id = announcement_id
        announcement = await self._begin(announcement_id)
        if announcement is None:
            raise LookupError(f"no announcement {announcement_id}")
        self._reference = announcement.reference
        if announcement.status in ("done", "cancelled"):
            return await self._finish(
                announcement_id, cancelled=announcement.status == "cancelled"
            )
        self._texts = {}
        body = announcement.text

        def text_for(locale: str) -> str:
            if locale not in self._texts:
                self._texts[locale] = render_announcement(
                    self._translator, locale, body, self._reference
                )
            return self._texts[locale]

        inflight: set[asyncio.Task[None]] = set()
        unstarted: deque[_Row] = deque()
        slots = asyncio.Semaphore(self._concurrency)
        cancelled = False
        try:
            while not self._stopping:
                await self._flush()
                await self._report_progress()
                claimed = await self._claim(announcement_id)
                if claimed is None:  # cancelled in the database
                    cancelled = True
                    break
                if not claimed:
                    if self._results:  # finished since the flush above: record them first
                        continue
                    if inflight:
                        await asyncio.wait(inflight, return_when=asyncio.FIRST_COMPLETED)
                        continue
                    wait = await self._next_retry_wait(announcement_id)
                    if wait is None:
                        break
                    await self._sleep(wait)
                    continue
                unstarted.extend(claimed)
                while unstarted and not self._stopping:
                    row = unstarted[0]
                    await slots.acquire()
                    try:
                        await self.pacer.acquire(row.chat_id)
                    except BaseException:
                        slots.release()
                        raise
                    unstarted.popleft()
                    task = asyncio.create_task(self._send_one(row, text_for(row.locale)))
                    inflight.add(task)
                    task.add_done_callback(inflight.discard)
                    task.add_done_callback(lambda _task: slots.release())
        finally:
            # Orderly stop, even when this task is cancelled: what is in flight may already
            # be at Telegram, so its outcome is awaited and recorded; what was claimed but not
            # started goes back to the queue.
            if inflight:
                await asyncio.wait(inflight)
            await self._release(list(unstarted))
            await self._flush()
        return await self._finish(announcement_id, cancelled=cancelled)

    async def _send_one(self, row: _Row, text: str) -> None:
        try:
            outcome = await self._send(row.chat_id, text)
        except Exception as error:  # a bug in the channel must not stop the broadcast
            logger.error("announcement send failed: %s", mask_identifiers(repr(error)))
            outcome = Outcome.transient(repr(error))
        if outcome.kind is OutcomeKind.RETRY_AFTER:
            self.rate_limited += 1
            self.pacer.pause_until(self._clock() + max(outcome.retry_after, 0.0))
        elif outcome.kind is OutcomeKind.TRANSIENT:
            self.retries += 1
        elif outcome.kind is OutcomeKind.SENT:
            self._sent_this_run += 1
        self._results.append((row, outcome))

    # -- database ------------------------------------------------------------------------

    async def _begin(self, announcement_id: int) -> Announcement | None:
        """Recovers rows cut off by a crash and marks the announcement as sending."""
        async with self._engine.begin() as connection:
            row = (
                await connection.execute(
                    select(ANNOUNCEMENTS).where(ANNOUNCEMENTS.c.id == announcement_id)
                )
            ).one_or_none()
            if row is None:
                return None
            announcement = Announcement(**row._mapping)
            if announcement.status not in ("done", "cancelled"):
                await connection.execute(
                    update(DELIVERIES)
                    .where(
                        DELIVERIES.c.announcement_id == announcement_id,
                        DELIVERIES.c.status == "sending",
                    )
                    .values(status="unknown", last_error="interrupted while sending")
                )
                await connection.execute(
                    update(ANNOUNCEMENTS)
                    .where(ANNOUNCEMENTS.c.id == announcement_id)
                    .values(
                        status="sending",
                        started_at=func.coalesce(ANNOUNCEMENTS.c.started_at, self._wallclock()),
                    )
                )
            counts = await connection.execute(
                select(DELIVERIES.c.status, func.count())
                .where(DELIVERIES.c.announcement_id == announcement_id)
                .group_by(DELIVERIES.c.status)
            )
            self._counts = {status: int(count) for status, count in counts.all()}
        return announcement

    async def _claim(self, announcement_id: int) -> list[_Row] | None:
        now = self._wallclock()
        async with self._engine.begin() as connection:
            status = await connection.scalar(
                select(ANNOUNCEMENTS.c.status).where(ANNOUNCEMENTS.c.id == announcement_id)
            )
            if status == "cancelled":
                return None
            rows = (
                await connection.execute(
                    select(
                        DELIVERIES.c.id,
                        DELIVERIES.c.user_id,
                        DELIVERIES.c.chat_id,
                        DELIVERIES.c.locale,
                        DELIVERIES.c.attempts,
                        INACTIVE.c.user_id.label("inactive"),
                    )
                    .outerjoin(INACTIVE, INACTIVE.c.user_id == DELIVERIES.c.user_id)
                    .where(
                        DELIVERIES.c.announcement_id == announcement_id,
                        DELIVERIES.c.status == "pending",
                        or_(
                            DELIVERIES.c.next_attempt_at.is_(None),
                            DELIVERIES.c.next_attempt_at <= now,
                        ),
                    )
                    .order_by(DELIVERIES.c.id)
                    .limit(self._batch)
                )
            ).all()
            skipped = [row.id for row in rows if row.inactive is not None]
            claimed = [
                _Row(row.id, row.user_id, row.chat_id, row.locale, row.attempts + 1)
                for row in rows
                if row.inactive is None
            ]
            if skipped:
                await connection.execute(
                    update(DELIVERIES)
                    .where(DELIVERIES.c.id.in_(skipped))
                    .values(status="blocked", last_error="inactive")
                )
                self._move("pending", "blocked", len(skipped))
            if claimed:
                await connection.execute(
                    update(DELIVERIES)
                    .where(DELIVERIES.c.id.in_([row.id for row in claimed]))
                    .values(status="sending", attempts=DELIVERIES.c.attempts + 1)
                )
                self._move("pending", "sending", len(claimed))
        return claimed

    async def _release(self, rows: list[_Row]) -> None:
        """Claimed rows that were never sent: back to the queue, the attempt not counted."""
        if not rows:
            return
        async with self._engine.begin() as connection:
            await connection.execute(
                update(DELIVERIES)
                .where(DELIVERIES.c.id.in_([row.id for row in rows]))
                .values(status="pending", attempts=DELIVERIES.c.attempts - 1)
            )
        self._move("sending", "pending", len(rows))

    async def _flush(self) -> None:
        """Writes the outcomes gathered since the last flush, in one transaction."""
        if not self._results:
            return
        results, self._results = self._results, []
        now = self._wallclock()
        sent: list[int] = []
        blocked: list[tuple[_Row, str]] = []
        changes: list[dict[str, object]] = []  # failed and retried rows
        for row, outcome in results:
            if outcome.kind is OutcomeKind.SENT:
                sent.append(row.id)
                continue
            if outcome.kind is OutcomeKind.BLOCKED:
                blocked.append((row, outcome.error))
                continue
            error = outcome.error[:200]
            if outcome.kind is OutcomeKind.RETRY_AFTER:
                # Not delivered, and not the recipient's fault: the attempt is not counted.
                change = {"status": "pending", "attempts": row.attempts - 1, "due": None}
            elif outcome.kind is OutcomeKind.TRANSIENT and row.attempts < self._max_attempts:
                delay = min(self._backoff * 2 ** (row.attempts - 1), 300.0)
                due = now + dt.timedelta(seconds=delay)
                change = {"status": "pending", "attempts": row.attempts, "due": due}
            else:
                change = {"status": "failed", "attempts": row.attempts, "due": None}
            changes.append({"row_id": row.id, "error": error, **change})
        async with self._engine.begin() as connection:
            if sent:
                await connection.execute(
                    update(DELIVERIES)
                    .where(DELIVERIES.c.id.in_(sent))
                    .values(status="sent", sent_at=now, last_error=None)
                )
            for row, error in blocked:
                await connection.execute(
                    update(DELIVERIES)
                    .where(DELIVERIES.c.id == row.id)
                    .values(status="blocked", last_error=error[:200])
                )
            if blocked:
                await connection.execute(
                    _insert_inactive(connection.dialect.name),
                    [
                        {"user_id": row.user_id, "reason": error[:200], "at": now}
                        for row, error in blocked
                    ],
                )
            if changes:
                await connection.execute(
                    update(DELIVERIES)
                    .where(DELIVERIES.c.id == bindparam("row_id"))
                    .values(
                        status=bindparam("status"),
                        attempts=bindparam("attempts"),
                        next_attempt_at=bindparam("due"),
                        last_error=bindparam("error"),
                    ),
                    changes,
                )
            self._move("sending", "sent", len(sent))
            self._move("sending", "blocked", len(blocked))
            for change in changes:
                self._move("sending", str(change["status"]), 1)
            await self._write_counts(connection)

    async def _write_counts(self, connection: AsyncConnection) -> None:
        await connection.execute(
            update(ANNOUNCEMENTS)
            .where(ANNOUNCEMENTS.c.id == self._announcement_id)
            .values(
                sent=self._counts.get("sent", 0),
                failed=self._counts.get("failed", 0),
                blocked=self._counts.get("blocked", 0),
                unknown=self._counts.get("unknown", 0),
            )
        )

    def _move(self, source: str, target: str, count: int) -> None:
        if count:
            self._counts[source] = self._counts.get(source, 0) - count
            self._counts[target] = self._counts.get(target, 0) + count

    async def _next_retry_wait(self, announcement_id: int) -> float | None:
        """Seconds until the earliest row waiting after a transient error; None: all done."""
        async with self._engine.connect() as connection:
            connection = await connection.execution_options(**{READ_ONLY: True})
            pending, due = (
                await connection.execute(
                    select(func.count(), func.min(DELIVERIES.c.next_attempt_at)).where(
                        DELIVERIES.c.announcement_id == announcement_id,
                        DELIVERIES.c.status == "pending",
                    )
                )
            ).one()
        if not pending:
            return None
        if due is None:
            return 0.001
        if due.tzinfo is None:  # SQLite hands back naive UTC
            due = due.replace(tzinfo=dt.UTC)
        return max((due - self._wallclock()).total_seconds(), 0.001)

    # -- progress and the report ---------------------------------------------------------

    def progress_now(self, *, final: bool = False) -> Progress:
        counts = self._counts
        remaining = counts.get("pending", 0) + counts.get("sending", 0)
        elapsed = self._clock() - self._started
        rate = self.pacer.rate
        if elapsed >= 1.0 and self._sent_this_run:
            rate = min(rate, self._sent_this_run / elapsed)
        pause = max(0.0, self.pacer.paused_until - self._clock())
        return Progress(
            reference=self._reference,
            total=sum(counts.values()),
            sent=counts.get("sent", 0),
            failed=sum(counts.get(status, 0) for status in ("failed", "blocked", "unknown")),
            remaining=remaining,
            eta_seconds=(remaining / rate + pause) if remaining else 0.0,
            final=final,
        )

    async def _report_progress(self, *, final: bool = False) -> None:
        if self._progress is None:
            return
        now = self._clock()
        if (
            not final
            and self._progress_at is not None
            and now - self._progress_at < self._progress_interval
        ):
            return
        self._progress_at = now
        try:
            await self._progress(self.progress_now(final=final))
        except Exception:  # a failed progress edit must not stop the broadcast
            logger.exception("broadcast progress callback failed")

    async def _finish(self, announcement_id: int, *, cancelled: bool) -> Report:
        async with self._engine.begin() as connection:
            status = await connection.scalar(
                select(ANNOUNCEMENTS.c.status).where(ANNOUNCEMENTS.c.id == announcement_id)
            )
            counts = await connection.execute(
                select(DELIVERIES.c.status, func.count())
                .where(DELIVERIES.c.announcement_id == announcement_id)
                .group_by(DELIVERIES.c.status)
            )
            self._counts = {row_status: int(count) for row_status, count in counts.all()}
            remaining = self._counts.get("pending", 0) + self._counts.get("sending", 0)
            if status == "sending" and not remaining:
                status = "done"
                await connection.execute(
                    update(ANNOUNCEMENTS)
                    .where(ANNOUNCEMENTS.c.id == announcement_id)
                    .values(status="done", finished_at=self._wallclock())
                )
            await self._write_counts(connection)
        await self._report_progress(final=status in ("done", "cancelled"))
        counts = self._counts
        return Report(
            announcement_id=announcement_id,
            reference=self._reference,
            status=str(status if not cancelled else "cancelled"),
            total=sum(counts.values()),
            sent=counts.get("sent", 0),
            failed=counts.get("failed", 0),
            blocked=counts.get("blocked", 0),
            unknown=counts.get("unknown", 0),
            remaining=remaining,
            elapsed=self._clock() - self._started,
            rate_limited=self.rate_limited,
            retries=self.retries,
        )


def _insert_inactive(dialect: str) -> Any:
    if dialect == "sqlite":
        return sqlite.insert(INACTIVE).on_conflict_do_nothing()
    if dialect == "postgresql":
        return postgresql.insert(INACTIVE).on_conflict_do_nothing()
    return INACTIVE.insert()
