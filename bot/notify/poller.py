"""Polling for OPDs that cannot push: every ``<OPD>_POLL_INTERVAL`` seconds, the status of
each followed application is read and recorded like a push (so a status seen again changes
nothing). One slow or failing application does not stop the others; an OPD that is down is
simply asked again at the next interval.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Iterable, Mapping

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.frontdesk import Clock, system_clock
from bot.notify.changes import Change, ChangeRecorder
from bot.notify.source import StatusSource
from bot.privacy import mask_identifiers
from bot.storage import repo
from integrations.errors import NotFound, OpdError
from integrations.settings import IntegrationSettings

logger = logging.getLogger(__name__)
Monotonic = Callable[[], float]


class Poller:
    """``intervals`` maps each OPD to poll to its interval in seconds."""

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        source: StatusSource,
        recorder: ChangeRecorder,
        intervals: Mapping[str, float],
        *,
        clock: Clock = system_clock,
        concurrency: int = 4,
    ) -> None:
        self._sessions = sessions
        self._source = source
        self._recorder = recorder
        self.intervals = {opd: seconds for opd, seconds in intervals.items() if seconds > 0}
        self._clock = clock
        self._limit = asyncio.Semaphore(concurrency)

    async def poll_once(self, opd: str) -> int:
        """Checks every followed application of ``opd`` once; returns how many citizens
        were queued a notification."""
        async with self._sessions() as session:
            numbers = await repo.followed_numbers(session, opd)
        results = await asyncio.gather(*(self._check(opd, number) for number in numbers))
        failed = [reason for _told, reason in results if reason]
        if failed:  # one line per poll, not one per application
            reasons = ", ".join(sorted(set(failed)))
            logger.warning(
                "%s: %d of %d polls failed (%s)", opd, len(failed), len(numbers), reasons
            )
        return sum(told for told, _reason in results)

    async def _check(self, opd: str, number: str) -> tuple[int, str | None]:
        """(citizens told, failure reason or None) for one application."""
        async with self._limit:
            try:
                observed = await self._source.fetch(opd, number)
            except NotFound:  # withdrawn or mistyped: nothing to tell, not an outage
                logger.info(
                    "%s application %s not found while polling", opd, mask_identifiers(number)
                )
                return 0, None
            except OpdError as error:
                return 0, error.reason
            if observed is None:
                return 0, None
            # Without the OPD's own time (AK/I cards) the moment of observation stands in.
            moment = observed.updated_at or self._clock()
            try:
                told = await self._recorder.record(
                    Change(opd, number, observed.status, moment, observed.note)
                )
            except Exception:
                logger.exception("%s poll of %s not recorded", opd, mask_identifiers(number))
                return 0, "not_recorded"
            return told, None

    async def run(self, *, monotonic: Monotonic | None = None) -> None:
        """Polls each OPD at its own interval until cancelled (first poll one interval after
        start: a restart does not hammer the OPDs)."""
        if not self.intervals:
            return
        now = monotonic or asyncio.get_running_loop().time
        due = {opd: now() + seconds for opd, seconds in self.intervals.items()}
        while True:
            opd = min(due, key=due.__getitem__)
            delay = due[opd] - now()
            if delay > 0:
                await asyncio.sleep(delay)
            try:
                await self.poll_once(opd)
            except Exception:
                logger.exception("polling %s failed", opd)
            due[opd] = max(due[opd] + self.intervals[opd], now())


def poll_intervals(settings: IntegrationSettings, followable: Iterable[str]) -> dict[str, float]:
    """``<OPD>_POLL_INTERVAL`` of each configured, followable OPD without a push hook secret
    (an OPD with a secret pushes its changes and is not polled)."""
    intervals: dict[str, float] = {}
    for opd in followable:
        opd_settings = settings.get(opd)
        if (
            opd_settings is not None
            and not opd_settings.hook_secret
            and opd_settings.poll_interval > 0
        ):
            intervals[opd] = opd_settings.poll_interval
    return intervals
