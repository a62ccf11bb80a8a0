"""Messages to one staff member's chat keep to Telegram's per-chat limit (issue 12.4).

A staff member sending a small announcement gets, within a second or two, the preview, the
confirmation, the live progress message, its edits and the report. The local Bot API refuses
a fourth message within a second to one chat with 429, as Telegram does; here nothing may be
refused (the desk fixture fails on any 429), and the report always arrives, also when
Telegram refuses it once with a 429: it is sent again after ``retry_after``.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from bot.botapi import BotApiLimits, LocalBotApi
from bot.settings import Settings
from tests.staff import conftest as staff
from tests.staff.conftest import STAFF_ID
from tests.staff.test_broadcast_live import add_subscribers
from tests.staff.test_umumkan import wait_report
from tests.telegram.support import TIMEOUT, Citizen, Desk

settings = staff.settings
admin = staff.admin
petugas = staff.petugas
SUBSCRIBERS = 3
FIRST = 730_000
REPORT = "Laporan pengumuman"


@pytest.fixture
def limits() -> BotApiLimits:
    """Telegram's limits as they are: 30/s per bot, 1/s per chat with a burst of 3."""
    return BotApiLimits()


@pytest.fixture
async def desk(
    api: LocalBotApi, settings: Settings, agencies: dict[str, str]
) -> AsyncIterator[Desk]:
    running = Desk(api, settings, agencies)
    running.broadcast_options = {"progress_interval": 0.2}
    await running.start()
    try:
        yield running
    finally:
        await running.stop()
    assert running.unexpected_errors() == [], running.unexpected_errors()


async def _announce(desk: Desk, admin: Citizen, petugas: Citizen) -> str:
    await add_subscribers(desk, SUBSCRIBERS, FIRST)
    await admin.send(f"/peran beri {STAFF_ID} staf dinkes")
    await petugas.send("/umumkan")
    await petugas.send("Posyandu balita besok pagi di Kampung Nawaripi.")
    await petugas.click("Semua pelanggan")
    reply = await petugas.click("Kirim sekarang")
    return reply.text.split()[1]  # "Pengumuman MMK-XXXX segera dikirim..."


async def _report_arrives(desk: Desk, petugas: Citizen, reference: str) -> None:
    await wait_report(desk, reference)
    signal = desk.api.bot().signal

    def arrived() -> bool:
        return any(
            REPORT in t and reference in t for t in petugas.api.bot().record(petugas.chat_id).texts
        )

    assert await signal.wait_for(arrived, TIMEOUT), [
        m.visible_text for m in petugas.bot_messages()
    ]


async def test_a_small_announcement_keeps_the_authors_chat_within_the_limit(
    desk: Desk, admin: Citizen, petugas: Citizen
) -> None:
    reference = await _announce(desk, admin, petugas)
    await _report_arrives(desk, petugas, reference)
    assert desk.api.stats.rate_limited == 0  # no 429 to anyone, the author included
    assert desk.api.stats.delivered[STAFF_ID] >= 5  # preview, confirmation, progress, report


async def test_a_report_refused_with_429_is_sent_again(
    desk: Desk, admin: Citizen, petugas: Citizen
) -> None:
    desk.allowed_error_codes.add(429)  # the one injected below
    desk.api.inject_error("sendMessage", chat_id=STAFF_ID, text_contains=REPORT, retry_after=1)
    reference = await _announce(desk, admin, petugas)
    await _report_arrives(desk, petugas, reference)
    refused = [e for e in desk.api.errors if e.error_code == 429]
    assert len(refused) == 1 and REPORT in str(refused[0].params.get("text"))
    reports = [t for t in petugas.api.bot().record(STAFF_ID).texts if REPORT in t]
    assert len(reports) == 1  # sent again once, not twice
