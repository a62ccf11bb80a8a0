"""Button presses are answered at receipt, not when the citizen's turn comes (issue 12.3).

Telegram shows a spinner on the pressed button until answerCallbackQuery, and refuses an
answer after its deadline ("query is too old"). A press queued behind the citizen's earlier
updates (or behind a backlog of other citizens' updates) must still be answered at once. The
citizen's earlier turn is held at the HTTP layer, so the press cannot be handled: only an
answer given at receipt can arrive; and the server's clock is then moved past the deadline,
so an answer given when the turn finally runs would be refused.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest
from telegram import Bot

from bot.botapi import BotApiLimits, LocalBotApi, ManualClock
from bot.telegram.aiohttp_request import AiohttpRequest
from tests.telegram.support import (
    BOT_USERNAME,
    TIMEOUT,
    TOKEN,
    Citizen,
    Desk,
    GatedRequest,
    HeldReply,
)
from tests.telegram.test_buttons import INVALID_BUTTON

ANSWERED_WITHIN = 2.0  # seconds (real clock) for an answer that does not wait for the turn


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock()


@pytest.fixture
async def api(limits: BotApiLimits, clock: ManualClock) -> AsyncIterator[LocalBotApi]:
    """The server on a manual clock: the test moves it past the callback deadline."""
    server = LocalBotApi(
        limits, clock=clock, token=TOKEN, username=BOT_USERNAME, first_name="Loket Mimika"
    )
    await server.start()
    try:
        yield server
    finally:
        await server.stop()


class ArmedHold(HeldReply):
    """Holds the first sendMessage to the chat after :meth:`arm` (not before)."""

    armed = False

    def arm(self) -> None:
        self.armed = True

    def wants(self, url, request_data):  # type: ignore[no-untyped-def]
        return self.armed and super().wants(url, request_data)


async def _held_desk(desk: Desk, warga: Citizen) -> ArmedHold:
    hold = ArmedHold(warga.chat_id)
    await desk.restart(request=GatedRequest(AiohttpRequest(), hold))
    return hold


@pytest.mark.parametrize("genuine", [True, False], ids=["genuine", "forged"])
async def test_a_press_behind_a_stuck_turn_is_answered_at_once(
    desk: Desk, warga: Citizen, clock: ManualClock, genuine: bool
) -> None:
    hold = await _held_desk(desk, warga)
    (menu,) = (await warga.send("/menu")).messages
    data = menu.callback_data[0] if genuine else "i:disdukcapil.ktp_baru|AAAAAAAAAAA"
    hold.arm()
    earlier = warga.send_nowait("syarat ktp baru")
    try:
        async with asyncio.timeout(TIMEOUT):
            await hold.held.wait()  # the citizen's previous turn is stuck sending its reply
        query_id = warga.api.press_button(warga.user_id, menu.message_id, data, check=genuine)
        answer = await warga.api.wait_for_callback_answer(query_id, timeout=ANSWERED_WITHIN)
        assert answer.text == (None if genuine else INVALID_BUTTON)
        clock.advance(60)  # far past Telegram's deadline before the press's turn comes
    finally:
        hold.release.set()
    await warga.tracker.wait_updates([earlier])
    await warga.tracker.wait_callback(query_id)
    texts = [m.visible_text for m in warga.bot_messages()[1:]]
    assert texts[0].startswith("KTP-el baru")
    if genuine:  # the press is still handled, after the earlier message (which made the
        # menu's buttons stale: the engine says so, as it would without the early answer)
        assert texts[1].startswith("Tombol itu sudah tidak berlaku")
    else:
        assert len(texts) == 1
    # Exactly one answer per press, in time: no second answer refused as "query is too old".
    calls = [r for r in warga.api.requests if r.method == "answerCallbackQuery"]
    assert [r.status for r in calls] == [200]


async def test_a_backlog_of_presses_from_many_citizens_is_answered_before_any_turn(
    desk: Desk, clock: ManualClock
) -> None:
    """300 citizens each press a button while every turn is stuck: all 300 answered, more
    than PTB's 256 concurrent updates, so none waits for a processing slot either."""
    gate = asyncio.Event()

    class Everyone(HeldReply):
        """Holds every sendMessage until ``gate`` is set."""

        def wants(self, url, request_data):  # type: ignore[no-untyped-def]
            return url.endswith("/sendMessage") and not gate.is_set()

    hold = Everyone(0)
    hold.release = gate
    citizens = [desk.citizen(600_000 + n, f"Warga {n}") for n in range(300)]
    await desk.restart(request=GatedRequest(AiohttpRequest(), hold))
    # A message in each chat to press a (forged) button on, sent by a bare Bot.
    async with Bot(TOKEN, base_url=desk.api.bot_api_url) as bare:
        seeds = [await bare.send_message(c.chat_id, "Halo") for c in citizens]
    ids = []
    for c, seed in zip(citizens, seeds, strict=True):
        c.send_nowait("halo")  # a turn that gets stuck
        ids.append(c.api.press_button(c.user_id, seed.message_id, "o:x|AAAA", check=False))
    try:
        for query_id in ids:
            answer = await desk.api.wait_for_callback_answer(query_id, timeout=TIMEOUT)
            assert answer.text == INVALID_BUTTON
        clock.advance(60)
    finally:
        gate.set()
    for query_id in ids:
        await desk.tracker.wait_callback(query_id)  # type: ignore[union-attr]
    calls = [r for r in desk.api.requests if r.method == "answerCallbackQuery"]
    assert len(calls) == 300 and all(r.status == 200 for r in calls)
