"""Clients for the OPD (agency) backends, opened and closed together.

Usage at start-up::

    settings = load_settings(os.environ)
    async with OpdClients.open(settings) as clients:
        register_actions(registry, clients, translator, districts, now=clock)
        ...  # run the bot

Nothing here touches the network or creates a session at import time; the shared aiohttp
session lives exactly as long as the ``async with`` block.
"""

from __future__ import annotations

import random
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass

import aiohttp

from integrations.bapenda import BapendaClient
from integrations.breaker import Clock
from integrations.dinkes import DinkesClient
from integrations.disdukcapil import DisdukcapilClient
from integrations.disnakertrans import DisnakertransClient
from integrations.errors import BadRequest, InvalidReply, NotFound, OpdError, Unavailable
from integrations.http import OpdHttp, open_session
from integrations.settings import IntegrationSettings, OpdSettings, load_settings

__all__ = [
    "BadRequest",
    "IntegrationSettings",
    "InvalidReply",
    "NotFound",
    "OpdClients",
    "OpdError",
    "OpdSettings",
    "Unavailable",
    "load_settings",
]


@dataclass(frozen=True, slots=True)
class OpdClients:
    """One typed client per configured OPD; ``None`` for an OPD without settings."""

    disdukcapil: DisdukcapilClient | None = None
    disnakertrans: DisnakertransClient | None = None
    dinkes: DinkesClient | None = None
    bapenda: BapendaClient | None = None

    @classmethod
    @asynccontextmanager
    async def open(
        cls,
        settings: IntegrationSettings,
        *,
        clock: Clock = time.monotonic,
        rng: random.Random | None = None,
    ) -> AsyncIterator[OpdClients]:
        """Opens the shared session and builds the clients; closes the session on exit.

        ``clock`` drives the circuit breakers (inject a fake one in tests); ``rng`` the
        retry jitter.
        """
        async with open_session() as session:
            yield cls.build(settings, session, clock=clock, rng=rng)

    @classmethod
    def build(
        cls,
        settings: IntegrationSettings,
        session: aiohttp.ClientSession,
        *,
        clock: Clock = time.monotonic,
        rng: random.Random | None = None,
    ) -> OpdClients:
        """Builds clients on an existing session (the caller owns its lifecycle)."""
        jitter = rng or random.Random()

        def http(opd: str) -> OpdHttp | None:
            opd_settings = settings.get(opd)
            if opd_settings is None:
                return None
            return OpdHttp(opd_settings, session, clock=clock, rng=jitter)

        disdukcapil = http("disdukcapil")
        disnakertrans = http("disnakertrans")
        dinkes = http("dinkes")
        bapenda = http("bapenda")
        return cls(
            disdukcapil=DisdukcapilClient(disdukcapil) if disdukcapil else None,
            disnakertrans=DisnakertransClient(disnakertrans) if disnakertrans else None,
            dinkes=DinkesClient(dinkes) if dinkes else None,
            bapenda=BapendaClient(bapenda) if bapenda else None,
        )
