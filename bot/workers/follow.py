"""What other workers change that this one keeps in memory: the published flow version and
which staff members are typing an announcement.

A worker loads the flow set once and swaps it when *it* publishes; the worker that handles a
citizen's next message may be another one. So each worker checks the newest published
version every ``interval`` seconds and loads it when its digest differs from the running one
(an event already being handled finishes on the version it started with, as for a local
publish). Likewise the staff members whose draft waits for typed input (the composer's
in-memory filter) are refreshed from the draft rows.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Awaitable, Callable

from sqlalchemy import select

from bot.app import Loket
from bot.broadcast.compose import Composer
from bot.flows.loader import FlowSetError
from bot.storage.models import FlowVersion

logger = logging.getLogger(__name__)
DEFAULT_INTERVAL = 2.0


class SharedStateFollower:
    def __init__(
        self,
        loket: Loket,
        composer: Composer | None,
        *,
        interval: float = DEFAULT_INTERVAL,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self.loket = loket
        self.composer = composer
        self.interval = interval
        self._sleep = sleep
        self._refused: str | None = None  # a digest that did not load: not retried each tick

    async def check_once(self) -> bool:
        """Loads a newer published flow version if there is one; True if it did."""
        if self.composer is not None:
            await self.composer.refresh_awaiting()
        async with self.loket.sessions() as session:
            newest = (
                await session.execute(
                    select(FlowVersion.number, FlowVersion.digest, FlowVersion.sources)
                    .order_by(FlowVersion.number.desc())
                    .limit(1)
                )
            ).one_or_none()
        if newest is None:
            return False
        number, digest, sources = newest
        if digest in (self.loket.runtime.current().flows.version, self._refused):
            return False
        try:
            self.loket.reload_flows({str(k): str(v) for k, v in sources.items()})
        except FlowSetError as error:
            self._refused = digest
            logger.error(
                "flow version %s published elsewhere does not load here: %s", number, error
            )
            return False
        logger.info("flow version %s published by another worker is now loaded", number)
        return True

    @contextlib.asynccontextmanager
    async def running(self) -> AsyncIterator[SharedStateFollower]:
        async def loop() -> None:
            while True:
                await self._sleep(self.interval)
                try:
                    await self.check_once()
                except Exception:  # a database hiccup: try again next tick
                    logger.exception("could not follow the shared state")

        task = asyncio.create_task(loop(), name="shared-state")
        try:
            yield self
        finally:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
