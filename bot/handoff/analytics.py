"""Handoff analytics (issue 15): per OPD, how many tickets, how fast the first answer and
the close came (office time, median and p90), how many were abandoned, and the handoff rate
(the share of citizens who talked to the bot and asked for an officer).

Times are office time (``bot.handoff.sla``): a ticket sent on Friday evening and answered
on Monday at 08.30 waited 30 minutes, which is what an OPD can act on. Shown in the console
(``/konsol/inbox/analitik``) and exported on ``/metrics``.
"""

from __future__ import annotations

import datetime as dt
import statistics
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.handoff.sla import office_time
from bot.region import Region
from bot.storage.models import Event, Ticket
from bot.storage.repo import as_utc

WINDOW = dt.timedelta(days=30)


@dataclass(frozen=True, slots=True)
class OpdStats:
    opd: str
    tickets: int
    open: int
    abandoned: int  # closed without any officer answer
    first_response_median: float | None  # seconds of office time
    first_response_p90: float | None
    close_median: float | None
    close_p90: float | None


@dataclass(frozen=True, slots=True)
class HandoffReport:
    since: dt.datetime
    citizens: int
    tickets: int
    per_opd: list[OpdStats]

    @property
    def handoff_rate(self) -> float:
        return self.tickets / self.citizens if self.citizens else 0.0


def quantile(values: list[float], q: float) -> float | None:
    """The ``q`` quantile by the nearest-rank rule (p90 of three values is the largest)."""
    if not values:
        return None
    ordered = sorted(values)
    rank = max(1, -(-len(ordered) * q // 1))  # ceil(n * q)
    return ordered[int(rank) - 1]


def _office(region: Region, opd: str, start: dt.datetime, end: dt.datetime) -> float:
    found = region.opds.get(opd)
    office = region.offices.get(found.office) if found else None
    if office is None:
        return (end - start).total_seconds()
    return office_time(
        start, end, office.hours, region.holiday_dates, region.timezone
    ).total_seconds()


async def report(
    session: AsyncSession, region: Region, now: dt.datetime, window: dt.timedelta = WINDOW
) -> HandoffReport:
    since = as_utc(now - window)
    tickets = list((await session.scalars(select(Ticket).where(Ticket.created_at >= since))).all())
    citizens = await session.scalar(
        select(func.count(func.distinct(Event.user_id))).where(Event.at >= since)
    )
    per_opd = []
    for opd in sorted({t.opd for t in tickets}):
        mine = [t for t in tickets if t.opd == opd]
        first = [
            _office(region, opd, as_utc(t.created_at), as_utc(t.first_response_at))
            for t in mine
            if t.first_response_at is not None
        ]
        closed = [
            _office(region, opd, as_utc(t.created_at), as_utc(t.closed_at))
            for t in mine
            if t.closed_at is not None
        ]
        per_opd.append(
            OpdStats(
                opd=opd,
                tickets=len(mine),
                open=sum(t.status != "closed" for t in mine),
                abandoned=sum(t.status == "closed" and t.first_response_at is None for t in mine),
                first_response_median=statistics.median(first) if first else None,
                first_response_p90=quantile(first, 0.9),
                close_median=statistics.median(closed) if closed else None,
                close_p90=quantile(closed, 0.9),
            )
        )
    return HandoffReport(since, int(citizens or 0), len(tickets), per_opd)


def register_metrics(registry: object, loket: object) -> None:
    """Gauges on ``/metrics``, read from the database when scraped (every worker agrees)."""
    sessions: async_sessionmaker[AsyncSession] = loket.sessions  # type: ignore[attr-defined]
    region: Region = loket.region  # type: ignore[attr-defined]
    clock = loket.clock  # type: ignore[attr-defined]

    async def current() -> HandoffReport:
        async with sessions() as session:
            return await report(session, region, clock())

    async def rate() -> list[tuple[dict[str, str], float]]:
        return [({}, (await current()).handoff_rate)]

    async def counts() -> list[tuple[dict[str, str], float]]:
        found = await current()
        rows: list[tuple[dict[str, str], float]] = []
        for s in found.per_opd:
            rows += [
                ({"opd": s.opd, "state": "all"}, float(s.tickets)),
                ({"opd": s.opd, "state": "open"}, float(s.open)),
                ({"opd": s.opd, "state": "abandoned"}, float(s.abandoned)),
            ]
        return rows

    def timing(median: str, p90: str):  # type: ignore[no-untyped-def]
        async def read() -> list[tuple[dict[str, str], float]]:
            rows = []
            for s in (await current()).per_opd:
                for quantile_label, name in (("0.5", median), ("0.9", p90)):
                    value = getattr(s, name)
                    if value is not None:
                        rows.append(({"opd": s.opd, "quantile": quantile_label}, float(value)))
            return rows

        return read

    registry.gauge(  # type: ignore[attr-defined]
        "loket_handoff_rate",
        "Share of citizens seen in the last 30 days who asked for an officer (tickets/citizens).",
        rate,
    )
    registry.gauge(  # type: ignore[attr-defined]
        "loket_tickets",
        "Tickets opened in the last 30 days by OPD: all, open, abandoned (closed unanswered).",
        counts,
        ("opd", "state"),
    )
    registry.gauge(  # type: ignore[attr-defined]
        "loket_ticket_first_response_office_seconds",
        "Office time to an officer's first answer, last 30 days (median and p90) by OPD.",
        timing("first_response_median", "first_response_p90"),
        ("opd", "quantile"),
    )
    registry.gauge(  # type: ignore[attr-defined]
        "loket_ticket_close_office_seconds",
        "Office time to a ticket's close, last 30 days (median and p90) by OPD.",
        timing("close_median", "close_p90"),
        ("opd", "quantile"),
    )
