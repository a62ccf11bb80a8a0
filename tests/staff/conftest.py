"""The Telegram fixtures of tests/telegram, with one admin seeded from ADMIN_TELEGRAM_IDS."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.settings import Settings
from tests.telegram import conftest as telegram
from tests.telegram.support import CALLBACK_SECRET, Citizen, Desk

# The fixtures of tests/telegram (a conftest is only seen below its own folder).
limits = telegram.limits
api = telegram.api
agencies = telegram.agencies
polling = telegram.polling
desk = telegram.desk
warga = telegram.warga

ADMIN_ID = 9001
STAFF_ID = 9002


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(
        database_url=f"sqlite+aiosqlite:///{tmp_path / 'loket.sqlite3'}",
        callback_secret=CALLBACK_SECRET,
        flood_messages=1000,
        admin_telegram_ids=Settings.from_env(
            {"ADMIN_TELEGRAM_IDS": f" {ADMIN_ID}, "}
        ).admin_telegram_ids,
        env={},
    )


@pytest.fixture
def admin(desk: Desk) -> Citizen:
    return desk.citizen(ADMIN_ID, "Admin Diskominfo")


@pytest.fixture
def petugas(desk: Desk) -> Citizen:
    return desk.citizen(STAFF_ID, "Petugas Dinkes")
