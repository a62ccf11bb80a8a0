"""``loket run`` on a port another program holds (issue 12, item 8): one line in Indonesian
and English that names the port and LOKET_PORT, a non-zero exit, and no traceback; in the
local mode and in Telegram mode (long polling and webhook), as a person starts it."""

from __future__ import annotations

import asyncio
import os
import socket
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.botapi import BotApiLimits, LocalBotApi

ROOT = Path(__file__).resolve().parent.parent
TIMEOUT = 60.0
TOKEN = "7000000001:AAbusyportbusyportbusyportbusyport12"  # a local Bot API's bot


@pytest.fixture
def busy_port() -> Iterator[int]:
    """A port on 127.0.0.1 another program listens on for the whole test."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen()
        yield int(sock.getsockname()[1])


async def loket_run(tmp_path: Path, **env: str) -> tuple[int, str, str]:
    """Runs ``loket run`` to its end; (exit code, stdout, stderr)."""
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot.cli",
        "run",
        cwd=tmp_path,  # no .env of the developer's
        env={
            "PATH": os.environ.get("PATH", ""),
            "PYTHONPATH": str(ROOT),
            "DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'loket.sqlite3'}",
            **env,
        },
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    try:
        out, err = await asyncio.wait_for(process.communicate(), TIMEOUT)
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()
    assert process.returncode is not None
    return process.returncode, out.decode(), err.decode()


def assert_one_clear_line(code: int, stderr: str, port: int) -> None:
    assert code != 0
    assert "Traceback" not in stderr
    assert "OSError" not in stderr
    lines = [line for line in stderr.splitlines() if "LOKET_PORT" in line]
    assert len(lines) == 1, stderr
    (line,) = lines
    assert f"127.0.0.1:{port}" in line
    assert "sudah dipakai" in line and "already in use" in line  # Indonesian, then English


async def test_local_mode_says_which_port_is_busy(tmp_path: Path, busy_port: int) -> None:
    code, _out, err = await loket_run(tmp_path, LOKET_PORT=str(busy_port))
    assert_one_clear_line(code, err, busy_port)


@pytest.mark.parametrize("mode", ["polling", "webhook"])
async def test_telegram_mode_says_which_port_is_busy(
    tmp_path: Path, busy_port: int, mode: str
) -> None:
    api = LocalBotApi(BotApiLimits.unlimited(), token=TOKEN, username="loket_port_bot")
    await api.start()
    webhook = {
        "WEBHOOK_URL": f"http://127.0.0.1:{busy_port}/telegram/webhook",
        "WEBHOOK_SECRET": "Webhook_Secret-busyport",
    }
    try:
        code, _out, err = await loket_run(
            tmp_path,
            LOKET_PORT=str(busy_port),
            TELEGRAM_BOT_TOKEN=TOKEN,
            TELEGRAM_API_BASE_URL=api.bot_api_url,
            **(webhook if mode == "webhook" else {}),
        )
    finally:
        await api.stop()
    assert_one_clear_line(code, err, busy_port)
