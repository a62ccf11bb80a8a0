"""The pacer on a manual clock: within the rate, one message per chat per second, pauses."""

from __future__ import annotations

from bot.botapi import BotApiLimits
from bot.botapi.limits import FloodControl
from bot.broadcast.pacer import Pacer
from tests.broadcast.conftest import Time


async def test_never_faster_than_the_server_allows(time: Time) -> None:
    pacer = Pacer(30, clock=time.clock, sleep=time.sleep)
    server = FloodControl(BotApiLimits(per_chat_burst=1), time.clock)
    admitted: list[float] = []
    for chat in range(600):
        await pacer.acquire(str(chat))
        assert server.check(chat, is_group=False) == 0  # the server would take it
        admitted.append(time.clock())
    elapsed = admitted[-1] - admitted[0]
    assert 599 / 30 - 0.5 <= elapsed <= 599 / 30 + 0.01  # and not slower either
    for i, start in enumerate(admitted):  # any one-second window: at most 30 + the burst
        assert sum(1 for at in admitted[i:] if at < start + 1.0) <= 30 + pacer.capacity


async def test_one_message_per_second_to_one_chat(time: Time) -> None:
    pacer = Pacer(1000, clock=time.clock, sleep=time.sleep)
    start = time.clock()
    for _ in range(3):
        await pacer.acquire("42")
    assert time.clock() - start >= 2.0
    before = time.clock()
    await pacer.acquire("43")  # another chat is not held up
    assert time.clock() == before


async def test_pause_until_holds_every_chat(time: Time) -> None:
    pacer = Pacer(30, clock=time.clock, sleep=time.sleep)
    await pacer.acquire("1")
    pacer.pause_until(time.clock() + 5)
    await pacer.acquire("2")
    assert time.clock() >= 1005.0
    assert pacer.waited >= 5.0


def test_rate_is_bounded() -> None:
    for rate in (0, -1, 1001):
        try:
            Pacer(rate)
        except ValueError:
            continue
        raise AssertionError(rate)
    assert Pacer(1000).rate == 1000


async def test_replies_to_citizens_share_the_budget_without_waiting(time: Time) -> None:
    """Broadcast and conversation replies together stay within the server's global limit;
    only the broadcast waits."""
    pacer = Pacer(30, clock=time.clock, sleep=time.sleep)
    server = FloodControl(BotApiLimits(per_chat_burst=1), time.clock)
    start = time.clock()
    for chat in range(300):
        if chat % 3 == 0:  # a citizen's reply goes out now: counted, never delayed
            before = time.clock()
            pacer.note_external()
            assert time.clock() == before
            assert server.check(10_000 + chat, is_group=False) == 0
        await pacer.acquire(str(chat))
        assert server.check(chat, is_group=False) == 0  # no 429 for anyone
    # 300 broadcast + 100 replies at 30/s overall: the broadcast took the replies' share.
    assert time.clock() - start >= 400 / 30 - 1.0


async def test_with_no_announcement_out_replies_wait_for_their_own_chat_only(time: Time) -> None:
    """Telegram's ~30/s is its bulk-notification limit: 2,000 first contacts on a market day
    are answered as fast as they come, each chat within its own bucket."""
    pacer = Pacer(30, clock=time.clock, sleep=time.sleep)
    start = time.clock()
    for chat in range(2000):
        await pacer.acquire_interactive(str(chat))
    assert time.clock() == start
    for _ in range(3):  # the chat's burst, then one per second
        await pacer.acquire_interactive("7")
    assert time.clock() - start >= 1.0


async def test_while_an_announcement_is_out_replies_share_its_budget(time: Time) -> None:
    """An announcement and the replies together stay within 30/s: neither gets a 429."""
    pacer = Pacer(30, clock=time.clock, sleep=time.sleep)
    server = FloodControl(BotApiLimits(per_chat_burst=1), time.clock)
    start = time.clock()
    for chat in range(300):
        await pacer.acquire(str(chat))
        assert server.check(chat, is_group=False) == 0
        if chat % 3 == 0:
            await pacer.acquire_interactive(str(10_000 + chat))
            assert server.check(10_000 + chat, is_group=False) == 0
    assert time.clock() - start >= 400 / 30 - 1.0
