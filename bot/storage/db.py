"""Engine and session factory; created by the application's lifecycle, never at import."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from pathlib import Path
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import Engine as SyncEngine
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker, create_async_engine

from bot.storage.migrate import ensure_schema
from bot.storage.models import CLOCK_OPTION

DEFAULT_DATABASE_URL = "sqlite+aiosqlite:///loket.sqlite3"
SQLITE_BUSY_TIMEOUT = 30.0
# Execution option for a connection that only reads: no BEGIN IMMEDIATE on SQLite. Writing
# through such a connection is a mistake (each statement would commit on its own).
READ_ONLY = "loket_read_only"


def async_url(url: str) -> str:
    """The URL with an async driver: ``postgres://`` and ``postgresql://`` (as hosting
    providers print them) mean asyncpg; anything else is used as given."""
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+asyncpg://" + url[len(prefix) :]
    return url


def _use_wal(cursor: Any) -> None:
    """WAL is a property of the database file, set once by whichever connection comes first.
    Switching needs the file to itself, and SQLite refuses at once ("database is locked",
    no busy wait) while another process holds a transaction, e.g. two workers starting
    together on a new file, one of them migrating. That other connection sets WAL too, so
    the refusal is left alone; any later connection finds the file in WAL already."""
    cursor.execute("PRAGMA journal_mode")
    if str(cursor.fetchone()[0]).lower() == "wal":
        return
    try:
        cursor.execute("PRAGMA journal_mode=WAL")
    except Exception as error:
        if "locked" not in str(error):
            raise


def make_engine(url: str, *, clock: Callable[[], dt.datetime] | None = None) -> AsyncEngine:
    """``clock`` stamps rows (``created_at``...) with the front desk's "now" (see
    bot.storage.models.CLOCK_OPTION); without it they get the wall clock."""
    url = async_url(url)
    options = {CLOCK_OPTION: clock} if clock is not None else {}
    if url.startswith("sqlite"):
        path = url.split("///", 1)[-1]
        if path and path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        # Waiting writers queue for up to 30 s instead of failing after the driver's 5 s.
        engine = create_async_engine(
            url, connect_args={"timeout": SQLITE_BUSY_TIMEOUT}, execution_options=options
        )

        @event.listens_for(engine.sync_engine, "connect")
        def _sqlite_pragmas(connection, _record) -> None:  # type: ignore[no-untyped-def]
            # WAL lets the web console read while the bot writes; foreign keys make
            # ON DELETE CASCADE (used by /hapusdata) actually cascade in SQLite.
            cursor = connection.cursor()
            cursor.execute("PRAGMA foreign_keys=ON")
            _use_wal(cursor)
            cursor.execute("PRAGMA synchronous=NORMAL")
            cursor.close()
            # The driver's own implicit BEGIN is turned off so that "begin" below decides.
            connection.isolation_level = None

        @event.listens_for(engine.sync_engine, "begin")
        def _begin_immediate(connection) -> None:  # type: ignore[no-untyped-def]
            # A deferred transaction that reads, then writes after another connection has
            # committed fails at once with "database is locked" (WAL snapshot conflict).
            # Taking the write lock at BEGIN makes writers queue instead; transactions are
            # kept short (no agency call inside one), so the queue moves quickly.
            # A connection marked READ_ONLY runs each statement on its own (SQLite's
            # autocommit): one SELECT is one consistent snapshot and takes no write lock.
            if not connection.get_execution_options().get(READ_ONLY):
                connection.exec_driver_sql("BEGIN IMMEDIATE")

        return engine
    return create_async_engine(url, pool_pre_ping=True, execution_options=options)


def sessions(engine: AsyncEngine) -> async_sessionmaker:  # type: ignore[type-arg]
    return async_sessionmaker(engine, expire_on_commit=False)


async def create_schema(engine: AsyncEngine) -> None:
    """Brings an empty database to the newest schema through the migrations (tests, benches).

    Not ``create_all``: a database made that way has no revision, and ``open_loket`` would
    then refuse it. A database that is behind raises ``SchemaError`` (bot/storage/migrate.py).
    """
    await ensure_schema(engine)


__all__ = [
    "DEFAULT_DATABASE_URL",
    "READ_ONLY",
    "SyncEngine",
    "async_url",
    "create_schema",
    "make_engine",
    "sessions",
]
