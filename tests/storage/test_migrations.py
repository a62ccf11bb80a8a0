"""Migrations: they build exactly the tables of models.py, on SQLite and on PostgreSQL; an
empty database is brought to head at start-up; one that is behind refuses to start and names
the command that fixes it.

If ``test_the_migrations_build_exactly_the_models`` fails after you changed models.py, write
a migration for your change (docs/database.md, "Changing a table").
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from alembic import command
from alembic.script import ScriptDirectory
from sqlalchemy import inspect, text
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.cli import main
from bot.storage import migrate
from bot.storage.db import make_engine
from bot.storage.migrate import SchemaError
from bot.storage.models import Base
from tests.support.app import FakeClock, running_loket
from tests.support.database import BACKENDS, PostgresServer, database_for


@pytest.fixture(params=BACKENDS)
async def empty_url(
    request: pytest.FixtureRequest, tmp_path: Path, postgres_server: PostgresServer | None
) -> AsyncIterator[str]:
    """A database with no table at all (not even Alembic's), on each backend."""
    async with database_for(request.param, tmp_path, postgres_server, migrated=False) as url:
        yield url


@pytest.fixture
async def empty(empty_url: str) -> AsyncIterator[AsyncEngine]:
    engine = make_engine(empty_url)
    try:
        yield engine
    finally:
        await engine.dispose()


async def tables(engine: AsyncEngine) -> set[str]:
    async with engine.connect() as connection:
        return set(await connection.run_sync(lambda c: inspect(c).get_table_names()))


async def run_alembic(engine: AsyncEngine, name: str, revision: str) -> None:
    """An Alembic command (``downgrade``, ``stamp``...) on the engine, in one transaction."""

    def run(connection):  # type: ignore[no-untyped-def]
        getattr(command, name)(migrate.alembic_config(connection), revision)

    async with engine.begin() as connection:
        await connection.run_sync(run)


async def test_the_migrations_build_exactly_the_models(empty: AsyncEngine) -> None:
    """Alembic's autogenerate finds nothing to add, drop or change after upgrading to head."""
    before, after = await migrate.upgrade(empty)
    assert (before, after) == (None, migrate.head_revision())
    async with empty.connect() as connection:
        diff = await connection.run_sync(migrate.differences)
    assert diff == [], (
        "models.py and the migrations disagree; write a migration for the change "
        f"(docs/database.md, 'Changing a table'). Differences: {diff}"
    )
    assert set(Base.metadata.tables) | {migrate.VERSION_TABLE} == await tables(empty)


async def test_the_check_notices_a_table_that_has_no_migration(empty: AsyncEngine) -> None:
    """The comparison has teeth: a table of the models missing from the database is named."""
    await migrate.upgrade(empty)
    async with empty.begin() as connection:
        await connection.execute(text("DROP TABLE broadcast_inactive"))
    async with empty.connect() as connection:
        diff = await connection.run_sync(migrate.differences)
    assert [(d[0], d[1].name) for d in diff] == [("add_table", "broadcast_inactive")]


async def test_downgrade_to_base_removes_every_table_and_upgrade_rebuilds_them(
    empty: AsyncEngine,
) -> None:
    await migrate.upgrade(empty)
    await run_alembic(empty, "downgrade", "base")
    assert await tables(empty) <= {migrate.VERSION_TABLE}
    assert (await migrate.status(empty)).current is None
    await migrate.upgrade(empty)
    assert (await migrate.status(empty)).up_to_date


async def test_an_empty_database_is_brought_to_head_when_the_bot_starts(
    empty_url: str,
) -> None:
    async with running_loket(empty_url, clock=FakeClock(), sandbox=False) as app:
        status = await migrate.status(app.database)
    assert status.current == migrate.head_revision()


async def test_two_processes_starting_on_an_empty_database_migrate_it_once(
    empty_url: str,
) -> None:
    """Several workers may start together on a new database: one migrates, the other waits
    (advisory lock on PostgreSQL, BEGIN IMMEDIATE on SQLite) and then finds it at head."""
    engines = [make_engine(empty_url), make_engine(empty_url)]
    try:
        results = await asyncio.gather(*(migrate.ensure_schema(e) for e in engines))
    finally:
        for engine in engines:
            await engine.dispose()
    assert all(result.up_to_date for result in results)


async def test_a_database_behind_refuses_to_start_and_names_the_command(
    empty_url: str,
) -> None:
    """Tables, but an older revision (here: none recorded) -> no start, `loket db upgrade`."""
    engine = make_engine(empty_url)
    try:
        async with engine.begin() as connection:
            await connection.execute(text("CREATE TABLE users (id INTEGER PRIMARY KEY)"))
    finally:
        await engine.dispose()
    with pytest.raises(SchemaError, match="run `loket db upgrade`"):
        async with running_loket(empty_url, clock=FakeClock(), sandbox=False):
            pass


async def test_a_database_one_revision_behind_refuses_then_db_upgrade_fixes_it(
    empty_url: str,
) -> None:
    """The real upgrade path: a database left at the previous revision by the last release."""
    script = ScriptDirectory.from_config(migrate.alembic_config())
    previous = script.get_revision(migrate.head_revision()).down_revision
    if previous is None:  # pragma: no cover - only while a single revision exists
        pytest.skip("one revision only")
    assert isinstance(previous, str)
    engine = make_engine(empty_url)
    try:
        await migrate.upgrade(engine, previous)
    finally:
        await engine.dispose()
    with pytest.raises(SchemaError, match=f"at revision {previous}.*run `loket db upgrade`"):
        async with running_loket(empty_url, clock=FakeClock(), sandbox=False):
            pass
    engine = make_engine(empty_url)
    try:
        assert await migrate.upgrade(engine) == (previous, migrate.head_revision())
    finally:
        await engine.dispose()
    async with running_loket(empty_url, clock=FakeClock(), sandbox=False) as app:
        assert (await migrate.status(app.database)).up_to_date


async def test_a_database_from_a_newer_version_refuses_to_start(empty: AsyncEngine) -> None:
    await migrate.upgrade(empty)
    async with empty.begin() as connection:
        await connection.execute(text("UPDATE alembic_version SET version_num = 'f00d'"))
    with pytest.raises(SchemaError, match="newer version"):
        await migrate.ensure_schema(empty)


async def test_a_database_made_before_migrations_is_adopted_by_db_upgrade(
    empty: AsyncEngine,
) -> None:
    """An early checkout's loket.sqlite3 (create_all, no revision) that matches the models."""
    async with empty.begin() as connection:
        await connection.run_sync(Base.metadata.create_all)
    with pytest.raises(SchemaError, match="loket db upgrade"):
        await migrate.ensure_schema(empty)
    assert await migrate.upgrade(empty) == (None, migrate.head_revision())
    assert (await migrate.ensure_schema(empty)).up_to_date


async def test_an_unversioned_database_that_differs_is_left_alone(empty: AsyncEngine) -> None:
    async with empty.begin() as connection:
        await connection.execute(text("CREATE TABLE users (id INTEGER PRIMARY KEY)"))
    with pytest.raises(SchemaError, match="differ from this version's models"):
        await migrate.upgrade(empty)
    assert await tables(empty) == {"users"}


def test_cli_db_current_and_upgrade(
    empty_url: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.chdir(tmp_path)  # no developer's .env
    monkeypatch.setenv("DATABASE_URL", empty_url)
    head = migrate.head_revision()

    assert main(["db", "current"]) == 0
    out = capsys.readouterr().out
    assert "revision  (none)" in out and f"newest    {head}" in out and "empty" in out
    assert ":loket@" not in out  # the password of a PostgreSQL URL is hidden

    assert main(["db", "upgrade"]) == 0
    assert f"to {head}" in capsys.readouterr().out
    assert main(["db", "upgrade"]) == 0
    assert "already at the newest" in capsys.readouterr().out
    assert main(["db", "current"]) == 0
    assert "up to date" in capsys.readouterr().out


def test_cli_db_reports_an_unreachable_database_without_a_traceback(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    # Port 1 on loopback: nothing listens, the connection is refused at once.
    monkeypatch.setenv("DATABASE_URL", "postgresql://loket:secret@127.0.0.1:1/loket")
    assert main(["db", "current"]) == 1
    err = capsys.readouterr().err
    assert "cannot use the database" in err
    assert "Traceback" not in err and "secret" not in err
