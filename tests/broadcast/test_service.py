"""The broadcast service's loop: a wake() is never lost."""

from __future__ import annotations

import asyncio

from sqlalchemy.ext.asyncio import AsyncEngine

from bot.broadcast.pacer import Pacer
from bot.broadcast.sender import Media, Outcome, Progress, Report
from bot.broadcast.service import BroadcastService
from bot.storage.db import sessions
from tests.broadcast.conftest import add_citizens, new_announcement


async def never(_seconds: float) -> None:
    await asyncio.Event().wait()


async def sent(_chat_id: str, _text: str, _media: Media | None = None) -> Outcome:
    return Outcome.sent()


class Finished:
    def __init__(self) -> None:
        self.done = asyncio.Event()

    async def progress(self, _announcement_id: int, _progress: Progress) -> None:
        return None

    async def finished(self, _announcement_id: int, _report: Report) -> None:
        self.done.set()


async def test_an_announcement_confirmed_while_the_queue_is_read_goes_out_at_once(
    engine: AsyncEngine,
) -> None:
    """A staff member confirms right while the service reads the queue: its wake() must cut
    the idle wait short (the idle sleep here never ends by itself)."""
    recipients = await add_citizens(engine, 2)

    class ConfirmDuringRead(BroadcastService):
        confirmed = False

        async def _next_send_at(self):  # type: ignore[no-untyped-def]
            result = await super()._next_send_at()
            if not self.confirmed:
                self.confirmed = True
                await new_announcement(engine, recipients)
                self.wake()
            return result

    finished = Finished()
    service = ConfirmDuringRead(
        engine,
        sessions(engine),
        sent,
        channel="telegram",
        pacer=Pacer(1000),
        notifier=finished,
        sleep=never,
    )
    async with service.running():
        await asyncio.wait_for(finished.done.wait(), 10)
    assert (service.reports[0].status, service.reports[0].sent) == ("done", 2)
