"""Benchmark: updates/s through the webhook path with one and with two ``loket run`` workers.

Run from the repository root (PostgreSQL needed; any role allowed to CREATE DATABASE)::

    LOKET_TEST_POSTGRES_URL=postgresql+asyncpg://loket:loket@127.0.0.1:5432/loket_test \\
        python -m bench.workers [--updates 1200] [--users 40] [--repeat 2]

What runs: the project's local Bot API server (``bot.botapi.LocalBotApi``, flood limits off:
Telegram's limits are not what is measured) in this process delivers webhooks, one at a
time and in order as Telegram's own delivery does per bot, to a round-robin load balancer
(tests/workers/support.py) in front of 1 or 2 real ``loket run`` worker processes in webhook
mode. U citizens each send N/U catalogue questions (one informational answer each, no agency
call), the next as soon as the previous one is answered (a closed loop), so at most U
updates are in flight.

Contenders:

* ``sqlite-1``: one worker on a SQLite file: today's single-process webhook path (in-memory
  update_id dedupe and per-citizen order). **The floor.**
* ``postgres-1``: one worker on PostgreSQL: every update recorded in the shared inbox, drained
  under the citizen's advisory lock (bot/workers/inbox.py).
* ``postgres-2``: two workers on one PostgreSQL database behind the balancer.
* ``postgres-1-direct`` (diagnostic): one worker on PostgreSQL without the inbox
  (``LOKET_WEBHOOK_INBOX=0``, the one-process path): what the database costs, apart from the
  inbox.

updates/s = N / (time of the last answer - time the first measured update was sent); p50/p99:
per update, from sending it to the server receiving the answer. A warm-up round (2 messages
per citizen) runs before each measured one. Each contender gets a fresh database and fresh
worker processes. This is a benchmark, not a test: it asserts nothing.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import platform
import statistics
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

import aiohttp  # noqa: E402

from bot.botapi import BotApiLimits, LocalBotApi  # noqa: E402
from bot.local import running_sandbox, sandbox_env  # noqa: E402
from bot.telegram.webhook import SECRET_HEADER  # noqa: E402
from tests.support.database import PostgresServer, postgres_server_from_env  # noqa: E402
from tests.workers.support import (  # noqa: E402
    WEBHOOK_SECRET,
    RoundRobin,
    WorkerProcess,
    free_port,
    worker_env,
)

TOKEN = "779000:LOKET-BENCH-WORKERS"
FIRST_USER = 3_000_000
QUESTIONS = (
    "syarat bikin ktp",
    "cara buat akta kelahiran",
    "syarat kartu kuning",
    "syarat pindah domisili",
    "cara daftar bpjs kesehatan",
    "syarat akta kematian",
    "bayar pbb di mana",
)


Post = Callable[[dict[str, Any]], Awaitable[None]] | None


async def _citizen(
    api: LocalBotApi,
    user_id: int,
    count: int,
    latencies: list[float],
    offset: int,
    post: Post = None,
) -> float:
    state = api.bot()
    record = state.record(user_id)
    last = 0.0
    for i in range(count):
        before = len(record.messages)
        sent = time.perf_counter()
        update = api.send_text(user_id, QUESTIONS[(offset + i) % len(QUESTIONS)])
        if post is not None:  # parallel delivery: the bench is Telegram's webhook client
            await post(update)
        if not await state.signal.wait_for(lambda b=before: len(record.messages) > b, 60.0):
            raise TimeoutError(f"no answer for citizen {user_id}")
        last = time.perf_counter()
        latencies.append(last - sent)
    return last


async def run_one(
    name: str,
    database_url: str,
    workers: int,
    updates: int,
    users: int,
    logs: Path,
    *,
    inbox: bool = True,
    locks: int = 20,
    parallel: bool = False,
) -> dict[str, float]:
    api = LocalBotApi(BotApiLimits.unlimited(), token=TOKEN, username="loket_mimika_bot")
    for n in range(users):
        api.add_user(FIRST_USER + n, f"Warga {n}")
    await api.start()
    processes = [WorkerProcess({}, free_port(), logs / f"{name}-{n}.log") for n in range(workers)]
    try:
        async with (
            running_sandbox() as agencies,  # Telegram mode never starts one itself
            RoundRobin([p.url for p in processes]).running() as balancer,
        ):
            env = worker_env(
                database_url, TOKEN, api.bot_api_url, balancer.url, sandbox_env(agencies)
            )
            env["LOG_LEVEL"] = "WARNING"
            env["LOKET_WEBHOOK_INBOX"] = "1" if inbox else "0"
            env["LOKET_INBOX_LOCKS"] = str(locks)
            for process in processes:
                process.env = env
            try:
                await asyncio.gather(*(p.start() for p in processes))
                async with aiohttp.ClientSession() as session:
                    post: Post = None
                    if parallel:
                        # Telegram posts a bot's updates over up to max_connections (40 by
                        # default) at once; the local server posts one at a time. Here the
                        # bench posts them itself, one connection per citizen in flight.
                        async with session.post(f"{api.bot_api_url}{TOKEN}/deleteWebhook"):
                            pass

                        async def post(update: dict[str, Any]) -> None:
                            headers = {SECRET_HEADER: WEBHOOK_SECRET}
                            async with session.post(
                                balancer.url, json=update, headers=headers
                            ) as reply:
                                reply.raise_for_status()

                    warm: list[float] = []
                    await asyncio.gather(
                        *(_citizen(api, FIRST_USER + n, 2, warm, n, post) for n in range(users))
                    )
                    latencies: list[float] = []
                    per_user = updates // users
                    started = time.perf_counter()
                    ends = await asyncio.gather(
                        *(
                            _citizen(api, FIRST_USER + n, per_user, latencies, n, post)
                            for n in range(users)
                        )
                    )
                    elapsed = max(ends) - started
            finally:
                for process in processes:
                    await process.stop()
    finally:
        await api.stop()
    latencies.sort()
    return {
        "updates": float(len(latencies)),
        "per_second": len(latencies) / elapsed,
        "p50_ms": statistics.median(latencies) * 1000,
        "p99_ms": latencies[int(len(latencies) * 0.99) - 1] * 1000,
    }


async def main(args: argparse.Namespace) -> None:
    server: PostgresServer | None = postgres_server_from_env()
    if server is None:
        raise SystemExit("set LOKET_TEST_POSTGRES_URL (see the docstring)")
    contenders = [("sqlite-1", "sqlite", 1), ("postgres-1", "postgresql", 1)]
    contenders.append(("postgres-2", "postgresql", 2))
    contenders.append(("postgres-1-direct", "postgresql", 1))
    modes = ("sequential", "parallel") if args.delivery == "both" else (args.delivery,)
    results: dict[tuple[str, str], list[dict[str, float]]] = {
        (mode, name): [] for mode in modes for name, _, _ in contenders
    }
    with tempfile.TemporaryDirectory() as tmp:
        logs = Path(tmp)
        for round_ in range(args.repeat):
            for mode in modes:
                for name, backend, workers in contenders:
                    if backend == "sqlite":
                        url = f"sqlite+aiosqlite:///{logs / f'{name}-{mode}-{round_}.sqlite3'}"
                    else:
                        url = await server.create()
                    try:
                        result = await run_one(
                            name,
                            url,
                            workers,
                            args.updates,
                            args.users,
                            logs,
                            inbox=not name.endswith("-direct"),
                            locks=args.locks,
                            parallel=mode == "parallel",
                        )
                    finally:
                        if backend != "sqlite":
                            await server.drop(url)
                    results[(mode, name)].append(result)
                    print(
                        f"  round {round_ + 1} {mode:<10} {name:<18} "
                        f"{result['per_second']:7.1f} updates/s",
                        flush=True,
                    )
        await server.drop_all()
    print()
    print(
        f"bench.workers: N={args.updates} updates, U={args.users} citizens (closed loop), "
        f"{args.repeat} round(s); {os.cpu_count()} CPU(s), Python {platform.python_version()}"
    )
    print(
        "Webhook -> round-robin balancer -> loket run worker(s); median round shown; "
        f"LOKET_INBOX_LOCKS={args.locks}. sequential: the local server posts one update at a "
        "time; parallel: one connection per citizen in flight, as Telegram's max_connections."
    )
    print(
        f"{'delivery':<11}{'contender':<19}{'updates/s':>10}{'range':>18}{'p50 ms':>9}"
        f"{'p99 ms':>9}{'vs floor':>9}"
    )
    for mode in modes:
        floor = statistics.median(r["per_second"] for r in results[(mode, "sqlite-1")])
        for name, _, _ in contenders:
            runs = sorted(results[(mode, name)], key=lambda r: r["per_second"])
            mid = runs[len(runs) // 2]
            low, high = runs[0]["per_second"], runs[-1]["per_second"]
            print(
                f"{mode:<11}{name:<19}{mid['per_second']:>10.1f}{f'{low:.1f}-{high:.1f}':>18}"
                f"{mid['p50_ms']:>9.1f}{mid['p99_ms']:>9.1f}{mid['per_second'] / floor:>8.2f}x"
            )
        print(f"{mode} floor (sqlite-1, one process, in-memory ordering): {floor:.1f} updates/s")


def parse(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--updates", type=int, default=1200)
    parser.add_argument("--users", type=int, default=40)
    parser.add_argument("--repeat", type=int, default=2)
    parser.add_argument("--locks", type=int, default=20, help="LOKET_INBOX_LOCKS per worker")
    parser.add_argument("--delivery", choices=("sequential", "parallel", "both"), default="both")
    return parser.parse_args(argv)


if __name__ == "__main__":
    asyncio.run(main(parse()))
