"""The real process killed halfway: ``loket run`` sending an announcement gets SIGKILL.

The local Bot API server runs in the test, enforcing Telegram's limits; ``loket run`` runs as
a child process against it (Telegram mode, long polling) on a SQLite file. When the server has
recorded a third of the deliveries the child is killed with SIGKILL (no cleanup of any kind),
then started again. The server's own record of deliveries must then show every recipient
exactly once, except the few rows the first process had claimed and not finished: those the
report lists as uncertain (``unknown``) instead of sending them again or hiding them.
"""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy import func, select

from bot.app import open_loket
from bot.botapi import BotApiLimits, LocalBotApi
from bot.settings import Settings
from bot.storage.models import AnnouncementDelivery
from tests.support.announcements import prepare_broadcast

TOKEN = "777000:LOKET-KILL-TEST"
RECIPIENTS = 150
FIRST_CHAT = 810_000
AUTHOR = 809_999
TIMEOUT = 60.0


@pytest.fixture
async def api() -> AsyncIterator[LocalBotApi]:
    server = LocalBotApi(BotApiLimits(), token=TOKEN, username="loket_mimika_bot")
    server.add_user(AUTHOR, "Petugas Dinkes")
    for i in range(RECIPIENTS):
        server.add_user(FIRST_CHAT + i, f"Warga {i}")
    await server.start()
    try:
        yield server
    finally:
        await server.stop()


async def prepare(database_url: str) -> str:
    """Citizens subscribed to health news, a staff author and one announcement due now."""
    return await prepare_broadcast(
        database_url,
        author=AUTHOR,
        first_chat=FIRST_CHAT,
        recipients=RECIPIENTS,
        text="Imunisasi campak gratis di semua puskesmas, Senin 08.00 WIT.",
    )


async def start_loket(
    api: LocalBotApi, database_url: str, log: Path
) -> asyncio.subprocess.Process:
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("TELEGRAM_", "WEBHOOK_", "DATABASE_", "ADMIN_", "BROADCAST_"))
    }
    env.update(
        {
            "DATABASE_URL": database_url,
            "TELEGRAM_BOT_TOKEN": TOKEN,
            "TELEGRAM_API_BASE_URL": api.bot_api_url,
            "BROADCAST_RATE": "30",
            "LOKET_PORT": "0",  # /healthz and /metrics on a free port, never a taken one
            "PTB_TIMEDELTA": "1",
        }
    )
    with log.open("ab") as output:
        return await asyncio.create_subprocess_exec(
            sys.executable, "-m", "bot.cli", "run", env=env, stdout=output, stderr=output
        )


async def test_sigkill_halfway_then_restart_delivers_the_rest_exactly_once(
    api: LocalBotApi, tmp_path: Path, database_url: str
) -> None:
    reference = await prepare(database_url)
    state = api.bot()
    log = tmp_path / "loket.log"

    first = await start_loket(api, database_url, log)
    try:
        reached = await state.signal.wait_for(
            lambda: api.stats.total_delivered >= RECIPIENTS // 3, TIMEOUT
        )
        assert reached, log.read_text()
    finally:
        first.send_signal(signal.SIGKILL)  # no shutdown code runs
        await first.wait()
    at_kill = api.stats.total_delivered
    assert RECIPIENTS // 3 <= at_kill < RECIPIENTS

    second = await start_loket(api, database_url, log)
    try:

        def reported() -> bool:
            return any("Laporan pengumuman" in m.visible_text for m in api.messages(AUTHOR))

        assert await state.signal.wait_for(reported, TIMEOUT), log.read_text()
    finally:
        second.send_signal(signal.SIGTERM)
        await second.wait()

    delivered = {chat: n for chat, n in api.stats.delivered.items() if chat != AUTHOR}
    assert max(delivered.values()) == 1, "somebody got a second copy"
    async with (
        open_loket(Settings(database_url=database_url, env={})) as loket,
        loket.sessions() as session,
    ):
        rows = (
            await session.execute(
                select(AnnouncementDelivery.chat_id, AnnouncementDelivery.status)
            )
        ).all()
        by_status = dict(
            (
                await session.execute(
                    select(AnnouncementDelivery.status, func.count()).group_by(
                        AnnouncementDelivery.status
                    )
                )
            ).all()
        )
    sent = {int(chat) for chat, status in rows if status == "sent"}
    unknown = {int(chat) for chat, status in rows if status == "unknown"}
    assert len(rows) == RECIPIENTS
    assert set(by_status) <= {"sent", "unknown"}, by_status
    # Everyone recorded as sent got it exactly once, according to the server.
    assert all(delivered.get(chat) == 1 for chat in sent)
    # Nobody is missing silently: whoever did not get it is listed as uncertain.
    missing = {FIRST_CHAT + i for i in range(RECIPIENTS)} - set(delivered)
    assert missing <= unknown
    assert len(unknown) <= 16, "more than the few sends in flight at the kill"
    report = next(m.visible_text for m in api.messages(AUTHOR) if "Laporan" in m.visible_text)
    assert f"Laporan pengumuman {reference} (selesai)" in report
    assert f"Terkirim: {len(sent)}" in report
    if unknown:
        assert f"Tidak pasti: {len(unknown)}" in report
    assert not [e for e in api.errors if e.error_code == 429], "the limit was exceeded"
