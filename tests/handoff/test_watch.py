"""The SLA notice: on-duty staff of the OPD are told once when a ticket waits past its SLA
in office time; not at night, not for an answered ticket, not twice with two workers."""

from __future__ import annotations

import asyncio
import datetime as dt

import pytest

from bot.app import Loket
from bot.engine.messages import Outbound
from bot.handoff import store
from bot.handoff.watch import SlaWatch
from bot.notify.delivery import DeliveryResult
from bot.storage import repo
from bot.storage.models import Role

pytestmark = pytest.mark.asyncio(loop_scope="module")


class Staff:
    def __init__(self) -> None:
        self.sent: list[tuple[str, str]] = []

    async def __call__(self, channel: str, external_id: str, message: Outbound) -> DeliveryResult:
        self.sent.append((external_id, message.text))
        return DeliveryResult.DELIVERED


async def test_late_tickets_are_noticed_once_in_office_hours(loket: Loket) -> None:
    zone = loket.region.timezone
    async with loket.sessions() as session, session.begin():
        officer, _ = await repo.get_or_create_user(session, "test", "staf-dinkes", "id")
        other, _ = await repo.get_or_create_user(session, "test", "staf-bapenda", "id")
        citizen, _ = await repo.get_or_create_user(session, "test", "warga-sla", "id")
        await session.flush()
        session.add(Role(user_id=officer.id, role="staff", opd="dinkes"))
        session.add(Role(user_id=other.id, role="staff", opd="bapenda"))
        # Asked on Friday 4 December 2026 at 14.00 WIT: one office hour left that day.
        asked = dt.datetime(2026, 12, 4, 14, tzinfo=zone)
        late = await store.open_ticket(
            session,
            number="LKT-SLAA22",
            user_id=citizen.id,
            opd="dinkes",
            kind="request",
            consent=False,
            message="apakah puskesmas buka hari Sabtu?",
            now=asked,
        )
        answered = await store.open_ticket(
            session,
            number="LKT-SLAB22",
            user_id=citizen.id,
            opd="dinkes",
            kind="request",
            consent=False,
            message="jadwal imunisasi?",
            now=asked,
        )
        await store.reply(session, answered, officer.id, "Setiap Selasa.", asked)
    staff = Staff()
    first = SlaWatch(loket.handoff, {"test": staff}, console_url=lambda: "http://x/konsol")
    second = SlaWatch(loket.handoff, {"test": staff})

    def at(moment: dt.datetime) -> None:
        loket.handoff.clock = lambda: moment.astimezone(dt.UTC)

    original = loket.handoff.clock
    try:
        at(dt.datetime(2026, 12, 5, 10, tzinfo=zone))  # Saturday: nobody on duty
        assert await first.check() == 0
        at(dt.datetime(2026, 12, 7, 10, tzinfo=zone))  # Monday 10.00: 1 h + 2 h = 3 h waited
        assert await first.check() == 0
        at(dt.datetime(2026, 12, 7, 11, 30, tzinfo=zone))  # 4 h 30 m: past the 4-hour SLA
        assert sum(await asyncio.gather(first.check(), second.check())) == 1
        [(to, text)] = staff.sent
        assert to == "staf-dinkes"  # not Bapenda's staff
        assert "LKT-SLAA22" in text and "4 j 30 m" in text
        assert f"http://x/konsol/inbox?t={late.id}" in text
        assert await first.check() == 0  # once
    finally:
        loket.handoff.clock = original
