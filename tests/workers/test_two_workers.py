"""Two real ``loket run`` workers behind one webhook URL, on one PostgreSQL database.

The local Bot API server delivers webhooks one at a time, in order, to a round-robin load
balancer, so each citizen's consecutive updates reach different workers. The burst of each
citizen only makes sense in order (the application number answers the prompt before it), so
a reordering shows in the replies; every message must get exactly one answer (no duplicate,
none lost). An announcement due as the workers start is sent by both together: every
recipient exactly once, rows claimed by both workers, no 429, one report to its author.

PostgreSQL only: skipped without LOKET_TEST_POSTGRES_URL, failed under
LOKET_REQUIRE_POSTGRES=1 (CI).
"""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy import func, select

from bot.app import open_loket
from bot.botapi import BotApiLimits, LocalBotApi
from bot.local import running_sandbox, sandbox_env
from bot.settings import Settings
from bot.storage.models import AnnouncementDelivery, InboxUpdate
from tests.support.announcements import prepare_broadcast
from tests.workers.support import RoundRobin, WorkerProcess, free_port, worker_env

TOKEN = "778000:LOKET-TWO-WORKERS"
AUTHOR = 820_000
FIRST_RECIPIENT = 820_100
RECIPIENTS = 150
FIRST_CITIZEN = 830_000
CITIZENS = 6
BURST = (
    "cek status permohonan",
    "9404-2026-000103",
    "syarat kia",
    "menu",
)
TIMEOUT = 90.0


@pytest.fixture
async def api() -> AsyncIterator[LocalBotApi]:
    server = LocalBotApi(BotApiLimits(), token=TOKEN, username="loket_mimika_bot")
    server.add_user(AUTHOR, "Petugas Dinkes")
    for i in range(RECIPIENTS):
        server.add_user(FIRST_RECIPIENT + i, f"Warga {i}")
    for i in range(CITIZENS):
        server.add_user(FIRST_CITIZEN + i, f"Penanya {i}")
    await server.start()
    try:
        yield server
    finally:
        await server.stop()


async def prepare(database_url: str, send_at: dt.datetime) -> str:
    """Subscribers of health news, their author and one announcement due at ``send_at``."""
    return await prepare_broadcast(
        database_url,
        author=AUTHOR,
        first_chat=FIRST_RECIPIENT,
        recipients=RECIPIENTS,
        text="Posyandu balita serentak Sabtu 08.00 WIT di semua kampung.",
        send_at=send_at,
    )


async def test_two_workers_keep_order_and_share_one_broadcast(
    api: LocalBotApi, postgres_url: str, tmp_path: Path
) -> None:
    state = api.bot()
    # Due a few seconds from now: both workers are up by then and start it together.
    reference = await prepare(postgres_url, dt.datetime.now(dt.UTC) + dt.timedelta(seconds=4))
    workers = [WorkerProcess({}, free_port(), tmp_path / f"worker{n}.log") for n in range(2)]
    async with (
        running_sandbox() as agencies,  # the OPDs' systems, as configured in production
        RoundRobin([worker.url for worker in workers]).running() as balancer,
    ):
        env = worker_env(postgres_url, TOKEN, api.bot_api_url, balancer.url, sandbox_env(agencies))
        for worker in workers:
            worker.env = env
        try:
            await asyncio.gather(*(worker.start() for worker in workers))
            logs = "\n".join(w.log.read_text() for w in workers)

            # -- the announcement, sent by both workers ---------------------------------
            def reported() -> bool:
                return any("Laporan pengumuman" in m.visible_text for m in api.messages(AUTHOR))

            assert await state.signal.wait_for(reported, TIMEOUT), logs

            # -- bursts from several citizens, spread over both workers -----------------
            for n in range(CITIZENS):
                for text in BURST:
                    api.send_text(FIRST_CITIZEN + n, text)

            def answered() -> bool:
                return all(
                    len(api.messages(FIRST_CITIZEN + n)) >= len(BURST) for n in range(CITIZENS)
                )

            assert await state.signal.wait_for(answered, TIMEOUT), "\n".join(
                w.log.read_text() for w in workers
            )
            await api.wait_for_idle_updates(TIMEOUT)
            # Every citizen's update recorded once and started once, by the inbox.
            async with (
                open_loket(Settings(database_url=postgres_url, env={})) as loket,
                loket.sessions() as session,
            ):
                unstarted = await session.scalar(
                    select(func.count())
                    .select_from(InboxUpdate)
                    .where(InboxUpdate.started_at.is_(None))
                )
                inbox = await session.scalar(select(func.count()).select_from(InboxUpdate))
                rows = (
                    await session.execute(
                        select(
                            AnnouncementDelivery.chat_id,
                            AnnouncementDelivery.status,
                            AnnouncementDelivery.claimed_by,
                        )
                    )
                ).all()
        finally:
            codes = [await worker.stop() for worker in workers]
    logs = "\n".join(w.log.read_text() for w in workers)
    assert codes == [0, 0], logs

    # Both workers received webhooks for the bursts.
    assert len(balancer.forwarded) == 2 and min(balancer.forwarded.values()) >= CITIZENS

    # No reordering, no duplicate, nothing lost: four answers per citizen, in order.
    for n in range(CITIZENS):
        texts = [m.visible_text for m in api.messages(FIRST_CITIZEN + n)]
        assert len(texts) == len(BURST), texts
        assert texts[0].startswith("Tulis nomor permohonan Anda"), texts
        assert "Permohonan 9404-2026-000103: Akta Kelahiran" in texts[1], texts
        assert texts[2].startswith("KIA"), texts
        assert "Menu utama" in texts[3], texts
    assert inbox == CITIZENS * len(BURST)
    assert unstarted == 0

    # The broadcast: everyone exactly once, shared by both workers, within the limit.
    recipients = {str(FIRST_RECIPIENT + i) for i in range(RECIPIENTS)}
    delivered = {chat: n for chat, n in api.stats.delivered.items() if str(chat) in recipients}
    assert len(delivered) == RECIPIENTS
    assert max(delivered.values()) == 1, "somebody got a second copy"
    assert {status for _, status, _ in rows} == {"sent"}
    owners = {owner for _, _, owner in rows}
    assert len(owners) == 2, f"one worker sent it all: {owners}"
    refused = [
        e for e in api.errors if e.error_code == 429 and str(e.params.get("chat_id")) in recipients
    ]
    assert not refused, "the limit was exceeded"
    reports = [m.visible_text for m in api.messages(AUTHOR) if "Laporan" in m.visible_text]
    assert len(reports) == 1, reports
    assert f"Laporan pengumuman {reference} (selesai)" in reports[0]
    assert f"Terkirim: {RECIPIENTS}" in reports[0]
