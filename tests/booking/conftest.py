"""A fresh database (SQLite and PostgreSQL) with citizens, for the booking store tests."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from sqlalchemy import insert
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.storage.db import create_schema, make_engine
from bot.storage.models import User


@pytest.fixture
async def engine(database_url: str) -> AsyncIterator[AsyncEngine]:
    engine = make_engine(database_url)
    await create_schema(engine)
    yield engine
    await engine.dispose()


async def add_citizens(engine: AsyncEngine, count: int) -> list[int]:
    """``count`` Telegram citizens; returns their ids."""
    async with engine.begin() as connection:
        await connection.execute(
            insert(User),
            [{"channel": "telegram", "external_id": str(1000 + i)} for i in range(count)],
        )
    from sqlalchemy import select

    async with engine.connect() as connection:
        return list((await connection.scalars(select(User.id).order_by(User.id))).all())
