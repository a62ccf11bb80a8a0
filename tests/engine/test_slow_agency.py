"""A slow or broken agency system never holds up the bot: only the citizen who asked waits,
and only up to the timeout, then gets a clear answer. Runs through the real front desk, with
the sandbox's fault injection over real HTTP."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.app import Loket, open_loket
from bot.local import sandbox_env
from integrations.sandbox import create_sandbox_app
from integrations.sandbox.app import fault_switch, start_sandbox
from integrations.sandbox.faults import FaultConfig
from tests.support.app import FakeClock, settings_for
from tests.support.conversation import Conversation

TIMEOUT = 1.0


@pytest.fixture
async def hanging_disdukcapil(database_url: str) -> AsyncIterator[Loket]:
    """Disdukcapil's system accepts connections and never answers; the others are fine.

    On SQLite and on PostgreSQL: no transaction may be held while the agency hangs."""
    app = create_sandbox_app(seed=0)
    fault_switch(app).config = FaultConfig(hang=True, opds=frozenset({"disdukcapil"}))
    runner, port = await start_sandbox(app)
    try:
        agencies = sandbox_env(f"http://127.0.0.1:{port}", timeout=TIMEOUT)
        settings = settings_for(database_url)
        async with open_loket(settings, clock=FakeClock(), integration_env=agencies) as loket:
            yield loket
    finally:
        await runner.cleanup()


async def test_other_citizens_are_served_while_one_waits_for_a_hanging_agency(
    hanging_disdukcapil: Loket,
) -> None:
    waiting = Conversation(hanging_disdukcapil)
    other = Conversation(hanging_disdukcapil)
    await waiting.send("cek status permohonan")
    started = time.monotonic()
    status_check = asyncio.create_task(waiting.send("9404-2026-000101"))

    await other.send("syarat ktp baru")
    await other.send("akta kelahiran anak")
    other_done = time.monotonic() - started

    assert not status_check.done(), "the other citizen was not served while the agency hung"
    assert "Akta" in other.last_text or "akta" in other.last_text
    replies = await status_check
    elapsed = time.monotonic() - started
    text = "\n".join(reply.text for reply in replies)
    assert "tidak dapat dihubungi" in text
    assert elapsed < TIMEOUT + 1.0, f"the citizen waited {elapsed:.2f} s"
    assert other_done < elapsed


async def test_the_database_is_not_held_while_an_agency_hangs(
    hanging_disdukcapil: Loket,
) -> None:
    """Many citizens write (answers, events) while one status check hangs: none fails."""
    waiting = Conversation(hanging_disdukcapil)
    await waiting.send("cek status permohonan")
    status_check = asyncio.create_task(waiting.send("9404-2026-000101"))
    others = [Conversation(hanging_disdukcapil) for _ in range(20)]
    results = await asyncio.gather(*(c.send("syarat kk baru") for c in others))
    assert not status_check.done()
    for replies in results:
        text = "\n".join(reply.text for reply in replies)
        assert "terjadi kendala" not in text
        assert "Kartu Keluarga" in text or "KK" in text
    await status_check


FAULTS = {
    "hangs": FaultConfig(hang=True),
    "slower than the timeout": FaultConfig(latency=TIMEOUT + 2.0),
    "answers 500": FaultConfig(status=500),
    "answers malformed JSON": FaultConfig(malformed=True),
    "answers an HTML page": FaultConfig(wrong_content_type=True),
}


@pytest.mark.parametrize("fault", FAULTS.values(), ids=FAULTS.keys())
async def test_a_broken_agency_gets_a_clear_answer_within_the_timeout(
    tmp_path: Path, fault: FaultConfig
) -> None:
    app = create_sandbox_app(seed=0)
    fault_switch(app).config = fault
    runner, port = await start_sandbox(app)
    try:
        agencies = sandbox_env(f"http://127.0.0.1:{port}", timeout=TIMEOUT)
        settings = settings_for(tmp_path / "loket.sqlite3")
        async with open_loket(settings, clock=FakeClock(), integration_env=agencies) as loket:
            citizen = Conversation(loket)
            await citizen.send("cek status permohonan")
            started = time.monotonic()
            replies = await citizen.send("9404-2026-000101")
            elapsed = time.monotonic() - started
    finally:
        await runner.cleanup()
    text = "\n".join(reply.text for reply in replies)
    assert "sistem Disdukcapil sedang tidak dapat dihubungi" in text
    assert "Traceback" not in text and "terjadi kendala" not in text
    assert elapsed < TIMEOUT + 1.0, f"the citizen waited {elapsed:.2f} s"


async def test_an_agency_that_is_down_gets_a_clear_answer_at_once(tmp_path: Path) -> None:
    app = create_sandbox_app(seed=0)
    runner, port = await start_sandbox(app)
    await runner.cleanup()  # nothing listens on that port any more
    agencies = sandbox_env(f"http://127.0.0.1:{port}", timeout=TIMEOUT)
    settings = settings_for(tmp_path / "loket.sqlite3")
    async with open_loket(settings, clock=FakeClock(), integration_env=agencies) as loket:
        citizen = Conversation(loket)
        await citizen.send("cek status permohonan")
        started = time.monotonic()
        replies = await citizen.send("9404-2026-000101")
        elapsed = time.monotonic() - started
    assert "tidak dapat dihubungi" in "\n".join(reply.text for reply in replies)
    assert elapsed < TIMEOUT + 1.0
