"""Benchmark: a broadcast against the local Bot API enforcing Telegram's limits.

    python -m bench.broadcast [--recipients 10000] [--quick] [--skip-default]
                              [--enqueue 100000] [--paid 5000]

1. Paced run: N recipients (default 10,000, about 5.5 min; ``--quick`` 1,500) at the default
   30 messages/s, against ``LocalBotApi`` with its default limits (real clock, loopback HTTP,
   SQLite file). Reports achieved rate / limit, 429 answers, duplicates (chats that got more
   than one message) and missing recipients.
2. Enqueue: time to queue 100,000 recipients (Core executemany, one transaction) on SQLite.
3. Paid broadcast: the limit raised to 1,000/s (server and pacer), ``--paid`` recipients:
   the highest rate the sender sustains, and whether it is the limit or the sender.

Results and method: bench/README.md. Measures, asserts nothing.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

os.environ.setdefault("PTB_TIMEDELTA", "1")

from sqlalchemy import insert, select  # noqa: E402

from bot.botapi import BotApiLimits, LocalBotApi  # noqa: E402
from bot.broadcast.pacer import Pacer  # noqa: E402
from bot.broadcast.sender import BroadcastSender  # noqa: E402
from bot.broadcast.store import Recipient, create_announcement, enqueue  # noqa: E402
from bot.broadcast.telegram import TelegramSend  # noqa: E402
from bot.storage.db import create_schema, make_engine, sessions  # noqa: E402
from bot.storage.models import User  # noqa: E402

TOKEN = "123456:LOCAL"
FIRST_CHAT = 3_000_000


async def _database(directory: str, users: int):  # type: ignore[no-untyped-def]
    engine = make_engine(f"sqlite+aiosqlite:///{directory}/bench.sqlite3")
    await create_schema(engine)
    rows = [{"channel": "telegram", "external_id": str(FIRST_CHAT + i)} for i in range(users)]
    async with engine.begin() as connection:
        for start in range(0, len(rows), 10_000):
            await connection.execute(insert(User), rows[start : start + 10_000])
        result = await connection.execute(select(User.id, User.external_id))
        recipients = [Recipient(uid, ext) for uid, ext in result.all()]
    return engine, recipients


async def _announce(engine, recipients) -> tuple[int, float]:  # type: ignore[no-untyped-def]
    async with sessions(engine)() as session, session.begin():
        announcement = await create_announcement(session, opd="dinkes", text="Uji siaran.")
        announcement_id = announcement.id
    started = time.perf_counter()
    await enqueue(engine, announcement_id, recipients)
    return announcement_id, time.perf_counter() - started


async def paced_run(count: int, rate: float, *, paid: bool) -> dict[str, float]:
    limits = BotApiLimits(global_per_second=rate) if not paid else BotApiLimits()
    api = LocalBotApi(limits, token=TOKEN)
    for i in range(count):
        api.add_user(FIRST_CHAT + i, f"Warga {i}")
    await api.start()
    with tempfile.TemporaryDirectory() as directory:
        engine, recipients = await _database(directory, count)
        try:
            announcement_id, _ = await _announce(engine, recipients)
            async with TelegramSend.create(
                TOKEN, base_url=api.bot_api_url, pool_size=64, paid_broadcast=paid
            ) as send:
                sender = BroadcastSender(
                    engine, send, pacer=Pacer(rate), concurrency=64 if paid else 16
                )
                report = await sender.run(announcement_id)
        finally:
            await engine.dispose()
            await api.stop()
    delivered = api.stats.delivered
    return {
        "recipients": count,
        "limit": rate,
        "sent": report.sent,
        "elapsed": report.elapsed,
        "rate": report.sent / report.elapsed,
        "ratio": report.sent / report.elapsed / rate,
        "429": api.stats.rate_limited,
        "duplicates": sum(1 for n in delivered.values() if n > 1),
        "missing": count - len(delivered),
    }


async def floor_run(count: int) -> dict[str, float]:
    """The floor: the same ``TelegramSend`` and pool, 64 calls in flight, no queue, no pacer,
    server limits off. What HTTP and the local server alone sustain on this machine, so the
    paid run shows whether the sender or the limit is what holds it."""
    api = LocalBotApi(BotApiLimits.unlimited(), token=TOKEN)
    for i in range(count):
        api.add_user(FIRST_CHAT + i, f"Warga {i}")
    await api.start()
    try:
        async with TelegramSend.create(TOKEN, base_url=api.bot_api_url, pool_size=64) as send:
            chats = iter(range(FIRST_CHAT, FIRST_CHAT + count))
            started = time.perf_counter()

            async def worker() -> None:
                for chat in chats:
                    await send(str(chat), "Uji siaran.")

            await asyncio.gather(*(worker() for _ in range(64)))
            elapsed = time.perf_counter() - started
    finally:
        await api.stop()
    delivered = api.stats.delivered
    return {
        "recipients": count,
        "limit": float("inf"),
        "sent": api.stats.total_delivered,
        "elapsed": elapsed,
        "rate": api.stats.total_delivered / elapsed,
        "ratio": float("nan"),
        "429": api.stats.rate_limited,
        "duplicates": sum(1 for n in delivered.values() if n > 1),
        "missing": count - len(delivered),
    }


async def enqueue_time(count: int) -> float:
    with tempfile.TemporaryDirectory() as directory:
        engine, recipients = await _database(directory, count)
        try:
            _, seconds = await _announce(engine, recipients)
        finally:
            await engine.dispose()
    return seconds


def _row(name: str, r: dict[str, float]) -> str:
    limit = "none" if r["limit"] == float("inf") else f"{r['limit']:g}/s"
    ratio = "-" if r["ratio"] != r["ratio"] else f"{r['ratio']:.3f}"  # NaN: no limit
    return (
        f"| {name} | {int(r['recipients']):,} | {limit} | {r['elapsed']:.1f} s | "
        f"{r['rate']:.1f}/s | {ratio} | {int(r['429'])} | {int(r['duplicates'])} | "
        f"{int(r['missing'])} |"
    )


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--recipients", type=int, default=10_000)
    parser.add_argument("--quick", action="store_true", help="1,500 recipients at 30/s")
    parser.add_argument("--skip-default", action="store_true", help="no 30/s run")
    parser.add_argument("--enqueue", type=int, default=100_000)
    parser.add_argument("--paid", type=int, default=5_000, help="recipients at 1,000/s (0: skip)")
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    rows = []
    if not args.skip_default:
        count = 1_500 if args.quick else args.recipients
        rows.append(_row("default limit", await paced_run(count, 30.0, paid=False)))
    if args.paid:
        rows.append(_row("paid broadcast", await paced_run(args.paid, 1000.0, paid=True)))
        rows.append(_row("floor: bare sendMessage loop", await floor_run(args.paid)))
    seconds = await enqueue_time(args.enqueue) if args.enqueue else None
    print("| run | recipients | limit | time | achieved | achieved/limit | 429s | dup | missing |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|")
    print("\n".join(rows))
    if seconds is not None:
        print(f"\nEnqueue {args.enqueue:,} recipients on SQLite: {seconds:.2f} s (target < 5 s)")


if __name__ == "__main__":
    asyncio.run(main())
