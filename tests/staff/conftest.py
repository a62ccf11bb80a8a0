"""The Telegram fixtures of tests/telegram, with one admin seeded from ADMIN_TELEGRAM_IDS."""

from __future__ import annotations

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
def settings(database_url: str) -> Settings:
    """On SQLite, then on PostgreSQL (tests/support/database.py): the announcements' queue
    and the roles are storage the other databases must serve the same way."""
    return Settings(
        database_url=database_url,
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
