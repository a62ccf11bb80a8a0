"""Fixtures: Loket with its console on the local Bot API, and one Chromium per module.

The browser is Debian's ``/usr/bin/chromium`` driven by Playwright (never a downloaded
browser); screenshots go to ``test-artifacts/`` at the repository root, which CI lists.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio

from bot.botapi import BotApiLimits, LocalBotApi
from bot.local import integration_env
from bot.settings import Settings
from integrations.shapes import WIT
from tests.console.support import ADMIN_ID, ConsoleDesk
from tests.support.app import FakeClock
from tests.telegram.support import BOT_USERNAME, CALLBACK_SECRET, TOKEN

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
]
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"


@pytest.fixture(scope="session")
def artifacts() -> Path:
    ARTIFACTS.mkdir(exist_ok=True)
    return ARTIFACTS


@pytest.fixture(scope="session")
def chromium() -> Path:
    if not CHROMIUM.exists():
        if os.environ.get("LOKET_REQUIRE_BROWSER"):  # CI: .ci/run installs it
            pytest.fail(f"{CHROMIUM} is missing")
        pytest.skip("Debian's chromium is not installed (apt-get install -y chromium)")
    return CHROMIUM


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def browser(chromium: Path) -> AsyncIterator[object]:
    """One headless Chromium for the whole module (starting one costs about a second)."""
    from playwright.async_api import async_playwright

    async with async_playwright() as playwright:
        launched = await playwright.chromium.launch(
            executable_path=str(chromium), headless=True, args=CHROMIUM_ARGS
        )
        try:
            yield launched
        finally:
            await launched.close()


@contextlib.asynccontextmanager
async def running_desk(
    tmp_path: Path,
    broadcast_options: dict[str, Any] | None = None,
    *,
    desk_class: type[ConsoleDesk] = ConsoleDesk,
    clock: FakeClock | None = None,
) -> AsyncIterator[Any]:
    """Loket (SQLite file), sandbox agencies dated from ``clock``, the local Bot API and the
    console; the admin of ADMIN_TELEGRAM_IDS is ADMIN_ID. After the test: no unexpected Bot
    API error and no error in an update."""
    api = LocalBotApi(
        BotApiLimits.unlimited(), token=TOKEN, username=BOT_USERNAME, first_name="Loket Mimika"
    )
    await api.start()
    settings = Settings(
        database_url=f"sqlite+aiosqlite:///{tmp_path / 'loket.sqlite3'}",
        callback_secret=CALLBACK_SECRET,
        flood_messages=1000,
        admin_telegram_ids=(ADMIN_ID,),
        env={},
    )
    today = clock().astimezone(WIT).date() if clock is not None else None
    try:
        async with integration_env({}, today=today) as env:
            running = desk_class(api, settings, dict(env))
            running.broadcast_options = broadcast_options
            running.clock = clock
            await running.start()
            try:
                yield running
            finally:
                tracker = running.tracker
                await running.stop()
            assert running.unexpected_errors() == [], running.unexpected_errors()
            assert tracker is not None and tracker.errors == [], tracker.errors
    finally:
        await api.stop()


@pytest_asyncio.fixture(loop_scope="module")
async def desk(tmp_path: Path) -> AsyncIterator[ConsoleDesk]:
    """A fresh Loket (SQLite file), sandbox agencies, local Bot API and console per test;
    the admin of ADMIN_TELEGRAM_IDS is ADMIN_ID. Announcements are queued, not sent."""
    async with running_desk(tmp_path) as running:
        yield running


@pytest_asyncio.fixture(loop_scope="module")
async def sending_desk(tmp_path: Path) -> AsyncIterator[ConsoleDesk]:
    """The same, with the broadcast service running as in `loket run`: announcements go out."""
    async with running_desk(tmp_path, {"progress_interval": 5.0}) as running:
        yield running
