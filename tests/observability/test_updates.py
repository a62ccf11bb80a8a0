"""One log line and one metric sample per update, through the real PTB Application polling the
local Bot API over HTTP: answered (ok), dropped by the flood gate, failed in a handler."""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import AsyncIterator
from typing import Any

import pytest

from bot.app import Loket
from bot.botapi import BotApiLimits, LocalBotApi
from bot.engine.messages import Inbound, Outbound
from bot.observability.logs import JsonFormatter, MaskingFilter
from bot.observability.service import LoketMetrics
from bot.observability.updates import UpdateObserver
from bot.runner import running_application
from bot.telegram.channel import ChannelSettings, build_application

TOKEN = "515151:LOKET-OBSERVED"
TIMEOUT = 10.0


class Seen:
    """Collects (kind, outcome) per handled update; tests wait on it, never sleep."""

    def __init__(self, metrics: LoketMetrics) -> None:
        self.metrics = metrics
        self.outcomes: asyncio.Queue[tuple[str, str]] = asyncio.Queue()

    def __call__(self, kind: str, outcome: str, seconds: float) -> None:
        self.metrics.record_update(kind, outcome, seconds)
        self.outcomes.put_nowait((kind, outcome))

    async def next(self) -> tuple[str, str]:
        return await asyncio.wait_for(self.outcomes.get(), TIMEOUT)


@pytest.fixture
async def api() -> AsyncIterator[LocalBotApi]:
    server = LocalBotApi(
        BotApiLimits.unlimited(), token=TOKEN, username="loket_obs_bot", first_name="Loket"
    )
    await server.start()
    try:
        yield server
    finally:
        await server.stop()


@pytest.fixture
async def seen(loket: Loket, api: LocalBotApi) -> AsyncIterator[Seen]:
    seen = Seen(LoketMetrics())
    channel = ChannelSettings(
        token=TOKEN,
        base_url=api.bot_api_url,
        base_file_url=api.file_url,
        callback_secret="observed",
        flood_messages=3,
        flood_window_seconds=60,
    )
    application = build_application(
        loket.frontdesk, loket.translator, channel, observer=UpdateObserver(seen)
    )
    async with running_application(application, polling=True):
        yield seen


async def test_each_update_is_logged_once_with_its_outcome_and_time(
    loket: Loket, api: LocalBotApi, seen: Seen, caplog: pytest.LogCaptureFixture
) -> None:
    api.add_user(7001, "Warga")
    original = loket.frontdesk.handle

    async def failing(channel: str, external_id: str, event: Inbound) -> list[Outbound]:
        if event.text == "rusak 9109014107950001":
            raise RuntimeError("agency exploded for NIK 9109014107950001")
        return await original(channel, external_id, event)

    loket.frontdesk.handle = failing  # type: ignore[method-assign]
    caplog.set_level(logging.INFO, logger="loket.updates")
    api.send_text(7001, "/start")
    assert await seen.next() == ("command", "ok")
    api.send_text(7001, "rusak 9109014107950001")
    assert await seen.next() == ("text", "error")
    api.send_text(7001, "syarat ktp")
    assert await seen.next() == ("text", "ok")
    # The fourth message in the window is over the flood limit (3): warned, then dropped.
    api.send_text(7001, "halo")
    assert await seen.next() == ("text", "dropped")

    counted = seen.metrics.updates
    assert counted.value(kind="command", outcome="ok") == 1
    assert counted.value(kind="text", outcome="ok") == 1
    assert counted.value(kind="text", outcome="error") == 1
    assert counted.value(kind="text", outcome="dropped") == 1
    assert seen.metrics.update_seconds.count(kind="text") == 3

    lines = [r for r in caplog.records if r.name == "loket.updates"]
    assert [(r.__dict__["kind"], r.__dict__["outcome"]) for r in lines] == [
        ("command", "ok"),
        ("text", "error"),
        ("text", "ok"),
        ("text", "dropped"),
    ]
    record = lines[0]
    MaskingFilter().filter(record)
    line: dict[str, Any] = json.loads(JsonFormatter().format(record))
    assert line["logger"] == "loket.updates" and line["outcome"] == "ok"
    assert isinstance(line["update_id"], int) and line["duration_ms"] > 0
    assert set(line) == {
        "ts",
        "level",
        "logger",
        "message",
        "update_id",
        "kind",
        "outcome",
        "duration_ms",
    }  # nothing of what the citizen wrote
