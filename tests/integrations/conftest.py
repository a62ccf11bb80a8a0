"""Fixtures: a real sandbox on a loopback port and clients configured to reach it."""

from __future__ import annotations

import random
from collections.abc import AsyncIterator, Callable, Iterator

import pytest
from opd_testkit import SANDBOX_TODAY, Sandbox, free_closed_port, make_settings, serve

from bot.i18n import Translator
from integrations import OpdClients
from integrations.sandbox import FaultConfig, create_sandbox_app
from integrations.settings import OPD_NAMES


@pytest.fixture
async def sandbox() -> AsyncIterator[Sandbox]:
    async for served in serve(create_sandbox_app(seed=0, today=SANDBOX_TODAY)):
        yield served


@pytest.fixture
def sandbox_factory() -> Iterator[Callable[..., AsyncIterator[Sandbox]]]:
    """Serves a sandbox with given faults: ``async for sb in sandbox_factory(faults=...)``."""

    def factory(faults: FaultConfig | None = None, seed: int = 0) -> AsyncIterator[Sandbox]:
        return serve(create_sandbox_app(seed=seed, faults=faults, today=SANDBOX_TODAY))

    yield factory


@pytest.fixture
async def clients(sandbox: Sandbox) -> AsyncIterator[OpdClients]:
    settings = make_settings({opd: sandbox.url(opd) for opd in OPD_NAMES})
    async with OpdClients.open(settings, rng=random.Random(1)) as opened:
        yield opened


@pytest.fixture
def translator() -> Translator:
    """Indonesian source strings plus a few English entries, like a partial catalogue."""
    return Translator(
        {
            "en": {
                "Status: {status}": "Status: {status}",
                "Siap diambil": "Ready for pickup",
                "Lunas": "Paid",
                "Belum lunas": "Not paid",
                "Tagihan PBB-P2 tahun {year}": "PBB-P2 tax bill for {year}",
                "{date}, pukul {time} WIT": "{date}, {time} WIT",
            }
        }
    )


@pytest.fixture
def closed_port() -> int:
    return free_closed_port()
