"""Runs announcements inside ``loket run``: each one when it is due, one at a time.

The loop (:meth:`BroadcastService.run`):

1. An announcement left ``sending`` by an earlier process is resumed first (the sender turns
   rows cut off mid-send into ``unknown`` and sends the rest, see bot/broadcast/sender.py).
2. Then the oldest due ``scheduled`` one (no ``send_at``, or ``send_at`` passed): its
   recipients are queued from the segment *now*, so a citizen who unsubscribed between
   composing and sending is not written to, and it is sent.
3. Nothing due: it waits until the next ``send_at``, a :meth:`wake` (a staff member just
   confirmed or cancelled one), or ``idle_poll`` seconds (announcements written by another
   process, e.g. the web console or a second worker).

Scheduled announcements are rows in the database, so a restart before their time changes
nothing: the next process finds them and sends them at their time. One announcement at a time
keeps the whole broadcast within Telegram's global limit with one shared :class:`Pacer`;
conversation replies are counted into the same pacer (``note_external``) and never wait.

Several workers (``workers`` set, PostgreSQL, bot/workers): every worker's service sends the
same ``sending`` announcement together (rows claimed with SKIP LOCKED, the pacer's global
slots shared through the database). A worker that runs out of rows while another still has
some in flight waits ``shared_poll`` seconds and looks again; the one that marks the
announcement done reports it.

Several channels (``shared_with``, issue 16): Telegram's and WhatsApp's services share the
queue. Whichever finds a due announcement first queues the subscribers of every channel;
each sends only its own channel's rows, at its channel's limits (bot/broadcast/sender.py).
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from typing import Protocol

from sqlalchemy import func, or_, select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from bot.broadcast import store
from bot.broadcast.pacer import Pacer
from bot.broadcast.sender import BroadcastSender, LiveWorkers, Progress, Report, Send
from bot.i18n import Translator
from bot.staff import audience
from bot.storage.models import Announcement, AnnouncementDelivery, utcnow
from bot.storage.repo import as_utc

logger = logging.getLogger(__name__)
Sleep = Callable[[float], Awaitable[None]]


class ProgressNotifier(Protocol):
    """Tells the author how their announcement is going (the channel's live message)."""

    async def progress(self, announcement_id: int, progress: Progress) -> None: ...

    async def finished(self, announcement_id: int, report: Report) -> None: ...


class BroadcastService:
    """See the module docstring. ``sender_options`` go to each :class:`BroadcastSender`."""

    def __init__(
        self,
        engine: AsyncEngine,
        sessions: async_sessionmaker[AsyncSession],
        send: Send,
        *,
        channel: str,
        pacer: Pacer,
        translator: Translator | None = None,
        notifier: ProgressNotifier | None = None,
        wallclock: Callable[[], dt.datetime] = utcnow,
        sleep: Sleep = asyncio.sleep,
        idle_poll: float = 30.0,
        progress_interval: float = 5.0,
        shared_poll: float = 1.0,
        shared_with: Sequence[str] = (),
        **sender_options: object,
    ) -> None:
        self._engine = engine
        self._sessions = sessions
        self._send = send
        self.channel = channel
        self.pacer = pacer
        self._translator = translator
        self._notifier = notifier
        self._wallclock = wallclock
        self._sleep = sleep
        self._idle_poll = idle_poll
        self._progress_interval = progress_interval
        self._sender_options = sender_options
        self._shared_poll = shared_poll
        # The other channels whose subscribers the same announcements reach (issue 16).
        self.shared_with = tuple(c for c in shared_with if c != channel)
        self.peers: list[BroadcastService] = []  # the other channels' services (share_queue)
        # The worker registry (bot/workers/registry.py) when several workers share the queue.
        self.workers: LiveWorkers | None = None
        self._wake = asyncio.Event()
        self._current: tuple[int, BroadcastSender] | None = None
        self.reports: list[Report] = []  # what this process finished, newest last

    def wake(self) -> None:
        """Look for due work now (a new or cancelled announcement), here and in the other
        channels' services: each has rows of the same announcement to send."""
        self._wake.set()
        for peer in self.peers:
            peer._wake.set()

    def share_queue(self, other: BroadcastService) -> None:
        """``other`` (another channel) sends the same announcements: each wakes the other."""
        self.peers.append(other)
        other.peers.append(self)

    async def cancel(self, announcement_id: int) -> bool:
        """Cancels in the database and, if it is being sent here, stops the sender at once
        (sends in flight finish and are recorded). False if it had already finished."""
        async with self._sessions() as session, session.begin():
            cancelled = await store.cancel(session, announcement_id)
        current = self._current
        if cancelled and current is not None and current[0] == announcement_id:
            current[1].stop()
        self.wake()
        return cancelled

    @contextlib.asynccontextmanager
    async def running(self) -> AsyncIterator[BroadcastService]:
        """Runs the loop in a task for the duration of the block; stops it in order."""
        task = asyncio.create_task(self.run(), name="broadcast")
        try:
            yield self
        finally:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    async def run(self) -> None:
        while True:
            # Cleared before looking, never after: a wake() that comes while the queue is
            # being read (a staff member confirming right then) must cut the next wait short.
            self._wake.clear()
            try:
                announcement_id = await self._next_due()
            except Exception:  # a database hiccup must not end the loop for good
                logger.exception("broadcast: could not read the queue")
                announcement_id = None
            if announcement_id is not None:
                report = await self.deliver(announcement_id)
                if report is not None and report.status == "sending":
                    # Its last rows are in flight at another worker, which finishes it.
                    await self._idle(self._shared_poll)
                continue
            await self._idle()

    async def deliver(self, announcement_id: int) -> Report | None:
        """Queues (if not yet) and sends one announcement; returns the sender's report."""
        await self._enqueue_if_needed(announcement_id)
        sender = BroadcastSender(
            self._engine,
            self._send,
            pacer=self.pacer,
            translator=self._translator,
            wallclock=self._wallclock,
            progress=self._on_progress(announcement_id),
            progress_interval=self._progress_interval,
            workers=self.workers,
            channel=self.channel if self.shared_with else None,
            **self._sender_options,  # type: ignore[arg-type]
        )
        self._current = (announcement_id, sender)
        try:
            report = await sender.run(announcement_id)
        except Exception:
            logger.exception("broadcast %s failed; it resumes on the next start", announcement_id)
            await self._idle()
            return None
        finally:
            self._current = None
        if report.status in ("done", "cancelled") and report.closed_here:
            self.reports.append(report)
            if self._notifier is not None:
                try:
                    await self._notifier.finished(announcement_id, report)
                except Exception:
                    logger.exception("broadcast report could not be sent")
        return report

    def _on_progress(self, announcement_id: int) -> Callable[[Progress], Awaitable[None]]:
        async def report(progress: Progress) -> None:
            if self._notifier is not None and not progress.final:
                await self._notifier.progress(announcement_id, progress)

        return report

    async def _idle(self, at_most: float | None = None) -> None:
        wait = self._idle_poll if at_most is None else min(self._idle_poll, at_most)
        next_at = await self._next_send_at()
        if next_at is not None:
            wait = min(wait, max((next_at - self._wallclock()).total_seconds(), 0.0))
        if wait <= 0 or self._wake.is_set():
            return
        sleeper = asyncio.ensure_future(self._sleep(wait))
        waker = asyncio.ensure_future(self._wake.wait())
        try:
            await asyncio.wait((sleeper, waker), return_when=asyncio.FIRST_COMPLETED)
        finally:
            for task in (sleeper, waker):
                task.cancel()

    async def _next_due(self) -> int | None:
        now = self._wallclock()
        async with self._sessions() as session:
            resumed = await session.scalar(
                select(Announcement.id)
                .where(Announcement.status == "sending")
                .order_by(Announcement.id)
                .limit(1)
            )
            if resumed is not None:
                return int(resumed)
            due = await session.scalar(
                select(Announcement.id)
                .where(
                    Announcement.status == "scheduled",
                    or_(Announcement.send_at.is_(None), Announcement.send_at <= now),
                )
                .order_by(Announcement.send_at.is_not(None), Announcement.send_at, Announcement.id)
                .limit(1)
            )
            return None if due is None else int(due)

    async def _next_send_at(self) -> dt.datetime | None:
        async with self._sessions() as session:
            moment = await session.scalar(
                select(func.min(Announcement.send_at)).where(Announcement.status == "scheduled")
            )
        return as_utc(moment)

    async def _enqueue_if_needed(self, announcement_id: int) -> None:
        """A ``scheduled`` announcement without deliveries gets its recipients now."""
        async with self._sessions() as session:
            announcement = await session.get(Announcement, announcement_id)
            if announcement is None or announcement.status != "scheduled":
                return
            queued = await session.scalar(
                select(func.count())
                .select_from(AnnouncementDelivery)
                .where(AnnouncementDelivery.announcement_id == announcement_id)
            )
            if queued:
                return
            segment = audience.Segment.from_json(announcement.segment, announcement.opd)
            recipients = []
            for channel in (self.channel, *self.shared_with):
                recipients += await audience.recipients(session, channel, segment)
        total = await store.enqueue(self._engine, announcement_id, recipients)
        logger.info("announcement %s queued for %d recipients", announcement_id, total)
