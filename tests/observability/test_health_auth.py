"""GET /healthz against the sandbox when an agency refuses Loket's token (issue 12, item 7).

A 401 or 403 is not a live, working agency: every status check of that OPD will fail until
someone fixes the token, so the health check says unhealthy and why, without the token."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiohttp import web

from bot.app import open_loket
from bot.local import sandbox_env
from bot.observability.service import Observability
from integrations.sandbox import create_sandbox_app, default_tokens, start_sandbox
from integrations.sandbox.faults import FaultConfig
from tests.observability.conftest import serving
from tests.support.app import FakeClock, settings_for

WRONG_TOKEN = "wrong-token-0123456789"  # deliberately not the sandbox token


@asynccontextmanager
async def sandbox(**options: Any) -> AsyncIterator[str]:
    runner, port = await start_sandbox(create_sandbox_app(**options), "127.0.0.1", 0)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        await runner.cleanup()


async def healthz(tmp_path: Path, agencies: dict[str, str]) -> tuple[int, dict[str, Any]]:
    settings = settings_for(tmp_path / "loket.sqlite3")
    async with open_loket(settings, clock=FakeClock(), integration_env=agencies) as loket:
        app = web.Application()
        Observability.for_loket(loket).add_routes(app)
        async with (
            serving(app) as base,
            aiohttp.ClientSession() as session,
            session.get(f"{base}/healthz") as response,
        ):
            return response.status, await response.json()


async def test_a_wrong_token_is_unhealthy_with_the_reason(tmp_path: Path) -> None:
    async with sandbox() as url:
        agencies = {**sandbox_env(url), "BAPENDA_API_TOKEN": WRONG_TOKEN}
        status, body = await healthz(tmp_path, agencies)
    assert status == 503
    assert body["status"] == "unhealthy"
    bapenda = body["checks"]["opd:bapenda"]
    assert bapenda["ok"] is False
    assert bapenda["status"] == 401
    assert bapenda["detail"] == "HTTP 401: token ditolak (periksa BAPENDA_API_TOKEN)"
    # The agencies with the right token are healthy: the probe really sends it.
    for opd in ("disdukcapil", "disnakertrans", "dinkes"):
        assert body["checks"][f"opd:{opd}"]["ok"] is True, body["checks"][f"opd:{opd}"]
    assert WRONG_TOKEN not in str(body) and "http" not in str(body)


async def test_a_forbidden_answer_is_unhealthy_too(tmp_path: Path) -> None:
    async with sandbox(faults=FaultConfig.parse("403", frozenset({"dinkes"}))) as url:
        status, body = await healthz(tmp_path, sandbox_env(url))
    assert status == 503
    dinkes = body["checks"]["opd:dinkes"]
    assert (dinkes["ok"], dinkes["status"]) == (False, 403)
    assert dinkes["detail"] == "HTTP 403: akses ditolak (periksa DINKES_API_TOKEN)"
    assert body["checks"]["opd:bapenda"]["ok"] is True


@pytest.mark.parametrize("opd", ["disdukcapil", "bapenda"])
async def test_an_agency_expecting_another_token_is_unhealthy(tmp_path: Path, opd: str) -> None:
    # The sandbox configured with a different token than Loket's (a rotated token).
    async with sandbox(tokens={**default_tokens(), opd: "rotated-token"}) as url:
        status, body = await healthz(tmp_path, sandbox_env(url))
    assert status == 503
    assert body["checks"][f"opd:{opd}"]["status"] == 401
    assert [name for name, check in body["checks"].items() if not check["ok"]] == [f"opd:{opd}"]
