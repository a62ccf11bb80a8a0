"""Fixtures shared by tests/engine, tests/flows and tests/storage (imported by their conftest).

``loket`` is one app per test module (its own SQLite file, the sandbox running, a fixed
clock); tests keep apart by talking as different citizens. Async tests using it run on the
module's event loop: mark them ``@pytest.mark.asyncio(loop_scope="module")``. Tests that move
the clock or restart the app build their own with ``tests.support.app.running_loket``.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
import pytest_asyncio

from bot.app import Loket
from tests.support.app import FakeClock, running_loket


@pytest.fixture(scope="module")
def module_clock() -> FakeClock:
    return FakeClock()


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def loket(
    tmp_path_factory: pytest.TempPathFactory, module_clock: FakeClock
) -> AsyncIterator[Loket]:
    path = tmp_path_factory.mktemp("loket") / "loket.sqlite3"
    async with running_loket(path, clock=module_clock) as app:
        yield app
