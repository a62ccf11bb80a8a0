"""Fixtures: a local Bot API server, the sandbox agencies and Loket running on PTB."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from bot.botapi import BotApiLimits, LocalBotApi
from bot.local import integration_env
from bot.settings import Settings
from tests.telegram.support import BOT_USERNAME, CALLBACK_SECRET, TOKEN, Citizen, Desk


@pytest.fixture
def limits() -> BotApiLimits:
    """Telegram's flood limits off, unless a test module provokes them on purpose."""
    return BotApiLimits.unlimited()


@pytest.fixture
async def api(limits: BotApiLimits) -> AsyncIterator[LocalBotApi]:
    server = LocalBotApi(limits, token=TOKEN, username=BOT_USERNAME, first_name="Loket Mimika")
    await server.start()
    try:
        yield server
    finally:
        await server.stop()


@pytest.fixture
async def agencies() -> AsyncIterator[dict[str, str]]:
    """The agencies' sandbox, in-process on a free loopback port."""
    async with integration_env({}) as env:
        yield dict(env)


@pytest.fixture
def settings(database_url: str) -> Settings:
    """A fresh database per test (SQLite, then PostgreSQL: tests/support/database.py). The
    citizens' flood limit is raised: a test types faster than any person, and only the flood
    tests (which override this) are about that limit."""
    return Settings(
        database_url=database_url,
        callback_secret=CALLBACK_SECRET,
        flood_messages=1000,
        env={},
    )


@pytest.fixture
def polling() -> bool:
    """Long polling, as the local mode does; the webhook tests override this."""
    return True


@pytest.fixture
async def desk(
    api: LocalBotApi, settings: Settings, agencies: dict[str, str], polling: bool
) -> AsyncIterator[Desk]:
    """Loket on the local Bot API server, by long polling (or by webhook, see ``polling``).

    On teardown every request the bot made must have been valid for the server (no Bad
    Request, no 429 unless the test allowed it) and no handler may have raised.
    """
    running = Desk(api, settings, agencies)
    await running.start(polling=polling)
    try:
        yield running
    finally:
        tracker = running.tracker
        await running.stop()
    assert running.unexpected_errors() == [], running.unexpected_errors()
    assert not any("Bad Request" in e.description for e in api.errors), api.errors
    assert tracker is not None and tracker.errors == [], tracker.errors


@pytest.fixture
def warga(desk: Desk) -> Citizen:
    return desk.citizen(5001, "Yosina")


@pytest.fixture
def tetangga(desk: Desk) -> Citizen:
    return desk.citizen(5002, "Markus")
