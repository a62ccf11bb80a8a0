"""Engine and session factory; created by the application's lifecycle, never at import."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import event
from sqlalchemy.engine import Engine as SyncEngine
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker, create_async_engine

from bot.storage.models import Base

DEFAULT_DATABASE_URL = "sqlite+aiosqlite:///loket.sqlite3"


def make_engine(url: str) -> AsyncEngine:
    if url.startswith("sqlite"):
        path = url.split("///", 1)[-1]
        if path and path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        engine = create_async_engine(url)

        @event.listens_for(engine.sync_engine, "connect")
        def _sqlite_pragmas(connection, _record) -> None:  # type: ignore[no-untyped-def]
            # WAL lets the web console read while the bot writes; foreign keys make
            # ON DELETE CASCADE (used by /hapusdata) actually cascade in SQLite.
            cursor = connection.cursor()
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA synchronous=NORMAL")
            cursor.close()

        return engine
    return create_async_engine(url, pool_pre_ping=True)


def sessions(engine: AsyncEngine) -> async_sessionmaker:  # type: ignore[type-arg]
    return async_sessionmaker(engine, expire_on_commit=False)


async def create_schema(engine: AsyncEngine) -> None:
    """Creates missing tables (the embedded default; migrations come with PostgreSQL)."""
    async with engine.begin() as connection:
        await connection.run_sync(Base.metadata.create_all)


__all__ = ["DEFAULT_DATABASE_URL", "SyncEngine", "create_schema", "make_engine", "sessions"]
