"""Fixtures shared by tests/engine, tests/flows and tests/storage (imported by their conftest).

``loket`` is one app per test module and backend (its own SQLite file or PostgreSQL
database, the sandbox running, a fixed clock): each module runs on SQLite, then on
PostgreSQL (tests/support/database.py); tests keep apart by talking as different citizens.
Async tests using it run on the module's event loop: mark them
``@pytest.mark.asyncio(loop_scope="module")``. Tests that move the clock or restart the app
build their own with ``tests.support.app.running_loket``.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
import pytest_asyncio

from bot.app import Loket
from tests.support.app import FakeClock, running_loket
from tests.support.database import PostgresServer, database_for


@pytest.fixture(scope="module")
def module_clock(module_backend: str) -> FakeClock:
    """One clock per module and backend: the PostgreSQL pass starts at the same time."""
    return FakeClock()


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def loket(
    tmp_path_factory: pytest.TempPathFactory,
    module_clock: FakeClock,
    module_backend: str,
    postgres_server: PostgresServer | None,
) -> AsyncIterator[Loket]:
    """Runs the module on SQLite, then again on PostgreSQL (tests/support/database.py)."""
    async with (
        database_for(module_backend, tmp_path_factory.mktemp("loket"), postgres_server) as url,
        running_loket(url, clock=module_clock) as app,
    ):
        yield app
