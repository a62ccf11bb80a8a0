"""The broadcast sender: queued deliveries out at Telegram's pace, each outcome recorded.

How a run goes (:meth:`BroadcastSender.run`):

1. Rows left in ``sending`` by an earlier run that crashed become ``unknown``: the message may
   or may not have reached Telegram, and nobody may get a second copy, so they are *not* sent
   again (at most once in that window) and are counted apart in the report.
2. A batch of due ``pending`` rows is claimed in one transaction: status ``sending``,
   ``attempts + 1``, committed *before* any of them is sent. Rows of citizens marked inactive
   meanwhile become ``blocked`` unsent. The batch is a tenth of a second's worth of
   messages, so a hard crash (power, kill -9) leaves about that many ``unknown``, plus the
   sends in flight (bounded by ``concurrency``).
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
where the run stopped.

Several workers (PostgreSQL, ``workers`` given, bot/workers): each worker's sender may run the
same announcement at once. Rows are claimed with ``FOR UPDATE SKIP LOCKED`` (two claims never
take the same row) and stamped with the worker's id (``claimed_by``); step 1 turns into
``unknown`` only rows whose owner is dead (:meth:`WorkerRegistry.live_ids`), never a live
worker's in-flight rows. The announcement is marked ``done`` by exactly one of them (a
conditional update), and only that one reports to the author (``Report.closed_here``).

Several channels (``channel`` given, issue 16): one announcement's rows are queued for the
subscribers of every channel, and each channel's sender (its own Send and pacer, at its own
limits: Telegram's 30/s, WhatsApp's 80/s) claims, recovers and waits only for the rows of
its citizens. The announcement is ``done`` when no channel has rows left; whichever sender
marks it reports, as between workers.
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

from sqlalchemy import and_, bindparam, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from bot.broadcast.message import render_announcement
from bot.broadcast.pacer import Pacer
from bot.broadcast.store import still_inactive
from bot.i18n import Translator
from bot.privacy import mask_identifiers
from bot.storage.db import READ_ONLY
from bot.storage.models import (
    Announcement,
    AnnouncementDelivery,
    BroadcastInactive,
    User,
    utcnow,
)
from bot.storage.repo import as_utc, dialect_insert

logger = logging.getLogger(__name__)

DELIVERIES = AnnouncementDelivery.__table__
ANNOUNCEMENTS = Announcement.__table__
INACTIVE = BroadcastInactive.__table__
FINAL = ("sent", "failed", "blocked", "unknown", "skipped")


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
    def transient(cls, error: str, *, not_before: float = 0.0) -> Outcome:
        """Try this row again later: after the backoff, and at least ``not_before`` seconds
        (a limit on this one recipient, such as WhatsApp's 131056), without holding up the
        others as a pause of the whole broadcast would."""
        return cls(OutcomeKind.TRANSIENT, retry_after=not_before, error=error)

    @classmethod
    def failed(cls, error: str) -> Outcome:
        return cls(OutcomeKind.FAILED, error=error)


@dataclass(frozen=True)
class Media:
    """One photo or document sent with the announcement (the channel's file id)."""

    kind: str  # photo | document
    file_id: str


class Send(Protocol):
    """Sends one HTML message (or ``media`` with the HTML as its caption) to a chat of the
    channel; never raises for the channel's answers."""

    async def __call__(self, chat_id: str, text: str, media: Media | None = None) -> Outcome: ...


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
    skipped: int = 0  # unsubscribed (/berhenti) before their turn
    # False when another worker finished the announcement (it reports to the author), or
    # when rows are still in flight at another worker (status stays ``sending``).
    closed_here: bool = True


class LiveWorkers(Protocol):
    """The worker registry as the sender sees it (bot/workers/registry.py)."""

    id: int | None

    async def live_ids(self, connection: AsyncConnection) -> set[int]: ...


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
        workers: LiveWorkers | None = None,
        channel: str | None = None,
    ) -> None:
        self._engine = engine
        self._workers = workers
        self._channel = channel
        self._counts_read_at: float | None = None
        self._send = send
        self.pacer = pacer or Pacer(clock=clock, sleep=sleep)
        self._translator = translator
        self._clock = clock
        self._sleep = sleep
        self._wallclock = wallclock
        self._batch = batch or max(1, min(250, int(self.pacer.rate / 10)))
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
        media = (
            Media(announcement.media_kind, announcement.media_file_id)
            if announcement.media_kind and announcement.media_file_id
            else None
        )

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
                    task = asyncio.create_task(self._send_one(row, text_for(row.locale), media))
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

    async def _send_one(self, row: _Row, text: str, media: Media | None) -> None:
        try:
            outcome = await self._send(row.chat_id, text, media)
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

    def _mine(self) -> list[Any]:
        """The condition for this sender's rows: its channel's citizens (all rows when the
        queue serves one channel)."""
        if self._channel is None:
            return []
        users = select(User.id).where(User.channel == self._channel)
        return [DELIVERIES.c.user_id.in_(users)]

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
                interrupted = [
                    DELIVERIES.c.announcement_id == announcement_id,
                    DELIVERIES.c.status == "sending",
                    *self._mine(),
                ]
                if self._workers is not None:  # only the rows of dead workers
                    live = await self._workers.live_ids(connection)
                    interrupted.append(
                        or_(
                            DELIVERIES.c.claimed_by.is_(None),
                            DELIVERIES.c.claimed_by.not_in(sorted(live)),
                        )
                    )
                await connection.execute(
                    update(DELIVERIES)
                    .where(*interrupted)
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
                    .select_from(DELIVERIES)
                    .outerjoin(
                        INACTIVE,
                        and_(
                            INACTIVE.c.user_id == DELIVERIES.c.user_id,
                            INACTIVE.c.user_id.in_(still_inactive()),
                        ),
                    )
                    .where(
                        DELIVERIES.c.announcement_id == announcement_id,
                        DELIVERIES.c.status == "pending",
                        or_(
                            DELIVERIES.c.next_attempt_at.is_(None),
                            DELIVERIES.c.next_attempt_at <= now,
                        ),
                        *self._mine(),
                    )
                    .order_by(DELIVERIES.c.id)
                    .limit(self._batch)
                    # Several workers: rows another sender is claiming are skipped, not
                    # waited for and then claimed a second time.
                    .with_for_update(skip_locked=True, of=DELIVERIES)
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
                    .values(
                        status="sending",
                        attempts=DELIVERIES.c.attempts + 1,
                        claimed_by=None if self._workers is None else self._workers.id,
                    )
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
                delay = max(delay, outcome.retry_after)
                due = now + dt.timedelta(seconds=delay)
                change = {"status": "pending", "attempts": row.attempts, "due": due}
            else:
                change = {"status": "failed", "attempts": row.attempts, "due": None}
            changes.append({"row_id": row.id, "error": error, **change})
        async with self._engine.begin() as connection:
            if sent:
                await connection.execute(
                    update(DELIVERIES)
                    # A row the channel already reported undeliverable (WhatsApp's 131026
                    # status webhook, bot/whatsapp/channel.py) stays blocked.
                    .where(DELIVERIES.c.id.in_(sent), DELIVERIES.c.status == "sending")
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
            if self._workers is not None:
                # Other workers move rows too: counts are read from the table (at most once
                # a second), not tracked here; the final counts are exact (``_finish``).
                now_mono = self._clock()
                if self._counts_read_at is not None and now_mono - self._counts_read_at < 1.0:
                    return
                self._counts_read_at = now_mono
                await self._read_counts(connection)
            await self._write_counts(connection)

    async def _read_counts(self, connection: AsyncConnection) -> None:
        counts = await connection.execute(
            select(DELIVERIES.c.status, func.count())
            .where(DELIVERIES.c.announcement_id == self._announcement_id)
            .group_by(DELIVERIES.c.status)
        )
        self._counts = {status: int(count) for status, count in counts.all()}

    async def _write_counts(self, connection: AsyncConnection) -> None:
        await connection.execute(
            update(ANNOUNCEMENTS)
            .where(ANNOUNCEMENTS.c.id == self._announcement_id)
            .values(
                sent=self._counts.get("sent", 0),
                failed=self._counts.get("failed", 0),
                blocked=self._counts.get("blocked", 0),
                unknown=self._counts.get("unknown", 0),
                skipped=self._counts.get("skipped", 0),
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
                        *self._mine(),
                    )
                )
            ).one()
        if not pending:
            return None
        if due is None:
            return 0.001
        return max((as_utc(due) - self._wallclock()).total_seconds(), 0.001)

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
            # One process reports whatever it finds; of several workers only the one that
            # marks it done (or saw it cancelled) reports.
            closed_here = (self._workers is None and self._channel is None) or cancelled
            if status == "sending" and not remaining:
                # Conditional, so that of several workers finishing together exactly one
                # marks it done.
                marked = await connection.execute(
                    update(ANNOUNCEMENTS)
                    .where(ANNOUNCEMENTS.c.id == announcement_id, ANNOUNCEMENTS.c.status == status)
                    .values(status="done", finished_at=self._wallclock())
                )
                status = "done"
                closed_here = closed_here or marked.rowcount == 1
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
            skipped=counts.get("skipped", 0),
            closed_here=closed_here,
        )


def _insert_inactive(dialect: str) -> Any:
    """A 403 marks the citizen inactive, or renews an older mark (they had written since)."""
    make = dialect_insert(dialect)
    if make is None:
        return INACTIVE.insert()
    insert = make(INACTIVE)
    return insert.on_conflict_do_update(
        index_elements=[INACTIVE.c.user_id],
        set_={"reason": insert.excluded.reason, "at": insert.excluded.at},
    )
