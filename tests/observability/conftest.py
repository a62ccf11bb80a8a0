"""Fixtures: a real Loket (SQLite file, sandbox agencies) and a web app served on loopback."""

from __future__ import annotations

import socket
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import pytest
from aiohttp import web

from bot.app import Loket
from tests.support.app import FakeClock, running_loket


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
async def loket(tmp_path: Path, clock: FakeClock) -> AsyncIterator[Loket]:
    async with running_loket(tmp_path / "loket.sqlite3", clock=clock) as app:
        yield app


@asynccontextmanager
async def serving(app: web.Application) -> AsyncIterator[str]:
    """Serves ``app`` on 127.0.0.1 and a free port; yields its base URL."""
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    try:
        port = runner.addresses[0][1]
        yield f"http://127.0.0.1:{port}"
    finally:
        await runner.cleanup()


@pytest.fixture
def closed_port() -> int:
    """A loopback port nobody listens on (bound, then released)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])
