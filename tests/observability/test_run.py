"""``loket run`` as an operator runs it (a process, LOG_FORMAT=json, LOG_LEVEL=DEBUG): its web
app serves /healthz and /metrics in the local mode and in Telegram mode, every stderr line is
one JSON object, one of them per update, and none holds a whole NIK, phone number or the bot
token — though PTB and aiohttp log Bot API URLs, which contain the token, at DEBUG."""

from __future__ import annotations

import asyncio
import json
import os
import re
import signal
import sys
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path

import aiohttp
import pytest

from bot.botapi import BotApiLimits, LocalBotApi
from bot.observability.leaks import find_leaks

ROOT = Path(__file__).resolve().parents[2]
TIMEOUT = 30.0
# Shaped like a real token (BotFather's are 35 characters after the colon).
REAL_LOOKING_TOKEN = "7412589630:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw1"
NIK = "9109014107950001"
WEBHOOK_SECRET = "Webhook_Secret-0f3c9a7e5d"


class Running:
    """A ``loket run`` process; its output is read as it comes, and waited on by condition."""

    def __init__(self, process: asyncio.subprocess.Process) -> None:
        self.process = process
        self.stdout: list[str] = []
        self.stderr: list[str] = []
        self._changed = asyncio.Condition()
        self._readers = [
            asyncio.ensure_future(self._read(process.stdout, self.stdout)),
            asyncio.ensure_future(self._read(process.stderr, self.stderr)),
        ]

    async def _read(self, stream: asyncio.StreamReader | None, into: list[str]) -> None:
        assert stream is not None
        while line := await stream.readline():
            async with self._changed:
                into.append(line.decode("utf-8", "replace").rstrip("\n"))
                self._changed.notify_all()
        async with self._changed:
            self._changed.notify_all()

    async def wait_for(self, lines: list[str], predicate: Callable[[str], bool]) -> str:
        """The first line (of ``lines``: self.stdout or self.stderr) that matches."""

        def found() -> str | None:
            return next((line for line in lines if predicate(line)), None)

        async def until() -> str:
            async with self._changed:
                while (line := found()) is None:
                    if self.process.returncode is not None or all(r.done() for r in self._readers):
                        raise AssertionError("loket run ended:\n" + "\n".join(self.stderr[-20:]))
                    await self._changed.wait()
                return line

        return await asyncio.wait_for(until(), TIMEOUT)

    async def stop(self) -> int:
        if self.process.returncode is None:
            self.process.send_signal(signal.SIGTERM)
        code = await asyncio.wait_for(self.process.wait(), TIMEOUT)
        await asyncio.gather(*self._readers)
        return code


@asynccontextmanager
async def loket_run(tmp_path: Path, port: int, **env: str) -> AsyncIterator[Running]:
    environment = {
        "PATH": os.environ.get("PATH", ""),
        "PYTHONPATH": str(ROOT),
        "DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'loket.sqlite3'}",
        "LOG_FORMAT": "json",
        "LOG_LEVEL": "DEBUG",
        **env,
    }
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot.cli",
        "run",
        "--port",
        str(port),
        cwd=tmp_path,  # no .env of the developer's
        env=environment,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    running = Running(process)
    try:
        yield running
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()


def _is_update_line(line: str) -> bool:
    return '"logger": "loket.updates"' in line


async def _get(session: aiohttp.ClientSession, url: str) -> tuple[int, str]:
    async with session.get(url) as response:
        return response.status, await response.text()


def _check_log(stderr: list[str]) -> list[dict[str, object]]:
    """Every line is a JSON object and none leaks; returns them."""
    lines = [json.loads(line) for line in stderr if line.strip()]
    assert all({"ts", "level", "logger", "message"} <= set(line) for line in lines)
    leaks = [leak.redacted() for line in stderr for leak in find_leaks(line)]
    assert leaks == []
    return lines


async def test_local_mode_serves_health_and_metrics_and_logs_json(tmp_path: Path) -> None:
    async with loket_run(tmp_path, 0) as running:
        started = await running.wait_for(running.stdout, lambda line: "Open http://" in line)
        match = re.search(r"(http://127\.0\.0\.1:\d+)/", started)
        assert match is not None
        base = match.group(1)
        async with aiohttp.ClientSession() as session:
            status, body = await _get(session, f"{base}/healthz")
            assert status == 200 and json.loads(body)["status"] == "ok"
            async with session.post(
                f"{base}/webchat/send", json={"text": f"nik saya {NIK}, hp 0812-3456-7890"}
            ) as response:
                assert (await response.json())["ok"] is True
            update = json.loads(await running.wait_for(running.stderr, _is_update_line))
            status, metrics = await _get(session, f"{base}/metrics")
        assert status == 200
        assert 'loket_updates_total{kind="text",outcome="ok"} 1' in metrics
        assert 'loket_update_handling_seconds_count{kind="text"} 1' in metrics
        assert "loket_broadcast_queue_depth 0" in metrics
        # The retention job ran at start (in the background: waited for, not assumed).
        await running.wait_for(running.stderr, lambda line: '"logger": "bot.retention"' in line)
        assert await running.stop() == 0
    assert update["outcome"] == "ok" and update["kind"] == "text"
    lines = _check_log(running.stderr)
    assert sum(line["logger"] == "loket.updates" for line in lines) == 1


@pytest.mark.parametrize("mode", ["polling", "webhook"])
async def test_telegram_mode_serves_health_and_metrics_without_leaking_the_token(
    tmp_path: Path, closed_port: int, mode: str
) -> None:
    api = LocalBotApi(BotApiLimits.unlimited(), token=REAL_LOOKING_TOKEN, username="loket_ops_bot")
    await api.start()
    webhook = {
        "WEBHOOK_URL": f"http://127.0.0.1:{closed_port}/telegram/webhook",
        "WEBHOOK_SECRET": WEBHOOK_SECRET,
    }
    try:
        async with loket_run(
            tmp_path,
            closed_port,
            TELEGRAM_BOT_TOKEN=REAL_LOOKING_TOKEN,
            TELEGRAM_API_BASE_URL=api.bot_api_url,
            **(webhook if mode == "webhook" else {}),
        ) as running:
            ready = "Health and metrics" if mode == "polling" else "by webhook on"
            await running.wait_for(running.stdout, lambda line: ready in line)
            base = f"http://127.0.0.1:{closed_port}"
            api.add_user(8001, "Warga")
            api.send_text(8001, f"/start {NIK}")
            update = json.loads(await running.wait_for(running.stderr, _is_update_line))
            async with aiohttp.ClientSession() as session:
                health, body = await _get(session, f"{base}/healthz")
                status, metrics = await _get(session, f"{base}/metrics")
            assert await running.stop() == 0
    finally:
        await api.stop()
    assert health == 200 and json.loads(body)["checks"]["database"]["ok"] is True
    assert status == 200
    assert 'loket_updates_total{kind="command",outcome="ok"} 1' in metrics
    assert update["kind"] == "command"
    _check_log(running.stderr)
    everything = "\n".join(running.stderr + running.stdout)
    for secret in (REAL_LOOKING_TOKEN.split(":")[1], WEBHOOK_SECRET):
        assert secret not in everything
    # PTB did log its Bot API calls at DEBUG: the check above looked at real lines.
    assert ("getUpdates" if mode == "polling" else "setWebhook") in everything
