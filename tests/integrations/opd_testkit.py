"""Shared test helpers for the OPD integration tests (imported by conftest and tests).

Named uniquely (not ``conftest``) so ``from opd_testkit import ...`` can never pick up another
directory's conftest module.
"""

from __future__ import annotations

import socket
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, time

from aiohttp import web

from integrations.sandbox import default_tokens, start_sandbox
from integrations.settings import IntegrationSettings, OpdSettings

TEST_TIMEOUT = 0.5
# The sandbox's calendar and the actions' clock in these tests: any day works, because the
# sample schedules are dated from it; a day far from when the tests were written proves it.
SANDBOX_TODAY = date(2031, 3, 14)


def wit(day: date, hour: int, minute: int = 0) -> datetime:
    """A moment on ``day`` at ``hour:minute`` WIT (UTC+9)."""
    from integrations.shapes import WIT

    return datetime.combine(day, time(hour, minute), tzinfo=WIT)


DISTRICTS: dict[str, str] = {
    "94.04.01": "Mimika Baru",
    "94.04.02": "Agimuga",
    "94.04.03": "Mimika Timur",
    "94.04.04": "Mimika Barat",
    "94.04.05": "Jita",
    "94.04.06": "Jila",
    "94.04.07": "Mimika Timur Jauh",
    "94.04.08": "Mimika Tengah",
    "94.04.09": "Kuala Kencana",
    "94.04.10": "Tembagapura",
    "94.04.11": "Mimika Barat Jauh",
    "94.04.12": "Mimika Barat Tengah",
    "94.04.13": "Kwamki Narama",
    "94.04.14": "Hoya",
    "94.04.15": "Iwaka",
    "94.04.16": "Wania",
    "94.04.17": "Amar",
    "94.04.18": "Alama",
}


@dataclass
class FakeClock:
    """A monotonic clock tests move by hand, so cooldowns pass without sleeping."""

    now: float = 1000.0

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@dataclass
class Sandbox:
    app: web.Application
    root: str
    tokens: dict[str, str] = field(default_factory=default_tokens)

    def url(self, opd: str) -> str:
        return f"{self.root}/{opd}"


def make_settings(
    urls: Mapping[str, str],
    tokens: Mapping[str, str] | None = None,
    *,
    timeout: float = TEST_TIMEOUT,
    **overrides: float | int,
) -> IntegrationSettings:
    tokens = tokens or default_tokens()
    return IntegrationSettings(
        opds={
            opd: OpdSettings(
                opd=opd,
                base_url=url,
                token=tokens[opd],
                timeout=timeout,
                connect_timeout=timeout,
                backoff_base=0.02,
                **overrides,  # type: ignore[arg-type]
            )
            for opd, url in urls.items()
        }
    )


async def serve(app: web.Application) -> AsyncIterator[Sandbox]:
    runner, port = await start_sandbox(app)
    try:
        yield Sandbox(app=app, root=f"http://127.0.0.1:{port}")
    finally:
        await runner.cleanup()


def free_closed_port() -> int:
    """A loopback port nobody listens on (bound, then released)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])
