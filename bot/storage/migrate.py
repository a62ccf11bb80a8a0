"""Schema migrations (Alembic) for SQLite and PostgreSQL, run on the application's own engine.

Why a module of our own around Alembic: the bot must decide at start-up, in one short
transaction, whether the database is usable. A fresh empty database is brought to the newest
revision at once (so ``scripts/start.sh`` stays one command); a database whose revision is
older than the code refuses to start with a message naming ``loket db upgrade``, because
silently altering a production schema while other workers still run the old code is worse
than a clear stop. The migration scripts live in ``bot/storage/migrations`` so that they ship
with the package (no alembic.ini, no working-directory assumptions).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import inspect, text
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.storage.models import Base

MIGRATIONS_DIR = Path(__file__).with_name("migrations")
VERSION_TABLE = "alembic_version"
UPGRADE_COMMAND = "loket db upgrade"
# Any constant shared by every Loket process: two workers starting on an empty PostgreSQL
# database must not both create the tables. (SQLite's BEGIN IMMEDIATE serialises already.)
_PG_LOCK_KEY = 0x4C6F6B6574  # "Loket"


class SchemaError(RuntimeError):
    """The database's schema does not match this version of Loket; the message says why and
    which command fixes it."""


@dataclass(frozen=True, slots=True)
class SchemaStatus:
    """Where a database stands: its revision (None: never migrated) against the code's head."""

    current: str | None
    head: str
    has_tables: bool

    @property
    def up_to_date(self) -> bool:
        return self.current == self.head

    @property
    def empty(self) -> bool:
        return self.current is None and not self.has_tables


def alembic_config(connection: Connection | None = None) -> Config:
    """Alembic's configuration built in code; ``connection`` is what env.py migrates."""
    config = Config()
    # ConfigParser interpolates "%": a checkout under a path containing one must still work.
    config.set_main_option("script_location", str(MIGRATIONS_DIR).replace("%", "%%"))
    if connection is not None:
        config.attributes["connection"] = connection
    return config


def head_revision() -> str:
    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    if head is None:  # pragma: no cover - the package always ships its revisions
        raise SchemaError(f"no migrations found in {MIGRATIONS_DIR}")
    return head


def _lock(connection: Connection) -> None:
    """Serialises migrations between processes on PostgreSQL (released at commit)."""
    if connection.dialect.name == "postgresql":
        connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _PG_LOCK_KEY})


def _status(connection: Connection) -> SchemaStatus:
    heads = MigrationContext.configure(connection).get_current_heads()
    if len(heads) > 1:
        raise SchemaError(f"the database has several schema revisions {heads}: merge them")
    tables = set(inspect(connection).get_table_names()) - {VERSION_TABLE}
    return SchemaStatus(heads[0] if heads else None, head_revision(), bool(tables))


def differences(connection: Connection) -> list[Any]:
    """What differs between the database and ``models.py`` (Alembic autogenerate's diff).

    Empty when the migrations (or whatever built the schema) match the models exactly.
    """
    context = MigrationContext.configure(connection, opts={"compare_type": True})
    return list(compare_metadata(context, Base.metadata))


def _upgrade(connection: Connection, revision: str) -> tuple[str | None, str]:
    _lock(connection)
    before = _status(connection)
    if before.current is None and before.has_tables:
        _adopt_unversioned(connection)
    else:
        command.upgrade(alembic_config(connection), revision)
    return before.current, _status(connection).current or "base"


def _adopt_unversioned(connection: Connection) -> None:
    """A database made by ``create_all`` before migrations existed (loket.sqlite3 of an early
    checkout). If it matches the models exactly it is recorded as being at head; otherwise
    nothing is changed, because guessing which revision it is at could lose data."""
    diff = differences(connection)
    if diff:
        listed = "\n".join(f"  {item}" for item in diff[:20])
        raise SchemaError(
            "the database has tables but no migration revision, and they differ from this "
            f"version's models:\n{listed}\nBack it up and start from an empty database, or "
            "bring it to the models by hand and run `loket db upgrade` again."
        )
    command.stamp(alembic_config(connection), "head")


def _ensure(connection: Connection) -> SchemaStatus:
    _lock(connection)
    status = _status(connection)
    if status.empty:
        command.upgrade(alembic_config(connection), "head")
        return _status(connection)
    if status.up_to_date:
        return status
    known = {
        script.revision
        for script in ScriptDirectory.from_config(alembic_config()).walk_revisions()
    }
    if status.current is not None and status.current not in known:
        raise SchemaError(
            f"the database is at schema revision {status.current}, which this version of "
            "Loket does not know (it was migrated by a newer version): run the newer version"
        )
    raise SchemaError(
        f"the database schema is at revision {status.current or '(none)'}, this version of "
        f"Loket needs {status.head}: run `{UPGRADE_COMMAND}` (after a backup), then start again"
    )


async def ensure_schema(engine: AsyncEngine) -> SchemaStatus:
    """Brings an empty database to head; refuses (``SchemaError``) a database that is behind.

    Called by ``open_loket`` before anything else touches the database.
    """
    async with engine.begin() as connection:
        return await connection.run_sync(_ensure)


async def upgrade(engine: AsyncEngine, revision: str = "head") -> tuple[str | None, str]:
    """Applies the missing migrations in one transaction; returns (revision before, after)."""
    async with engine.begin() as connection:
        return await connection.run_sync(_upgrade, revision)


async def status(engine: AsyncEngine) -> SchemaStatus:
    """The database's revision against the code's head, changing nothing."""
    async with engine.begin() as connection:
        return await connection.run_sync(_status)


__all__ = [
    "UPGRADE_COMMAND",
    "SchemaError",
    "SchemaStatus",
    "differences",
    "ensure_schema",
    "head_revision",
    "status",
    "upgrade",
]
