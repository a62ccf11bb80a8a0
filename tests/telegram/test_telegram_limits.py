"""Telegram's own flood limits: a reply refused with 429 is sent again after retry_after."""

from __future__ import annotations

import pytest

from bot.botapi import BotApiLimits, LocalBotApi
from tests.telegram.support import Citizen, Desk


@pytest.fixture
def limits() -> BotApiLimits:
    """Strict per-chat limit: one message per second to a chat, no burst."""
    return BotApiLimits(per_chat_burst=1)


async def test_a_429_is_waited_out_and_the_reply_still_arrives(
    api: LocalBotApi, desk: Desk, warga: Citizen
) -> None:
    desk.allowed_error_codes.add(429)  # provoked on purpose
    mark = warga.mark()
    first = warga.send_nowait("syarat ktp baru")
    second = warga.send_nowait("syarat akta kelahiran")
    await warga.tracker.wait_updates([first, second])

    texts = [m.visible_text for m in warga.since(mark).messages]
    assert len(texts) == 2
    assert texts[0].startswith("KTP-el baru")
    assert texts[1].startswith("Akta kelahiran")
    refused = [e for e in api.errors if e.error_code == 429]
    assert refused, "the second reply should have met the per-chat limit"
    assert all(e.method == "sendMessage" and e.parameters == {"retry_after": 1} for e in refused)
    assert desk.tracker is not None and desk.tracker.errors == []
