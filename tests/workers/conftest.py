"""PostgreSQL-only fixtures: several workers need a database they can share."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.storage.db import make_engine
from tests.support.database import PostgresServer, database_for


@pytest.fixture
async def postgres_url(
    tmp_path: Path, postgres_server: PostgresServer | None
) -> AsyncIterator[str]:
    """A fresh PostgreSQL database at head (skipped without LOKET_TEST_POSTGRES_URL, failed
    under LOKET_REQUIRE_POSTGRES=1)."""
    async with database_for("postgresql", tmp_path, postgres_server) as url:
        yield url


@pytest.fixture
async def engine(postgres_url: str) -> AsyncIterator[AsyncEngine]:
    database = make_engine(postgres_url)
    try:
        yield database
    finally:
        await database.dispose()
