"""Fixtures: Loket's WhatsApp side against the Cloud API stand-in, on SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from tests.whatsapp.support import WaCitizen, WaDesk, wa_desk


@pytest.fixture
async def desk(database_url: str) -> AsyncIterator[WaDesk]:
    async with wa_desk(database_url) as running:
        yield running


@pytest.fixture
def warga(desk: WaDesk) -> WaCitizen:
    return desk.citizen("6281234567001")
