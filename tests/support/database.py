"""The databases tests run on: a SQLite file, and PostgreSQL when the environment offers one.

The storage, conversation, notification and broadcast tests take their database URL from the
``database_url`` fixture (or ``backend_database`` for module-scoped apps), parametrised over
``sqlite`` and ``postgresql``: the same test runs on both.

PostgreSQL comes from ``LOKET_TEST_POSTGRES_URL`` (a role allowed to CREATE DATABASE, e.g.
``postgresql+asyncpg://loket:loket@127.0.0.1:5432/loket_test``; ``.ci/run`` starts one).
Without it the PostgreSQL variants are skipped, unless ``LOKET_REQUIRE_POSTGRES=1`` (CI),
which makes them fail instead: CI must never pass by skipping them.

Each PostgreSQL test gets a database of its own with no rows: copied from a template that
was migrated to head once per test session (``CREATE DATABASE ... TEMPLATE``), or one an
earlier test used, emptied (see ``PostgresServer``).
"""

from __future__ import annotations

import itertools
import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import asyncpg
import pytest
from sqlalchemy.engine import URL, make_url

from bot.storage.db import make_engine
from bot.storage.migrate import VERSION_TABLE, ensure_schema, head_revision
from bot.storage.models import Base

POSTGRES_URL_ENV = "LOKET_TEST_POSTGRES_URL"
REQUIRE_POSTGRES_ENV = "LOKET_REQUIRE_POSTGRES"
BACKENDS = ("sqlite", "postgresql")
# Databases made by this process start with this prefix; ones of a dead process are dropped.
_PREFIX = "loket_t"


class PostgresServer:
    """Hands one database per test on the server of ``LOKET_TEST_POSTGRES_URL``.

    A database at head is made from the template once, and after its test it is emptied
    (every row deleted, sequences reset: about 25 ms, against 150-350 ms for a new database)
    and handed to a later test; one that cannot be trusted (a connection left open, tables
    or revision changed) is dropped instead. Holds no connection between calls: each call
    opens its own, so the object can be used from any test's event loop.
    """

    def __init__(self, url: str) -> None:
        self.url: URL = make_url(url).set(drivername="postgresql+asyncpg")
        self.template = f"{_PREFIX}_{os.getpid()}_template"
        self._names = itertools.count(1)
        self._template_ready = False
        self._clean: list[str] = []  # databases at head with no rows, ready for a test

    def url_for(self, database: str) -> str:
        return self.url.set(database=database).render_as_string(hide_password=False)

    async def _admin(self, database: str | None = None) -> asyncpg.Connection:
        return await asyncpg.connect(
            user=self.url.username,
            password=self.url.password,
            host=self.url.host or "127.0.0.1",
            port=self.url.port or 5432,
            database=database or self.url.database or "postgres",
        )

    async def _prepare_template(self) -> None:
        """Drops what dead test runs left, then migrates a template database to head."""
        connection = await self._admin()
        try:
            names = await connection.fetch(
                "SELECT datname FROM pg_database WHERE datname LIKE $1", f"{_PREFIX}\\_%"
            )
            for (name,) in names:
                if not _owner_alive(name):
                    await connection.execute(f'DROP DATABASE IF EXISTS "{name}"')
            await connection.execute(f'CREATE DATABASE "{self.template}"')
        finally:
            await connection.close()
        engine = make_engine(self.url_for(self.template))
        try:
            await ensure_schema(engine)
        finally:
            await engine.dispose()

    async def create(self, *, migrated: bool = True) -> str:
        """A database at head with no rows (or with no table at all, for the migration
        tests); returns its URL."""
        if migrated and self._clean:
            return self.url_for(self._clean.pop())
        # Made by the first test that needs it (tests of one session run one at a time).
        if not self._template_ready:
            await self._prepare_template()
            self._template_ready = True
        name = f"{_PREFIX}_{os.getpid()}_{next(self._names)}"
        template = self.template if migrated else "template0"
        connection = await self._admin()
        try:
            await connection.execute(f'CREATE DATABASE "{name}" TEMPLATE "{template}"')
        finally:
            await connection.close()
        return self.url_for(name)

    async def release(self, url: str, *, migrated: bool = True) -> None:
        """After a test: empties the database for the next one, or drops it."""
        name = make_url(url).database
        assert name is not None
        if migrated and await self._empty(name):
            self._clean.append(name)
        else:
            await self.drop(url)

    async def _empty(self, name: str) -> bool:
        """Deletes every row if the database is still exactly as the template made it."""
        connection = await self._admin(name)
        try:
            others = await connection.fetchval(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                "AND pid <> pg_backend_pid() AND backend_type = 'client backend'"
            )
            tables = {
                row[0]
                for row in await connection.fetch(
                    "SELECT tablename FROM pg_tables WHERE schemaname = 'public'"
                )
            }
            if others or tables != {*Base.metadata.tables, VERSION_TABLE}:
                return False
            if await connection.fetchval("SELECT version_num FROM alembic_version") != (
                head_revision()
            ):
                return False
            sequences = [
                row[0]
                for row in await connection.fetch(
                    "SELECT sequencename FROM pg_sequences WHERE schemaname = 'public'"
                )
            ]
            # Children before parents; one implicit transaction (simple query protocol). The
            # names come from the models and the database's catalogue, not from input.
            deletes = [f'DELETE FROM "{t.name}";' for t in reversed(Base.metadata.sorted_tables)]  # noqa: S608
            resets = [f"SELECT setval('\"{q}\"', 1, false);" for q in sequences]
            await connection.execute("".join(deletes + resets))
            return True
        finally:
            await connection.close()

    async def drop(self, url: str) -> None:
        name = make_url(url).database
        connection = await self._admin()
        try:
            # Plain DROP first: it also stops an autovacuum worker busy in the database, which
            # FORCE may not (a non-superuser may not terminate it). FORCE is for a connection
            # that a failed test left open.
            try:
                await connection.execute(f'DROP DATABASE IF EXISTS "{name}"')
            except asyncpg.ObjectInUseError:
                await connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        finally:
            await connection.close()

    async def drop_all(self) -> None:
        """At the end of the session: the emptied databases and the template."""
        while self._clean:
            await self.drop(self.url_for(self._clean.pop()))
        if self._template_ready:
            await self.drop(self.url_for(self.template))


