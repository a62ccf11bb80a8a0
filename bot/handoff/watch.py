"""A Telegram notice to on-duty staff of an OPD when a ticket waits longer than its SLA.

"Waits" is office time without an officer's answer (``bot.handoff.sla``); "on duty" means
the OPD's office is open now, so nobody is woken at night for a question that could not
have been answered yet. Each ticket is noticed once: the ``sla_notified_at`` stamp is set by
a conditional UPDATE before the notices go out, so with two workers only one sends them.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import logging
from collections.abc import AsyncIterator, Callable, Mapping
from typing import Any

from sqlalchemy import select, update

from bot.engine.messages import Outbound
from bot.handoff.service import Handoff
from bot.handoff.sla import DEFAULT_SLA, office_time, waited_text
from bot.notify.delivery import Deliver
from bot.storage.models import Role, Ticket, User
from bot.storage.repo import as_utc

logger = logging.getLogger(__name__)


class SlaWatch:
    def __init__(
        self,
        handoff: Handoff,
        deliver: Mapping[str, Deliver],
        *,
        console_url: Callable[[], str] = lambda: "",
        budget: dt.timedelta = DEFAULT_SLA,
        interval: float = 60.0,
    ) -> None:
        self.handoff = handoff
        self.deliver = dict(deliver)
        self.console_url = console_url
        self.budget = budget
        self.interval = interval
        self.notices = 0

    def _late(self, ticket: Ticket, now: dt.datetime) -> dt.timedelta | None:
        """Office time waited, when past the SLA and the office is open now; else None."""
        region = self.handoff.region
        opd = region.opds.get(ticket.opd)
        office = region.offices.get(opd.office) if opd else None
        if office is None or not office.is_open(region.now(now), region.holiday_dates):
            return None
        waited = office_time(
            as_utc(ticket.created_at), now, office.hours, region.holiday_dates, region.timezone
        )
        return waited if waited > self.budget else None

    async def check(self) -> int:
        """One pass: notices sent for tickets that just went past their SLA."""
        now = self.handoff.clock()
        sessions = self.handoff.sessions
        async with sessions() as session:
            waiting = (
                await session.scalars(
                    select(Ticket).where(
                        Ticket.status.in_(("open", "claimed")),
                        Ticket.first_response_at.is_(None),
                        Ticket.sla_notified_at.is_(None),
                        Ticket.erased_at.is_(None),
                    )
                )
            ).all()
        sent = 0
        for ticket in waiting:
            waited = self._late(ticket, now)
            if waited is None:
                continue
            async with sessions() as session, session.begin():
                claimed = await session.execute(
                    update(Ticket)
                    .where(Ticket.id == ticket.id, Ticket.sla_notified_at.is_(None))
                    .values(sla_notified_at=now)
                )
                if not claimed.rowcount:  # type: ignore[attr-defined]
                    continue  # another worker noticed it
                staff = (
                    await session.execute(
                        select(User.channel, User.external_id)
                        .join(Role, Role.user_id == User.id)
                        .where(Role.role == "staff", Role.opd == ticket.opd)
                        .distinct()
                    )
                ).all()
            link = self.console_url()
            text = (
                f"Tiket {ticket.number} ({self.handoff.short(ticket.opd)}) sudah menunggu "
                f"{waited_text(waited)} jam kerja tanpa jawaban (batas "
                f"{waited_text(self.budget)}). Mohon dijawab di kotak masuk"
                + (f": {link}/inbox?t={ticket.id}" if link else ".")
            )
            for channel, external_id in staff:
                if channel in self.deliver:
                    await self.deliver[channel](channel, external_id, Outbound(text))
                    sent += 1
        self.notices += sent
        return sent

    async def run(self) -> None:
        while True:
            try:
                await self.check()
            except Exception:
                logger.exception("SLA check failed")
            await asyncio.sleep(self.interval)  # a periodic job, not a synchronisation


@contextlib.asynccontextmanager
async def running_watch(
    loket: Any, deliver: Mapping[str, Deliver], console_url: Callable[[], str]
) -> AsyncIterator[SlaWatch]:
    watch = SlaWatch(loket.handoff, deliver, console_url=console_url)
    task = asyncio.get_running_loop().create_task(watch.run(), name="ticket-sla")
    try:
        yield watch
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
