"""Alembic's environment: always called by bot.storage.migrate with an open connection.

There is no alembic.ini and no URL here: ``bot.storage.migrate`` opens the application's
own engine (``make_engine``: SQLite pragmas, BEGIN IMMEDIATE, asyncpg) and hands Alembic a
connection inside one transaction, so a migration that fails leaves nothing half-applied
(both SQLite and PostgreSQL run DDL in transactions).
"""

from __future__ import annotations

from alembic import context

from bot.storage.models import Base

config = context.config
connection = config.attributes.get("connection")
if connection is None:  # pragma: no cover - only reached by calling the alembic CLI directly
    raise RuntimeError("run migrations through `loket db upgrade` (bot.storage.migrate)")

context.configure(
    connection=connection,
    target_metadata=Base.metadata,
    # SQLite cannot ALTER most things in place: batch mode copies the table instead.
    render_as_batch=connection.dialect.name == "sqlite",
    compare_type=True,
)
with context.begin_transaction():
    context.run_migrations()
