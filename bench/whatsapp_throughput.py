"""Benchmark: WhatsApp webhooks through Loket, next to the Telegram figure and a bare aiohttp
webhook floor, all measured in the same run (issue 16).

Run from the repository root::

    python -m bench.whatsapp_throughput [--updates 1000] [--users 50] [--no-telegram]

The workload is the Telegram benchmark's (bench/telegram_throughput.py): U citizens, each
sending N/U catalogue questions one after the other, the next as soon as the answer arrived
(a closed loop, at most U in flight). Here the citizens are played by the Cloud API stand-in
(``bot.whatsapp.standin``, rate limits off): each question is a webhook signed with the app
secret and posted to the contender over loopback HTTP; the answer is the contender's
interactive message accepted by the stand-in's Graph API (which checks it against WhatsApp's
limits). The stand-in also posts ``sent``/``delivered`` status webhooks for every message, as
Meta does, so each contender receives three webhooks per question.

Contenders, each in its own spawned process (the stand-in and the citizens stay in this one):

* ``floor``: a bare aiohttp webhook. It checks the signature (HMAC-SHA256, constant time),
  parses the JSON, answers 200, and sends one reply-button message back: the least a
  WhatsApp bot can do;
* ``loket``: Loket's WhatsApp adapter: signature, the deduplicating inbox in a SQLite file
  (recorded before the 200), the per-citizen drain, the front desk (flows, NLU, SQLite writes
  per event), rendering to WhatsApp's limits, the Graph API client;
* ``telegram``: Loket on Telegram with the same workload (``bench.telegram_throughput``'s
  ``loket`` contender, against the local Bot API), for comparison.

Measured: updates/s = N / (last answer - first measured question); p50/p99 from posting a
question to its answer reaching the stand-in. A warm-up citizen asks a few questions first.
This is a benchmark, not a test: it asserts nothing.
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import hmac
import json
import multiprocessing as mp
import os
import platform
import sys
import tempfile
import time
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from bench.telegram_throughput import QUESTIONS  # noqa: E402

FIRST_CITIZEN = 6281300000000
WARMUP_CITIZEN = 6281299999999


# -- the contenders (child processes) ---------------------------------------------------------


async def _floor(api_base: str, conn: Connection) -> None:
    from aiohttp import ClientSession, web

    from bot.whatsapp.standin import ACCESS_TOKEN, APP_SECRET, PHONE_NUMBER_ID

    secret = APP_SECRET.encode()
    url = f"{api_base}/{PHONE_NUMBER_ID}/messages"
    session = ClientSession(headers={"Authorization": f"Bearer {ACCESS_TOKEN}"})
    tasks: set[asyncio.Task[None]] = set()

    async def reply(to: str, text: str) -> None:
        body = {
            "messaging_product": "whatsapp",
            "to": to,
            "type": "interactive",
            "interactive": {
                "type": "button",
                "body": {"text": f"Pertanyaan Anda: {text[:900]}"},
                "action": {
                    "buttons": [{"type": "reply", "reply": {"id": "n:menu", "title": "Menu"}}]
                },
            },
        }
        async with session.post(url, json=body) as response:
            await response.read()

    async def receive(request: web.Request) -> web.Response:
        raw = await request.read()
        offered = request.headers.get("X-Hub-Signature-256", "").encode()
        wanted = ("sha256=" + hmac.new(secret, raw, hashlib.sha256).hexdigest()).encode()
        if not hmac.compare_digest(offered, wanted):
            return web.Response(status=403)
        data = json.loads(raw)
        for entry in data.get("entry", []):
            for change in entry.get("changes", []):
                for message in change.get("value", {}).get("messages", []):
                    text = message.get("text", {}).get("body", "")
                    task = asyncio.create_task(reply(message["from"], text))
                    tasks.add(task)
                    task.add_done_callback(tasks.discard)
        return web.Response(text="ok")

    app = web.Application()
    app.router.add_post("/whatsapp/webhook", receive)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    conn.send(runner.addresses[0][1])
    await asyncio.get_running_loop().run_in_executor(None, conn.recv)
    await runner.cleanup()
    await session.close()


async def _loket(api_base: str, conn: Connection) -> None:
    from aiohttp import web

    from bot.app import open_loket
    from bot.local import integration_env
    from bot.settings import Settings
    from bot.whatsapp.channel import WhatsAppSettings
    from bot.whatsapp.service import WhatsAppService
    from bot.whatsapp.standin import ACCESS_TOKEN, APP_SECRET, PHONE_NUMBER_ID, VERIFY_TOKEN

    with tempfile.TemporaryDirectory(prefix="loket-wa-bench-") as tmp:
        settings = Settings.from_env({"DATABASE_URL": f"sqlite+aiosqlite:///{tmp}/b.sqlite3"})
        async with (
            integration_env({}) as env,
            open_loket(settings, integration_env=dict(env)) as loket,
        ):
            service = WhatsAppService.for_loket(
                loket,
                WhatsAppSettings(
                    phone_number_id=PHONE_NUMBER_ID,
                    access_token=ACCESS_TOKEN,
                    app_secret=APP_SECRET,
                    verify_token=VERIFY_TOKEN,
                    api_base_url=api_base,
                ),
            )
            app = web.Application()
            service.add_routes(app)
            runner = web.AppRunner(app, access_log=None)
            await runner.setup()
            await web.TCPSite(runner, "127.0.0.1", 0).start()
            async with service.running():
                conn.send(runner.addresses[0][1])
                await asyncio.get_running_loop().run_in_executor(None, conn.recv)
            await runner.cleanup()


def _child(name: str, api_base: str, conn: Connection) -> None:
    import logging

    logging.basicConfig(level=logging.WARNING)
    logging.getLogger().setLevel(logging.WARNING)
    asyncio.run({"floor": _floor, "loket": _loket}[name](api_base, conn))


# -- the citizens (this process) --------------------------------------------------------------


async def _round(name: str, updates: int, users: int, warmup: int) -> dict[str, Any]:
    from bot.whatsapp.standin import CloudApiStandIn, Sent, StandInLimits

    api = CloudApiStandIn(rate=StandInLimits.unlimited())
    base = await api.start()
    answered: dict[str, asyncio.Event] = {}

    def on_sent(sent: Sent) -> None:
        if sent.kind in ("button", "list") and sent.to in answered:
            answered[sent.to].set()

    api.on_sent = on_sent
    context = mp.get_context("spawn")
    ours, theirs = context.Pipe()
    process = context.Process(target=_child, args=(name, base, theirs), daemon=True)
    process.start()
    try:
        port = await asyncio.get_running_loop().run_in_executor(None, ours.recv)
        api.webhook_url = f"http://127.0.0.1:{port}/whatsapp/webhook"

        async def ask(citizen: str, text: str) -> float:
            event = answered.setdefault(citizen, asyncio.Event())
            event.clear()
            started = time.perf_counter()
            status = await api.send_text(citizen, text)
            if status != 200:
                raise RuntimeError(f"{name}: webhook answered {status}")
            await asyncio.wait_for(event.wait(), 60)
            return time.perf_counter() - started

        for i in range(warmup):
            await ask(str(WARMUP_CITIZEN), QUESTIONS[i % len(QUESTIONS)])
        per_user = updates // users
        latencies: list[float] = []

        async def citizen(index: int) -> None:
            for i in range(per_user):
                question = QUESTIONS[(index + i) % len(QUESTIONS)]
                latencies.append(await ask(str(FIRST_CITIZEN + index), question))

        started = time.perf_counter()
        await asyncio.gather(*(citizen(i) for i in range(users)))
        elapsed = time.perf_counter() - started
        await api.idle()
        refused = len(api.refusals)
    finally:
        ours.send("stop")
        await asyncio.get_running_loop().run_in_executor(None, process.join, 30)
        await api.stop()
    return {
        "updates": per_user * users,
        "elapsed": elapsed,
        "latencies": latencies,
        "refused": refused,
    }


def _pct(values: list[float], q: int) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q / 100 * len(ordered)) - 1))]


def _telegram(updates: int, users: int, warmup: int) -> dict[str, Any]:
    from bench.telegram_throughput import _row, run_contender

    result = run_contender("loket", updates, users, warmup, 300.0)
    row = _row("loket", result, updates)
    return {"rate": row.rate, "p50": row.p50_ms, "p99": row.p99_ms}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="WhatsApp webhook throughput benchmark")
    parser.add_argument("--updates", type=int, default=1000, help="measured questions (N)")
    parser.add_argument("--users", type=int, default=50, help="simulated citizens (U)")
    parser.add_argument("--warmup", type=int, default=20, help="warm-up questions")
    parser.add_argument("--no-telegram", action="store_true", help="skip the Telegram figure")
    args = parser.parse_args(argv)
    os.environ.setdefault("PTB_TIMEDELTA", "1")
    rows: list[tuple[str, float, float, float, str]] = []
    floor_rate = 0.0
    for name, label in (
        ("floor", "bare aiohttp webhook (signature, JSON, one reply): the floor"),
        ("loket", "**Loket on WhatsApp** (inbox, flows, NLU, SQLite, rendering)"),
    ):
        result = asyncio.run(_round(name, args.updates, args.users, args.warmup))
        rate = result["updates"] / result["elapsed"]
        floor_rate = floor_rate or rate
        lat = result["latencies"]
        note = f"{result['refused']} refused" if result["refused"] else ""
        rows.append((label, rate, _pct(lat, 50) * 1000, _pct(lat, 99) * 1000, note))
        print(f"{name}: {rate:,.0f} updates/s", file=sys.stderr, flush=True)
    if not args.no_telegram:
        telegram = _telegram(args.updates, args.users, args.warmup)
        rows.append(
            (
                "Loket on Telegram (same workload, local Bot API)",
                telegram["rate"],
                telegram["p50"],
                telegram["p99"],
                "",
            )
        )
    print(
        f"N={args.updates} questions from {args.users} citizens (closed loop), one run, "
        f"Python {platform.python_version()}, {os.cpu_count()} CPUs, "
        f"load {os.getloadavg()[0]:.2f}\n"
    )
    print("| contender | updates/s | p50 ms | p99 ms | vs floor |")
    print("|---|---:|---:|---:|---:|")
    for label, rate, p50, p99, note in rows:
        extra = f" ({note})" if note else ""
        print(
            f"| {label}{extra} | {rate:,.0f} | {p50:.1f} | {p99:.1f} | {rate / floor_rate:.2f}× |"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
