"""Flood control: Loket's own per-citizen limit, and Telegram's 429 answers."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.settings import Settings
from tests.telegram.support import CALLBACK_SECRET, Citizen, Desk

SLOW_DOWN = "Anda mengirim pesan terlalu cepat."


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    """The production limit of 8 messages per citizen, over a window long enough that a slow
    machine (or waiting out Telegram's per-chat 429s) cannot let the window slide mid-test."""
    return Settings(
        database_url=f"sqlite+aiosqlite:///{tmp_path / 'loket.sqlite3'}",
        callback_secret=CALLBACK_SECRET,
        flood_window_seconds=3600,
        env={},
    )


async def test_a_flood_gets_one_slow_down_note_and_others_are_served(
    desk: Desk, warga: Citizen, tetangga: Citizen
) -> None:
    assert desk.settings.flood_messages == 8
    mark, other_mark = warga.mark(), tetangga.mark()
    flood = [warga.send_nowait(f"syarat ktp baru {n}") for n in range(15)]
    other = tetangga.send_nowait("syarat akta kelahiran")
    flood += [warga.send_nowait(f"syarat ktp baru {n}") for n in range(15, 30)]
    await warga.tracker.wait_updates([*flood, other])

    texts = [m.visible_text for m in warga.since(mark).messages]
    notes = [t for t in texts if t.startswith(SLOW_DOWN)]
    assert len(notes) == 1
    assert len(texts) == 8 + 1  # eight answers, one note, the rest dropped
    assert all(t.startswith("KTP-el baru") for t in texts[:8])
    assert texts[8].startswith(SLOW_DOWN)
    (answer,) = tetangga.since(other_mark).messages
    assert answer.visible_text.startswith("Akta kelahiran")
