"""Handoff analytics: per-OPD counts, office-time medians and p90, abandoned tickets and the
handoff rate, in the report and on /metrics (both backends, fake clock)."""

from __future__ import annotations

import datetime as dt

import pytest

from bot.app import Loket
from bot.handoff import analytics, store
from bot.observability.service import Observability
from bot.storage import repo
from tests.support.conversation import Conversation


def test_quantile_by_nearest_rank() -> None:
    assert analytics.quantile([], 0.9) is None
    assert analytics.quantile([3.0, 1.0, 2.0], 0.9) == 3.0
    assert analytics.quantile([float(n) for n in range(1, 11)], 0.9) == 9.0
    assert analytics.quantile([float(n) for n in range(1, 11)], 0.5) == 5.0


@pytest.mark.asyncio(loop_scope="module")
async def test_report_and_metrics(loket: Loket) -> None:
    chat = Conversation(loket, channel="test")
    await chat.send("menu")  # a citizen seen by the bot (an event)
    async with loket.sessions() as session:
        user = await repo.find_user(session, "test", chat.user)
    assert user is not None
    zone = loket.region.timezone
    # Tuesday 1 December 2026, 09.00 WIT (the office opens at 08.00).
    opened = dt.datetime(2026, 12, 1, 9, tzinfo=zone).astimezone(dt.UTC)
    assert loket.clock() - opened < dt.timedelta(days=30)
    async with loket.sessions() as session, session.begin():
        for n, (answer_after, close_after) in enumerate(((30, 60), (90, None), (None, 10))):
            ticket = await store.open_ticket(
                session,
                number=f"LKT-ANA{n}22",
                user_id=user.id,
                opd="bapenda",
                kind="request",
                consent=False,
                message="tagihan PBB",
                now=opened,
            )
            if answer_after is not None:
                await store.reply(
                    session,
                    ticket,
                    user.id,
                    "jawaban",
                    opened + dt.timedelta(minutes=answer_after),
                )
            if close_after is not None:
                await store.close(
                    session,
                    ticket,
                    user.id,
                    "terjawab",
                    opened + dt.timedelta(minutes=close_after),
                )
    async with loket.sessions() as session:
        found = await analytics.report(session, loket.region, loket.clock())
    [bapenda] = [s for s in found.per_opd if s.opd == "bapenda"]
    assert (bapenda.tickets, bapenda.open, bapenda.abandoned) == (3, 1, 1)
    assert bapenda.first_response_median == 60 * 60  # 30 and 90 minutes
    assert bapenda.first_response_p90 == 90 * 60
    assert bapenda.close_median == 35 * 60 and bapenda.close_p90 == 60 * 60
    assert found.citizens >= 1 and found.handoff_rate > 0

    text = await Observability.for_loket(loket).metrics.registry.render()
    assert 'loket_tickets{opd="bapenda",state="abandoned"} 1' in text
    assert 'loket_ticket_first_response_office_seconds{opd="bapenda",quantile="0.9"} 5400' in text
    assert "loket_handoff_rate " in text
