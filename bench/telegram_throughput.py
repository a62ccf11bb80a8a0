"""Benchmark: updates through a whole Telegram bot, over loopback HTTP, against echo floors.

Run from the repository root::

    python -m bench.telegram_throughput [--updates 2000] [--users 50] [--repeat 3]
                                        [--workload first-contact|mixed|warm]
                                        [--contenders ptb,aiogram,loket,...] [--json PATH]
    python -m bench.telegram_throughput --reply-latency [--citizens 40,200]
                                        [--subscribers 3000]

The second form measures how long a citizen waits for the reply to a button press while an
announcement is going out, with the local Bot API's rate limits on (issue 12):
:func:`reply_latency`.

Contenders, results and what they mean: bench/README.md.

Every contender is a real bot talking to the project's local Bot API server
(``bot.botapi.LocalBotApi``, rate limits off) by long polling, exactly as against
api.telegram.org. The workload is the same for each: U citizens, each sending N/U catalogue
questions ("syarat bikin ktp", ...) one after the other, the next as soon as the bot has
answered the previous one (a closed loop, as a person in a chat waits for the answer), so at
most U updates are in flight. Measured in the server process:

* updates/s: N / (time of the last reply - time the first measured update was queued);
* p50 / p99: per update, time from queuing it on the server to the server receiving the
  bot's ``sendMessage`` for that chat;

and in the bot's process: peak RSS (``ru_maxrss``) and CPU time spent during the run.

Each contender runs in its own fresh process (spawned, so peak RSS is its own) and talks to
its own fresh server process, so the server does not share the bot's core (the agencies'
sandbox, which the catalogue questions never call, runs in the server process too). A warm-up
citizen sends a few messages before the measured run starts. This is a benchmark, not a
test: it asserts nothing.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import logging
import multiprocessing as mp
import os
import platform
import resource
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, replace
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

TOKEN = "123456:LOCAL"
FIRST_USER = 2_000_000
WARMUP_USER = 1_999_999
POLL_TIMEOUT = 25  # long-poll seconds, as `loket run` uses
# Catalogue questions: each gets one informational answer from Loket, and no agency call.
QUESTIONS = (
    "syarat bikin ktp",
    "cara buat akta kelahiran",
    "syarat kartu kuning",
    "pecah kk dari mertua syaratnya apa",
    "kartu keluarga saya hilang, urusnya bagaimana",
    "kehilangan ktp perlu surat dari polisi kah",
    "syarat pindah domisili",
    "cara daftar bpjs kesehatan",
    "syarat akta kematian",
    "bayar pbb di mana",
)

# Citizens (U) for N measured updates. The warm-up citizen is not one of them, so under
# "first-contact" every measured update comes from a citizen the bot has never seen (the
# crowd after an announcement, or on a market day).
WORKLOADS: dict[str, Callable[[int], int]] = {
    "first-contact": lambda updates: updates,
    "mixed": lambda updates: max(1, updates // 4),
    "warm": lambda updates: min(50, updates),
}

Ready = Callable[[], None]
Runner = Callable[[str, str, Ready, asyncio.Event], Awaitable[None]]


# -- contenders (each runs inside its own bot process) ----------------------------------------


async def _ptb_echo(
    base_url: str, ready: Ready, stop: asyncio.Event, *, aiohttp: bool, concurrent: bool
) -> None:
    from telegram import Update
    from telegram.ext import ApplicationBuilder, ContextTypes, MessageHandler, filters

    builder = ApplicationBuilder().token(TOKEN).base_url(f"{base_url}/bot")
    if aiohttp:
        from bot.telegram.aiohttp_request import AiohttpRequest

        builder = builder.request(AiohttpRequest()).get_updates_request(
            AiohttpRequest(connection_pool_size=1)
        )
    if concurrent:
        from bot.telegram.ordering import PerUserUpdateProcessor

        builder = builder.concurrent_updates(PerUserUpdateProcessor())

    async def echo(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        message = update.effective_message
        if message is not None and message.text is not None:
            await message.reply_text(message.text)

    application = builder.build()
    application.add_handler(MessageHandler(filters.TEXT, echo))
    async with application:
        assert application.updater is not None
        await application.updater.start_polling(timeout=POLL_TIMEOUT)
        await application.start()
        ready()
        await stop.wait()
        await application.updater.stop()
        await application.stop()


async def _aiogram_echo(base_url: str, ready: Ready, stop: asyncio.Event) -> None:
    from aiogram import Bot, Dispatcher
    from aiogram.client.session.aiohttp import AiohttpSession
    from aiogram.client.telegram import TelegramAPIServer
    from aiogram.types import Message

    bot = Bot(TOKEN, session=AiohttpSession(api=TelegramAPIServer.from_base(base_url)))
    dispatcher = Dispatcher()

    @dispatcher.message()
    async def echo(message: Message) -> None:
        if message.text is not None:
            await message.answer(message.text)

    async def on_startup() -> None:  # aiogram would run a plain function in a thread
        ready()

    dispatcher.startup.register(on_startup)
    polling = asyncio.create_task(
        dispatcher.start_polling(bot, polling_timeout=POLL_TIMEOUT, handle_signals=False)
    )
    await stop.wait()
    await dispatcher.stop_polling()
    await polling


async def _loket(base_url: str, sandbox_url: str, ready: Ready, stop: asyncio.Event) -> None:
    from bot.app import open_loket
    from bot.local import sandbox_env
    from bot.runner import running_application
    from bot.settings import Settings
    from bot.telegram.channel import ChannelSettings, build_application

    with tempfile.TemporaryDirectory(prefix="loket-bench-") as tmp:
        settings = Settings.from_env({"DATABASE_URL": f"sqlite+aiosqlite:///{tmp}/bench.sqlite3"})
        async with open_loket(settings, integration_env=sandbox_env(sandbox_url)) as loket:
            channel = ChannelSettings(
                token=TOKEN,
                base_url=f"{base_url}/bot",
                # Loket's per-citizen flood control would (rightly) stop a citizen sending
                # 40 questions in seconds; the benchmark measures throughput, not that.
                flood_messages=10**9,
                flood_window_seconds=1.0,
            )
            # build_application's defaults: AiohttpRequest + per-citizen concurrent updates.
            application = build_application(loket.frontdesk, loket.translator, channel)
            async with running_application(application, polling=True):
                ready()
                await stop.wait()


class _MemoryFrontDesk:
    """Diagnostic: FrontDesk's job (state in, engine, state out) with the states in a dict
    instead of SQLite, to show what the database costs per update."""

    def __init__(self, engine: Any) -> None:
        from bot.engine.state import ConversationState

        self._engine = engine
        self._new = ConversationState
        self._states: dict[str, Any] = {}

    async def handle(self, channel: str, external_id: str, event: Any) -> list[Any]:
        import datetime as dt

        state = self._states.get(external_id) or self._new(locale="id")
        turn = await self._engine().handle(
            state, event, now=dt.datetime.now(dt.UTC), user_id=external_id
        )
        self._states[external_id] = turn.state
        return turn.messages


async def _loket_no_db(base_url: str, sandbox_url: str, ready: Ready, stop: asyncio.Event) -> None:
    from bot.app import open_loket
    from bot.local import sandbox_env
    from bot.runner import running_application
    from bot.settings import Settings
    from bot.telegram.channel import ChannelSettings, build_application

    with tempfile.TemporaryDirectory(prefix="loket-bench-") as tmp:
        settings = Settings.from_env({"DATABASE_URL": f"sqlite+aiosqlite:///{tmp}/bench.sqlite3"})
        async with open_loket(settings, integration_env=sandbox_env(sandbox_url)) as loket:
            channel = ChannelSettings(
                token=TOKEN, base_url=f"{base_url}/bot", flood_messages=10**9
            )
            frontdesk: Any = _MemoryFrontDesk(loket.runtime.current)
            application = build_application(frontdesk, loket.translator, channel)
            async with running_application(application, polling=True):
                ready()
                await stop.wait()


@dataclass(frozen=True)
class Contender:
    name: str
    label: str
    run: Runner


def _echo(aiohttp: bool, concurrent: bool) -> Runner:
    async def run(base_url: str, _sandbox: str, ready: Ready, stop: asyncio.Event) -> None:
        await _ptb_echo(base_url, ready, stop, aiohttp=aiohttp, concurrent=concurrent)

    return run


async def _aiogram_run(base_url: str, _sandbox: str, ready: Ready, stop: asyncio.Event) -> None:
    await _aiogram_echo(base_url, ready, stop)


CONTENDERS = {
    c.name: c
    for c in (
        Contender("ptb", "PTB echo (httpx, sequential): floor", _echo(False, False)),
        Contender("aiogram", "aiogram echo (aiohttp, tasks)", _aiogram_run),
        Contender("loket", "Loket whole stack (AiohttpRequest, per-user)", _loket),
        Contender(
            "ptb-aiohttp-concurrent", "PTB echo (AiohttpRequest, per-user)", _echo(True, True)
        ),
        Contender("ptb-aiohttp", "PTB echo (AiohttpRequest, sequential)", _echo(True, False)),
        Contender("ptb-concurrent", "PTB echo (httpx, per-user)", _echo(False, True)),
        Contender("loket-no-db", "Loket minus database (states in a dict)", _loket_no_db),
    )
}
DEFAULT_CONTENDERS = (
    "ptb",
    "aiogram",
    "loket",
    "ptb-aiohttp-concurrent",
    "ptb-aiohttp",
    "loket-no-db",
)


def _cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def _rss_kib() -> int:
    with contextlib.suppress(OSError, ValueError, IndexError):
        pages = int(Path("/proc/self/statm").read_text().split()[1])
        return pages * os.sysconf("SC_PAGE_SIZE") // 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


def _quiet_logging() -> None:
    logging.basicConfig(level=logging.WARNING, format="%(processName)s %(name)s: %(message)s")


class _ErrorCounter(logging.Handler):
    """Counts what the bot logs at ERROR (a failed update still gets an apology reply, which
    the server would count as an answer) and keeps the first few messages, one line each."""

    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.count = 0
        self.first: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.count += 1
        if len(self.first) < 3:
            self.first.append(f"{record.name}: {record.getMessage()}"[:200])


def _bot_process(conn: Connection, name: str, base_url: str, sandbox_url: str) -> None:
    """Runs one contender until told to stop; reports its memory, CPU and logged errors."""
    errors = _ErrorCounter()
    logging.basicConfig(level=logging.WARNING, handlers=[errors])
    sys.stdout = Path(os.devnull).open("w")  # noqa: SIM115 - the table owns the terminal
    contender = CONTENDERS[name]

    async def main() -> dict[str, Any]:
        loop = asyncio.get_running_loop()
        stop = asyncio.Event()
        marks: dict[str, float] = {}

        def ready() -> None:
            marks["cpu_ready"] = _cpu_seconds()
            marks["rss_ready_kib"] = _rss_kib()
            conn.send(("ready", None))

            async def wait_for_stop() -> None:
                await loop.run_in_executor(None, conn.recv)
                marks["cpu_stop"] = _cpu_seconds()
                stop.set()

            marks_task.append(loop.create_task(wait_for_stop()))

        marks_task: list[asyncio.Task[None]] = []
        await contender.run(base_url, sandbox_url, ready, stop)
        return {
            "cpu_s": marks["cpu_stop"] - marks["cpu_ready"],
            "rss_ready_kib": marks["rss_ready_kib"],
            "maxrss_kib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss,
            "bot_errors": errors.count,
            "bot_error_samples": errors.first,
        }

    try:
        conn.send(("done", asyncio.run(main())))
    except BaseException as exc:
        conn.send(("error", repr(exc)))
        raise


# -- the server process: local Bot API, simulated citizens, measurements ----------------------


def _server_process(conn: Connection) -> None:
    _quiet_logging()
    asyncio.run(_serve(conn))


async def _serve(conn: Connection) -> None:
    from bot.botapi import BotApiLimits, LocalBotApi
    from bot.local import running_sandbox

    class BenchApi(LocalBotApi):
        """Tells the workload as soon as a ``sendMessage`` to a chat succeeded."""

        on_reply: Callable[[int], None] | None = None

        async def _dispatch(
            self, state: Any, method_name: str, params: Any, client_gone: Any
        ) -> Any:
            response = await super()._dispatch(state, method_name, params, client_gone)
            ok = response.status == 200 and method_name.lower() == "sendmessage"
            if ok and self.on_reply is not None:
                self.on_reply(int(params.get_str("chat_id")))
            return response

    loop = asyncio.get_running_loop()
    api = BenchApi(BotApiLimits.unlimited())
    base_url = await api.start()
    async with running_sandbox() as sandbox_url:
        conn.send((base_url, sandbox_url))
        while True:
            command = await loop.run_in_executor(None, conn.recv)
            if command[0] == "stop":
                break
            _, updates, users, warmup, limit = command
            await _closed_loop(api, [WARMUP_USER], warmup, limit)
            cpu0 = _cpu_seconds()
            result = await _closed_loop(
                api, [FIRST_USER + i for i in range(users)], updates, limit
            )
            result["server_cpu_s"] = _cpu_seconds() - cpu0
            result["server_errors"] = [
                f"{e.method} {e.error_code} {e.description}" for e in api.errors[:5]
            ]
            conn.send(result)
    await api.stop()


async def _closed_loop(api: Any, users: list[int], updates: int, limit: float) -> dict[str, Any]:
    """Each citizen sends its next question as soon as its previous one was answered."""
    if updates <= 0:
        return {
            "answered": 0,
            "elapsed_s": 0.0,
            "latencies_s": [],
            "extra_replies": 0,
            "timed_out": False,
        }
    clock = time.perf_counter
    quota = {
        user: updates // len(users) + (i < updates % len(users)) for i, user in enumerate(users)
    }
    sent_at: dict[int, float] = {}
    latencies: list[float] = []
    counters = {"extra": 0, "next": 0}
    finished = asyncio.Event()
    last_reply = [0.0]

    def send(user: int) -> None:
        text = QUESTIONS[counters["next"] % len(QUESTIONS)]
        counters["next"] += 1
        sent_at[user] = clock()
        api.send_text(user, text)

    def on_reply(chat_id: int) -> None:
        now = clock()
        started = sent_at.pop(chat_id, None)
        if started is None:  # a reply nobody was waiting for (e.g. a second message)
            counters["extra"] += 1
            return
        latencies.append(now - started)
        last_reply[0] = now
        quota[chat_id] -= 1
        if quota[chat_id] > 0:
            send(chat_id)
        elif len(latencies) == updates:
            finished.set()

    for user in users:
        api.add_user(user, f"Warga {user}", language_code="id")
    api.on_reply = on_reply
    start = clock()
    for user in users:
        if quota[user] > 0:
            send(user)
    timed_out = False
    try:
        await asyncio.wait_for(finished.wait(), limit)
    except TimeoutError:
        timed_out = True
    api.on_reply = None
    await asyncio.sleep(0.05)  # a straggling second reply would show up as "extra"
    return {
        "answered": len(latencies),
        "elapsed_s": (last_reply[0] or clock()) - start,
        "latencies_s": latencies,
        "extra_replies": counters["extra"],
        "timed_out": timed_out,
    }


# -- the orchestrator --------------------------------------------------------------------------


def _expect(conn: Connection, timeout: float, what: str) -> Any:
    if not conn.poll(timeout):
        raise RuntimeError(f"no {what} within {timeout:.0f} s")
    return conn.recv()


def run_contender(
    name: str, updates: int, users: int, warmup: int, limit: float
) -> dict[str, Any]:
    ctx = mp.get_context("spawn")
    server_conn, server_child = ctx.Pipe()
    server = ctx.Process(target=_server_process, args=(server_child,), name="botapi", daemon=True)
    server.start()
    bot: Any = None
    try:
        base_url, sandbox_url = _expect(server_conn, 60, "server URL")
        bot_conn, bot_child = ctx.Pipe()
        bot = ctx.Process(
            target=_bot_process,
            args=(bot_child, name, base_url, sandbox_url),
            name=name,
            daemon=True,
        )
        bot.start()
        state, detail = _expect(bot_conn, 120, f"{name} start-up")
        if state != "ready":
            raise RuntimeError(f"{name} failed to start: {detail}")
        server_conn.send(("run", updates, users, warmup, limit))
        result = _expect(server_conn, limit * 2 + 60, f"{name} results")
        bot_conn.send("stop")
        state, detail = _expect(bot_conn, 60, f"{name} shut-down")
        if state != "done":
            raise RuntimeError(f"{name} failed: {detail}")
        result.update(detail)
        server_conn.send(("stop",))
        server.join(10)
        bot.join(10)
        return result
    finally:
        for process in (bot, server):
            if process is not None and process.is_alive():
                process.terminate()
                process.join(5)


def _pct(values: Sequence[float], p: float) -> float:
    ordered = sorted(values)
    idx = min(len(ordered) - 1, max(0, round(p / 100 * (len(ordered) - 1))))
    return ordered[idx]


@dataclass
class Row:
    name: str
    label: str
    rate: float
    p50_ms: float
    p99_ms: float
    peak_mib: float
    ready_mib: float
    cpu_ms: float
    server_cpu_pct: float
    note: str
    low: float = 0.0
    high: float = 0.0


def _row(name: str, result: dict[str, Any], updates: int) -> Row:
    latencies = result["latencies_s"] or [float("nan")]
    answered = result["answered"]
    notes = []
    if result["timed_out"] or answered < updates:
        notes.append(f"only {answered}/{updates} answered")
    if result["extra_replies"]:
        notes.append(f"{result['extra_replies']} extra replies")
    if result["server_errors"]:
        notes.append("Bot API errors: " + "; ".join(result["server_errors"]))
    if result["bot_errors"]:
        notes.append(
            f"{result['bot_errors']} errors logged by the bot, e.g. "
            + "; ".join(result["bot_error_samples"][:1])
        )
    elapsed = result["elapsed_s"]
    return Row(
        name=name,
        label=CONTENDERS[name].label,
        rate=answered / elapsed if elapsed > 0 else 0.0,
        p50_ms=_pct(latencies, 50) * 1000,
        p99_ms=_pct(latencies, 99) * 1000,
        peak_mib=result["maxrss_kib"] / 1024,
        ready_mib=result["rss_ready_kib"] / 1024,
        cpu_ms=result["cpu_s"] * 1000 / max(1, answered),
        server_cpu_pct=100 * result["server_cpu_s"] / elapsed if elapsed > 0 else 0.0,
        note=", ".join(notes),
    )


def _median_row(rows: list[Row]) -> Row:
    """The repeat with the median throughput (its own latencies and memory kept together),
    with the range of all repeats' throughputs, the median CPU per update and all notes."""
    ordered = sorted(rows, key=lambda r: r.rate)
    median = ordered[len(ordered) // 2]
    notes = sorted({r.note for r in rows if r.note})
    cpu = sorted(r.cpu_ms for r in rows)[len(rows) // 2]
    return replace(
        median, low=ordered[0].rate, high=ordered[-1].rate, cpu_ms=cpu, note=" / ".join(notes)
    )


def _versions() -> str:
    from importlib.metadata import PackageNotFoundError, version

    parts = []
    for package in ("python-telegram-bot", "aiogram", "aiohttp", "httpx"):
        try:
            parts.append(f"{package} {version(package)}")
        except PackageNotFoundError:
            parts.append(f"{package} (not installed)")
    return ", ".join(parts)


def _cpu_model() -> str:
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    return platform.processor() or platform.machine()


def render(rows: list[Row], args: argparse.Namespace, loads: Sequence[float] = ()) -> str:
    floor = next((r for r in rows if r.name == "ptb"), None)
    lines = [
        "| contender | updates/s (range) | p50 ms | p99 ms | peak RSS MiB (at start) "
        "| bot CPU ms/update | server CPU | vs PTB floor |",
        "|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    notes = []
    for r in rows:
        ratio = f"{r.rate / floor.rate:.2f}×" if floor and floor.rate else "–"
        mark = ""
        if r.note:
            notes.append(f"{len(notes) + 1}. {r.label}: {r.note}")
            mark = f" ({len(notes)})"
        lines.append(
            f"| {r.label}{mark} | {r.rate:,.0f} ({r.low:,.0f}–{r.high:,.0f}) "
            f"| {r.p50_ms:.1f} | {r.p99_ms:.1f} "
            f"| {r.peak_mib:.1f} ({r.ready_mib:.1f}) | {r.cpu_ms:.2f} "
            f"| {r.server_cpu_pct:.0f} % | {ratio} |"
        )
    by_name = {r.name: r for r in rows}
    ratios = []
    for num, den, target in (
        ("loket", "ptb", " (target ≥ 0.70)"),
        ("loket", "aiogram", " (stretch ≥ 1.00)"),
        ("aiogram", "ptb", ""),
    ):
        if num in by_name and den in by_name and by_name[den].rate and by_name[num].cpu_ms:
            a, b = by_name[num], by_name[den]
            ratios.append(
                f"{num} / {den}: {a.rate / b.rate:.2f} by updates/s, "
                f"{b.cpu_ms / a.cpu_ms:.2f} by bot CPU per update{target}"
            )
    load = ""
    if loads:
        load = f" 1-minute load average before the runs: {min(loads):.1f}–{max(loads):.1f}."
    how = (
        f"Machine: {os.cpu_count()} CPUs ({_cpu_model()}), {platform.system()}, Python "
        f"{platform.python_version()}; {_versions()}. N={args.updates} updates from "
        f"U={args.users} citizens (closed loop, ≤ U in flight), after {args.warmup} warm-up "
        f"updates; median of {args.repeat} run(s) per contender by updates/s (range: all "
        "runs), contenders run round-robin. Bot and local Bot API server in separate "
        "processes (a fresh pair per run), loopback HTTP, long polling, server rate limits "
        "off. Latency = server-side time from queuing the update to receiving the "
        "sendMessage answering it. Peak RSS = ru_maxrss of the bot process (RSS once ready "
        "in brackets); bot CPU = user+system time of the bot process during the run / N; "
        "server CPU = server process CPU time / run time." + load
    )
    parts = [*lines, ""]
    if notes:
        parts += [*notes, ""]
    return "\n".join([*parts, *(f"- {line}" for line in ratios), "", how])


LATENCY_CITIZEN = 5_000_000
LATENCY_SUBSCRIBER = 6_000_000


async def _seed_subscribers(loket: Any, subscribers: int) -> None:
    """``subscribers`` Telegram citizens subscribed to Dinkes news in Mimika Baru."""
    from sqlalchemy import insert, select

    from bot.storage.models import Subscription, User

    async with loket.database.begin() as connection:
        await connection.execute(
            insert(User),
            [
                {"channel": "telegram", "external_id": str(LATENCY_SUBSCRIBER + i)}
                for i in range(subscribers)
            ],
        )
        ids = (
            await connection.execute(select(User.id).where(User.external_id.like("6%")))
        ).scalars()
        await connection.execute(
            insert(Subscription),
            [{"user_id": u, "district": "94.04.01", "topics": "dinkes"} for u in ids],
        )


def _broadcast_sent(state: Any) -> int:
    return sum(n for c, n in state.stats.delivered.items() if c >= LATENCY_SUBSCRIBER)


async def _announce(loket: Any, service: Any, state: Any) -> None:
    """Queues an announcement to every subscriber; returns once 60 have gone (2 s in)."""
    from bot.broadcast.store import create_announcement
    from bot.storage.db import sessions as make_sessions

    async with make_sessions(loket.database)() as session, session.begin():
        await create_announcement(session, opd="dinkes", text="Uji siaran.")
    service.wake()
    await state.signal.wait_for(lambda: _broadcast_sent(state) >= 60, 60)


async def _press_all(api: Any, state: Any, menus: dict[int, Any]) -> dict[str, Any]:
    """Every citizen presses their menu's first button at once; waits for every reply."""
    pressed: dict[int, float] = {}
    answered: dict[int, float] = {}
    queries = []
    for chat, menu in menus.items():
        pressed[chat] = time.perf_counter()
        queries.append(api.press_button(chat, menu.message_id, menu.callback_data[0]))

    def done() -> bool:
        now = time.perf_counter()
        for chat in menus:
            if chat not in answered and len(state.record(chat).messages) > 1:
                answered[chat] = now
        return len(answered) == len(menus)

    await state.signal.wait_for(done, 120)
    answers = [state.callbacks[str(q)].answer for q in queries]
    return {
        "answered": len(answered),
        "callbacks_answered": sum(1 for a in answers if a is not None),
        "latencies_s": [answered[c] - pressed[c] for c in answered],
    }


async def _reply_latency_round(citizens: int, subscribers: int, announce: bool) -> dict[str, Any]:
    """One round, in this process: the local Bot API with Telegram's limits (30/s per bot,
    1/s per chat with a burst of 3), Loket as ``loket run`` wires it (SQLite file, the
    announcements' pacer shared with the replies), ``citizens`` with a menu on screen. With
    ``announce`` an announcement to ``subscribers`` starts first; once it is sending, every
    citizen presses the same menu button at once. Latency: press queued on the server ->
    the server receiving the bot's reply in that chat."""
    from bot.app import open_loket
    from bot.botapi import BotApiLimits, LocalBotApi
    from bot.broadcast.runtime import TelegramBroadcasts
    from bot.local import integration_env
    from bot.runner import running_application
    from bot.settings import Settings
    from bot.telegram.channel import ChannelSettings, build_application

    api = LocalBotApi(BotApiLimits(), token=TOKEN, username="loket_bench_bot")
    for i in range(citizens):
        api.add_user(LATENCY_CITIZEN + i, f"Warga {i}")
    for i in range(subscribers):
        api.add_user(LATENCY_SUBSCRIBER + i, f"Pelanggan {i}")
    await api.start()
    try:
        with tempfile.TemporaryDirectory(prefix="loket-latency-") as tmp:
            settings = Settings.from_env(
                {"DATABASE_URL": f"sqlite+aiosqlite:///{tmp}/bench.sqlite3"}
            )
            async with (
                integration_env({}) as env,
                open_loket(settings, integration_env=dict(env)) as loket,
            ):
                channel = ChannelSettings(
                    token=TOKEN,
                    base_url=api.bot_api_url,
                    flood_messages=10**9,
                    flood_window_seconds=1.0,
                )
                broadcasts = TelegramBroadcasts(loket, TOKEN, base_url=api.bot_api_url, rate=30)
                application = build_application(
                    loket.frontdesk,
                    loket.translator,
                    channel,
                    staff=loket.staff,
                    composer=broadcasts.composer,
                    pacer=broadcasts.pacer,
                )
                async with (
                    running_application(application, polling=True),
                    broadcasts.running(application.bot) as service,
                ):
                    state = api.bot()
                    menus = {}  # warm-up: each citizen opens the menu (paced like any reply)
                    for i in range(citizens):
                        chat = LATENCY_CITIZEN + i
                        api.send_text(chat, "/menu")
                        (menus[chat],) = await api.wait_for_messages(chat, 1, timeout=60)
                    if announce:
                        await _seed_subscribers(loket, subscribers)
                        await _announce(loket, service, state)
                    result = await _press_all(api, state, menus)
                    result["broadcast_sent_meanwhile"] = _broadcast_sent(state)
        result.update(citizens=citizens, announce=announce, **{"429": state.stats.rate_limited})
    finally:
        await api.stop()
    return result


def reply_latency(citizens: Sequence[int], subscribers: int) -> str:
    """The issue-12 table: reply latency per load, next to the floor of the same run."""
    lines = [
        "| citizens pressing at once | announcement | answered | p50 ms | p90 ms | p99 ms "
        "| max ms | 429s |",
        "|---:|---|---:|---:|---:|---:|---:|---:|",
    ]
    for count in citizens:
        for announce in (False, True):
            r = asyncio.run(_reply_latency_round(count, subscribers, announce))
            lat = sorted(r["latencies_s"])
            what = f"to {subscribers:,} subscribers" if announce else "none (floor)"
            lines.append(
                f"| {count} | {what} | {r['answered']}/{count} | {_pct(lat, 50) * 1000:.0f} "
                f"| {_pct(lat, 90) * 1000:.0f} | {_pct(lat, 99) * 1000:.0f} "
                f"| {lat[-1] * 1000:.0f} | {r['429']} |"
            )
            print(lines[-1], file=sys.stderr, flush=True)
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Telegram bot throughput benchmark")
    parser.add_argument(
        "--reply-latency", action="store_true", help="reply latency under an announcement"
    )
    parser.add_argument("--citizens", default="40,200", help="with --reply-latency")
    parser.add_argument("--subscribers", type=int, default=3000, help="with --reply-latency")
    parser.add_argument("--updates", type=int, default=2000, help="measured updates (N)")
    parser.add_argument("--users", type=int, default=50, help="simulated citizens (U)")
    parser.add_argument(
        "--workload",
        choices=sorted(WORKLOADS),
        help="sets U from N: first-contact (U = N: every update is a citizen's first "
        "message), mixed (U = N/4: a first message then three more), warm (U = 50)",
    )
    parser.add_argument("--warmup", type=int, default=50, help="warm-up updates, not measured")
    parser.add_argument("--repeat", type=int, default=1, help="runs per contender (median)")
    parser.add_argument(
        "--contenders",
        default=",".join(DEFAULT_CONTENDERS),
        help=f"comma-separated, from: {', '.join(CONTENDERS)}",
    )
    parser.add_argument("--timeout", type=float, default=120.0, help="seconds per run, at most")
    parser.add_argument("--json", type=Path, help="also write the raw results here")
    args = parser.parse_args(argv)
    if args.workload is not None:
        args.users = WORKLOADS[args.workload](args.updates)
    if args.reply_latency:
        _quiet_logging()
        os.environ.setdefault("PTB_TIMEDELTA", "1")
        counts = [int(n) for n in args.citizens.split(",") if n.strip()]
        print(reply_latency(counts, args.subscribers))
        return 0
    names = [n.strip() for n in args.contenders.split(",") if n.strip()]
    unknown = [n for n in names if n not in CONTENDERS]
    if unknown or args.users < 1 or args.updates < args.users:
        parser.error(f"unknown contenders {unknown}" if unknown else "need updates >= users >= 1")

    runs: dict[str, list[Row]] = {name: [] for name in names}
    raw: dict[str, list[dict[str, Any]]] = {name: [] for name in names}
    # Round-robin over the contenders, so a slow spell of the machine hits all of them alike.
    loads: list[float] = []
    for attempt in range(args.repeat):
        for name in names:
            loads.append(os.getloadavg()[0])
            started = time.perf_counter()
            result = run_contender(name, args.updates, args.users, args.warmup, args.timeout)
            row = _row(name, result, args.updates)
            runs[name].append(row)
            raw[name].append({k: v for k, v in result.items() if k != "latencies_s"})
            print(
                f"{name} run {attempt + 1}: {row.rate:,.0f} updates/s, p50 {row.p50_ms:.1f} ms, "
                f"p99 {row.p99_ms:.1f} ms, peak {row.peak_mib:.1f} MiB "
                f"({time.perf_counter() - started:.1f} s wall)"
                f"{' ' + row.note if row.note else ''}",
                file=sys.stderr,
                flush=True,
            )
    rows = [_median_row(runs[name]) for name in names]
    print(render(rows, args, loads))
    if args.json is not None:
        args.json.write_text(
            json.dumps({"args": vars(args) | {"json": str(args.json)}, "runs": raw}, indent=2)
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
