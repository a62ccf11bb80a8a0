"""Two ``loket run`` workers behind one load balancer, on one database: Meta delivers a
webhook at least once, and a retry may reach the other worker. The shared inbox
(``whatsapp_inbound``, unique by ``wamid``) lets exactly one of them handle the message, on
PostgreSQL as on SQLite."""

from __future__ import annotations

import asyncio
import json

import aiohttp
from sqlalchemy import func, select

from bot.storage.models import WhatsAppInbound
from bot.whatsapp.standin import APP_SECRET
from bot.whatsapp.webhook import SIGNATURE_HEADER, signature
from tests.whatsapp.support import WaDesk, wa_desk

WA_ID = "6281234567001"


async def post(session: aiohttp.ClientSession, url: str, raw: bytes) -> int:
    headers = {"Content-Type": "application/json", SIGNATURE_HEADER: signature(APP_SECRET, raw)}
    async with session.post(url, data=raw, headers=headers) as response:
        await response.read()
        return response.status


def handled(desk: WaDesk) -> list[int]:
    return [worker.service.channel.handled for worker in desk.workers]


async def test_the_same_message_to_two_workers_at_once_is_handled_once(
    database_url: str,
) -> None:
    async with wa_desk(database_url, workers=2) as desk:
        envelope = desk.api.message(WA_ID, {"type": "text", "text": {"body": "/start"}})
        raw = json.dumps(envelope).encode()
        async with aiohttp.ClientSession() as session:
            answers = await asyncio.gather(*(post(session, w.url, raw) for w in desk.workers))
        assert answers == [200, 200]  # both acknowledge: Meta must not deliver it again
        await desk.settle()
        assert sum(handled(desk)) == 1, handled(desk)
        assert sorted(w.service.inbox.duplicates for w in desk.workers) == [0, 1]
        replies = desk.api.to(WA_ID)
        assert len(replies) == 1 and replies[0].kind == "list"  # one main menu, not two
        async with desk.loket.sessions() as db:
            assert await db.scalar(select(func.count()).select_from(WhatsAppInbound)) == 1


async def test_a_retry_after_the_message_was_handled_changes_nothing(database_url: str) -> None:
    """Meta's retry after a timeout, to the other worker, once the first had answered."""
    async with wa_desk(database_url, workers=2) as desk:
        envelope = desk.api.message(WA_ID, {"type": "text", "text": {"body": "/start"}})
        raw = json.dumps(envelope).encode()
        async with aiohttp.ClientSession() as session:
            assert await post(session, desk.workers[0].url, raw) == 200
            await desk.settle()
            assert await post(session, desk.workers[1].url, raw) == 200
            await desk.settle()
        assert handled(desk) == [1, 0]
        assert len(desk.api.to(WA_ID)) == 1


async def test_one_citizen_on_two_workers_in_order(database_url: str) -> None:
    """Two messages of one citizen, one to each worker: both handled, the second after the
    first (the citizen's advisory lock), so the answer follows the question."""
    async with wa_desk(database_url, workers=2) as desk:
        citizen = desk.citizen(WA_ID)
        await citizen.send("/start")
        first = desk.api.message(
            WA_ID, {"type": "text", "text": {"body": "cek status permohonan"}}
        )
        second = desk.api.message(WA_ID, {"type": "text", "text": {"body": "9404-2026-000101"}})
        async with aiohttp.ClientSession() as session:
            assert await post(session, desk.workers[0].url, json.dumps(first).encode()) == 200
            assert await post(session, desk.workers[1].url, json.dumps(second).encode()) == 200
        await desk.settle()
        texts = [s.text for s in citizen.inbox()[1:]]
        assert any("nomor permohonan" in t.lower() for t in texts[:-1]), texts
        assert "9404-2026-000101" in texts[-1] or "9404-2026-000101" in " ".join(texts[-2:])
