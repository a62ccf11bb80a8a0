"""Fixtures every test folder can use: the databases tests run on (tests/support/database.py).

A test (or fixture) that asks for ``database_url`` runs twice, on SQLite and on PostgreSQL;
module-scoped apps ask for ``module_backend`` instead (tests/support/fixtures.py).
"""

from __future__ import annotations

import asyncio
import datetime as dt
import os
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from tests.support.database import (
    BACKENDS,
    PostgresServer,
    database_for,
    postgres_server_from_env,
)

# The masking test (issue 7): every log record of the run is checked for a whole NIK, NOP,
# phone number or bot token; a leak fails the run (tests/observability/leakcheck.py).
pytest_plugins = ["tests.observability.leakcheck"]


def pytest_configure(config: pytest.Config) -> None:
    """Under scripts/test-dates.sh the calendar is moved; a run where it did not move (the
    library not preloaded) would prove nothing, so it stops at once."""
    expected = os.environ.get("LOKET_TEST_FROZEN_DATE")
    if expected and dt.datetime.now(dt.UTC).date().isoformat() != expected:
        raise pytest.UsageError(f"LOKET_TEST_FROZEN_DATE={expected} but today is not that date")


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[PostgresServer | None]:
    """The PostgreSQL of LOKET_TEST_POSTGRES_URL, or None (its test variants then skip)."""
    server = postgres_server_from_env()
    yield server
    if server is not None:
        asyncio.run(server.drop_all())


@pytest.fixture(params=BACKENDS)
async def database_url(
    request: pytest.FixtureRequest, tmp_path: Path, postgres_server: PostgresServer | None
) -> AsyncIterator[str]:
    """A fresh database for one test: a SQLite file, or a new PostgreSQL database at head."""
    async with database_for(request.param, tmp_path, postgres_server) as url:
        yield url


@pytest.fixture(scope="module", params=BACKENDS)
def module_backend(request: pytest.FixtureRequest) -> str:
    """The backend of a module-scoped app: every test of the module runs on each in turn."""
    return str(request.param)
