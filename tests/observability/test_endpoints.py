"""GET /metrics and GET /healthz over real HTTP, on a real Loket with the sandbox agencies."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import aiohttp
import pytest
from aiohttp import web
from sqlalchemy.ext.asyncio import create_async_engine

from bot.app import Loket, open_loket
from bot.observability.health import HealthCheck
from bot.observability.metrics import Registry
from bot.observability.service import LoketMetrics, Observability
from bot.storage.models import Announcement, AnnouncementDelivery, User
from integrations import NotFound
from tests.observability.conftest import serving
from tests.support.app import FakeClock, settings_for


async def _get(url: str) -> tuple[int, str, str]:
    async with aiohttp.ClientSession() as session, session.get(url) as response:
        return response.status, response.headers["Content-Type"], await response.text()


def _samples(text: str) -> dict[str, str]:
    """``name{labels}`` -> value, for every sample line of an exposition."""
    found = {}
    for line in text.splitlines():
        if line and not line.startswith("#"):
            name, _, value = line.rpartition(" ")
            found[name] = value
    return found


async def test_exposition_format() -> None:
    registry = Registry()
    counter = registry.counter("demo_total", "Demo calls.", ("outcome",))
    histogram = registry.histogram("demo_seconds", "Demo time.", buckets=(0.1, 1.0))
    counter.inc(outcome="ok")
    counter.inc(2, outcome='a"b')
    histogram.observe(0.05)
    histogram.observe(0.5)
    histogram.observe(3)
    text = await registry.render()
    assert text.splitlines() == [
        "# HELP demo_total Demo calls.",
        "# TYPE demo_total counter",
        'demo_total{outcome="a\\"b"} 2',
        'demo_total{outcome="ok"} 1',
        "# HELP demo_seconds Demo time.",
        "# TYPE demo_seconds histogram",
        'demo_seconds_bucket{le="0.1"} 1',
        'demo_seconds_bucket{le="1"} 2',
        'demo_seconds_bucket{le="+Inf"} 3',
        "demo_seconds_sum 3.55",
        "demo_seconds_count 3",
    ]
    with pytest.raises(ValueError, match="labels"):
        counter.inc(opd="x")


async def test_metrics_count_agency_calls_by_outcome(loket: Loket) -> None:
    observability = Observability.for_loket(loket)
    app = web.Application()
    observability.add_routes(app)
    assert loket.clients.disdukcapil is not None
    await loket.clients.disdukcapil.application("9404-2026-000101")
    with pytest.raises(NotFound):
        await loket.clients.disdukcapil.application("9404-2026-999999")
    observability.metrics.record_update("text", "ok", 0.03)
    async with serving(app) as base:
        status, content_type, text = await _get(f"{base}/metrics")
    assert status == 200
    assert content_type.startswith("text/plain; version=0.0.4")
    samples = _samples(text)
    assert samples['loket_opd_calls_total{opd="disdukcapil",outcome="ok"}'] == "1"
    assert samples['loket_opd_calls_total{opd="disdukcapil",outcome="not_found"}'] == "1"
    assert samples['loket_opd_call_seconds_count{opd="disdukcapil"}'] == "2"
    assert samples['loket_updates_total{kind="text",outcome="ok"}'] == "1"
    assert samples['loket_update_handling_seconds_bucket{kind="text",le="0.05"}'] == "1"
    assert samples["loket_broadcast_queue_depth"] == "0"
    assert "# TYPE loket_update_handling_seconds histogram" in text


async def test_metrics_show_the_broadcast_queue_and_send_rate(
    loket: Loket, clock: FakeClock
) -> None:
    now = clock()
    async with loket.sessions() as session, session.begin():
        users = [User(channel="telegram", external_id=str(500 + n)) for n in range(6)]
        session.add_all(users)
        announcement = Announcement(
            reference="MMK-TEST", opd="dinkes", text="Imunisasi", status="sending"
        )
        session.add(announcement)
        await session.flush()
        for n, user in enumerate(users):
            sent = n < 2 or n == 5
            session.add(
                AnnouncementDelivery(
                    announcement_id=announcement.id,
                    user_id=user.id,
                    chat_id=user.external_id,
                    status="sent" if sent else "pending",
                    # the last one was sent long ago: outside the one-minute window
                    sent_at=(now - dt.timedelta(seconds=10 if n < 5 else 600)) if sent else None,
                )
            )
    observability = Observability.for_loket(loket)
    app = web.Application()
    observability.add_routes(app)
    async with serving(app) as base:
        _, _, text = await _get(f"{base}/metrics")
    samples = _samples(text)
    assert samples["loket_broadcast_queue_depth"] == "3"
    assert float(samples["loket_broadcast_send_rate"]) == pytest.approx(2 / 60)


async def test_healthz_is_200_when_the_database_and_every_agency_answer(loket: Loket) -> None:
    app = web.Application()
    Observability.for_loket(loket).add_routes(app)
    async with (
        serving(app) as base,
        aiohttp.ClientSession() as session,
        session.get(f"{base}/healthz") as response,
    ):
        assert response.status == 200
        body = await response.json()
    assert body["status"] == "ok"
    assert set(body["checks"]) == {
        "database",
        "opd:disdukcapil",
        "opd:disnakertrans",
        "opd:dinkes",
        "opd:bapenda",
    }
    assert all(check["ok"] for check in body["checks"].values())
    assert body["checks"]["opd:bapenda"]["breaker"] == "closed"
    assert "http" not in str(body)  # no agency URL (or token) in the answer


async def test_healthz_is_503_when_an_agency_is_unreachable(
    tmp_path: Path, closed_port: int
) -> None:
    agencies = {
        "BAPENDA_API_URL": f"http://127.0.0.1:{closed_port}/bapenda",
        "BAPENDA_API_TOKEN": "tok-SECRET",
    }
    settings = settings_for(tmp_path / "loket.sqlite3")
    async with open_loket(settings, clock=FakeClock(), integration_env=agencies) as loket:
        app = web.Application()
        Observability.for_loket(loket).add_routes(app)
        async with (
            serving(app) as base,
            aiohttp.ClientSession() as session,
            session.get(f"{base}/healthz") as response,
        ):
            assert response.status == 503
            body = await response.json()
    assert body["status"] == "unhealthy"
    assert body["checks"]["database"]["ok"] is True
    assert body["checks"]["opd:bapenda"]["ok"] is False
    assert body["checks"]["opd:bapenda"]["detail"].startswith("Client")


async def test_healthz_is_503_when_the_database_is_unreachable(closed_port: int) -> None:
    # A PostgreSQL server that is not there (nothing listens on the port).
    database = create_async_engine(f"postgresql+asyncpg://loket:x@127.0.0.1:{closed_port}/loket")
    try:
        observability = Observability(LoketMetrics(), HealthCheck(database, {}))
        app = web.Application()
        observability.add_routes(app)
        async with serving(app) as base, aiohttp.ClientSession() as session:
            async with session.get(f"{base}/healthz") as response:
                assert response.status == 503
                body = await response.json()
            async with session.get(f"{base}/metrics") as response:
                assert response.status == 200  # counters are still there to read
    finally:
        await database.dispose()
    assert body["status"] == "unhealthy"
    assert body["checks"]["database"]["ok"] is False
    assert body["checks"]["database"]["detail"] in {"ConnectionRefusedError", "OSError"}