def _owner_alive(name: str) -> bool:
    """Whether the test process that created database ``name`` is still running."""
    try:
        pid = int(name.split("_")[2])
    except (IndexError, ValueError):
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def postgres_server_from_env() -> PostgresServer | None:
    url = os.environ.get(POSTGRES_URL_ENV, "").strip()
    return PostgresServer(url) if url else None


def require_backend(backend: str, server: PostgresServer | None) -> None:
    """Skips (locally) or fails (CI) a PostgreSQL variant when no server is configured."""
    if backend != "postgresql" or server is not None:
        return
    message = f"PostgreSQL variant: set {POSTGRES_URL_ENV} (see docs/database.md)"
    if os.environ.get(REQUIRE_POSTGRES_ENV) == "1":
        pytest.fail(f"{REQUIRE_POSTGRES_ENV}=1 but {POSTGRES_URL_ENV} is not set: {message}")
    pytest.skip(message)


@asynccontextmanager
async def database_for(
    backend: str, directory: Path, server: PostgresServer | None, *, migrated: bool = True
) -> AsyncIterator[str]:
    """A fresh database URL of ``backend``: a SQLite file in ``directory`` (created empty by
    the first connection; ``open_loket`` migrates it), or a new PostgreSQL database, already
    at head unless ``migrated`` is false, dropped on exit."""
    require_backend(backend, server)
    if backend == "sqlite":
        yield f"sqlite+aiosqlite:///{directory / 'loket.sqlite3'}"
        return
    assert server is not None
    url = await server.create(migrated=migrated)
    try:
        yield url
    finally:
        await server.release(url, migrated=migrated)
