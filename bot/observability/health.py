"""``GET /healthz``: is the database reachable, and is each configured agency (OPD)?

An agency counts as reachable when its server answers HTTP below 500 (the contract has no
health endpoint, so its base URL answering 404 is a live server); a timeout, a refused
connection or a 5xx is not. The probe sends Loket's bearer token, as every real call does: a
401 or 403 means every status check of that agency will fail until the token is fixed (a
misconfiguration, not a live agency), so it is unhealthy too, with the reason. The answer
names each check and never the agencies' URLs or tokens. A slow check cannot hold the answer
up: every probe has its own short deadline.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import aiohttp
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.storage.db import READ_ONLY

DEFAULT_TIMEOUT = 2.0
# The agency refused Loket's credentials: the reason names the setting to fix.
REFUSED = {
    401: "HTTP 401: token ditolak (periksa {setting})",
    403: "HTTP 403: akses ditolak (periksa {setting})",
}


@dataclass(frozen=True, slots=True)
class Probe:
    """One check's answer: ``ok``, how long it took, and why not (a short reason)."""

    ok: bool
    seconds: float
    detail: str = ""
    extra: Mapping[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {"ok": self.ok, "ms": round(self.seconds * 1000, 1)}
        if self.detail:
            data["detail"] = self.detail
        data.update(self.extra)
        return data


class HealthCheck:
    """Checks the database and every OPD in ``opds`` (name -> base URL) concurrently, with
    the bearer token of ``tokens`` (name -> token) where one is given."""

    def __init__(
        self,
        database: AsyncEngine,
        opds: Mapping[str, str],
        *,
        breakers: Mapping[str, Any] | None = None,
        tokens: Mapping[str, str] | None = None,
        timeout: float = DEFAULT_TIMEOUT,
    ) -> None:
        # A read-only connection: on SQLite, no BEGIN IMMEDIATE (no write lock) for a probe.
        self._database = database.execution_options(**{READ_ONLY: True})
        self._opds = dict(opds)
        self._breakers = dict(breakers or {})
        self._tokens = dict(tokens or {})
        self._timeout = timeout

    async def database(self) -> Probe:
        started = time.perf_counter()
        try:
            async with asyncio.timeout(self._timeout), self._database.connect() as connection:
                await connection.execute(text("SELECT 1"))
        except TimeoutError:
            return Probe(False, time.perf_counter() - started, "timeout")
        except Exception as error:  # any driver error means "not reachable"
            return Probe(False, time.perf_counter() - started, type(error).__name__)
        return Probe(True, time.perf_counter() - started)

    async def opd(self, session: aiohttp.ClientSession, name: str, url: str) -> Probe:
        started = time.perf_counter()
        extra: dict[str, Any] = {}
        breaker = self._breakers.get(name)
        if breaker is not None:
            extra["breaker"] = str(breaker.state)
        token = self._tokens.get(name)
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        try:
            async with session.get(
                url,
                headers=headers,
                timeout=aiohttp.ClientTimeout(total=self._timeout),
                allow_redirects=False,
            ) as response:
                status = response.status
        except TimeoutError:
            return Probe(False, time.perf_counter() - started, "timeout", extra)
        except aiohttp.ClientError as error:
            return Probe(False, time.perf_counter() - started, type(error).__name__, extra)
        seconds = time.perf_counter() - started
        if status >= 500:
            return Probe(False, seconds, f"HTTP {status}", extra)
        if status in REFUSED:
            reason = REFUSED[status].format(setting=f"{name.upper()}_API_TOKEN")
            return Probe(False, seconds, reason, {"status": status, **extra})
        return Probe(True, seconds, "", {"status": status, **extra})

    async def check(self) -> tuple[bool, dict[str, Any]]:
        """(healthy, the JSON body): healthy only when every check passed."""
        async with aiohttp.ClientSession(trust_env=False) as session:
            names = list(self._opds)
            database, *opds = await asyncio.gather(
                self.database(), *(self.opd(session, n, self._opds[n]) for n in names)
            )
        checks = {"database": database.to_json()}
        for name, probe in zip(names, opds, strict=True):
            checks[f"opd:{name}"] = probe.to_json()
        healthy = database.ok and all(probe.ok for probe in opds)
        return healthy, {"status": "ok" if healthy else "unhealthy", "checks": checks}
