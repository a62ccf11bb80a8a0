"""A real Loket for tests: temp SQLite file, injectable clock, optional in-process sandbox."""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import func, inspect, select, table, text

from bot.app import Loket, build_registry, known_names, open_loket
from bot.flows.loader import FLOWS_DIR, KnownNames, load_flow_set
from bot.flows.model import FlowSet
from bot.i18n import Translator
from bot.local import integration_env
from bot.region import load_region
from bot.settings import Settings
from integrations import OpdClients
from integrations.shapes import WIT

# Tuesday 1 December 2026, 10:00 WIT: a working day, offices open.
START = dt.datetime(2026, 12, 1, 1, 0, tzinfo=dt.UTC)


class FakeClock:
    """The front desk's clock; tests move it instead of sleeping."""

    def __init__(self, start: dt.datetime = START) -> None:
        self.now = start

    def __call__(self) -> dt.datetime:
        return self.now

    def advance(self, **delta: float) -> dt.datetime:
        self.now += dt.timedelta(**delta)
        return self.now


def settings_for(db_path: Path | str, **env: str) -> Settings:
    """Settings isolated from the developer's environment and .env file.

    ``db_path`` is a SQLite file, or a database URL (the ``database_url`` fixture's, which
    may be PostgreSQL: tests/support/database.py).
    """
    url = db_path if isinstance(db_path, str) else f"sqlite+aiosqlite:///{db_path}"
    return Settings.from_env({"DATABASE_URL": url, **env})


@asynccontextmanager
async def running_loket(
    db_path: Path | str, *, clock: FakeClock | None = None, sandbox: bool = True, **env: str
) -> AsyncIterator[Loket]:
    """open_loket on ``db_path``; with ``sandbox`` the agencies' sandbox runs in-process
    (seeded numbers: integrations/sandbox/README.md), without it every agency is unconfigured
    and its actions answer "unavailable"."""
    settings = settings_for(db_path, **env)
    clock = clock or FakeClock()
    if sandbox:
        async with (
            # The sandbox's calendar is the bot's: its schedules are dated from the fake day.
            integration_env({}, today=clock().astimezone(WIT).date()) as agencies,
            open_loket(settings, clock=clock, integration_env=agencies) as loket,
        ):
            yield loket
    else:
        async with open_loket(settings, clock=clock, integration_env={}) as loket:
            yield loket


def offline_known() -> KnownNames:
    """The names flows may use, without a database or agency connection (like the CLI)."""
    settings = Settings.from_env({})
    region = load_region(settings.region_file)
    registry = build_registry(region, Translator.load(), OpdClients(), None)
    return known_names(registry, region)


def project_flow_set() -> FlowSet:
    """The project's own flow set, checked like at start-up."""
    return load_flow_set(FLOWS_DIR, offline_known())


async def count(loket: Loket, model: Any, *where: Any) -> int:
    async with loket.sessions() as session:
        return await session.scalar(select(func.count()).select_from(model).where(*where)) or 0


async def rows(loket: Loket, model: Any, *where: Any, order_by: Any = None) -> list[Any]:
    statement = select(model).where(*where)
    if order_by is not None:
        statement = statement.order_by(order_by)
    async with loket.sessions() as session:
        return list((await session.scalars(statement)).all())


async def table_names(loket: Loket) -> set[str]:
    """The tables in the app's database, on any backend (SQLite or PostgreSQL)."""
    async with loket.database.connect() as connection:
        return set(await connection.run_sync(lambda c: inspect(c).get_table_names()))


async def all_rows(loket: Loket) -> dict[str, list[Any]]:
    """Every row of every table in the app's database, by table name (any backend)."""
    found: dict[str, list[Any]] = {}
    names = sorted(await table_names(loket))
    async with loket.database.connect() as connection:
        for name in names:
            result = await connection.execute(select(text("*")).select_from(table(name)))
            found[name] = list(result.all())
    return found
