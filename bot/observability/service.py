"""Loket's metrics, health check and per-update observer, built for one running bot.

``loket run`` builds one :class:`Observability` next to the Loket it serves, hands
``observability.updates`` to the Telegram Application, and serves ``GET /healthz`` and
``GET /metrics`` from its web app (:meth:`Observability.add_routes`). Nothing is global: two
bots in one process (the tests) have two registries.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
from collections.abc import Callable, Iterable, Mapping
from typing import TYPE_CHECKING, Any

from aiohttp import web
from sqlalchemy import func, or_, select
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.observability.health import HealthCheck
from bot.observability.metrics import CONTENT_TYPE, Registry
from bot.observability.updates import UpdateObserver
from bot.storage.db import READ_ONLY
from bot.storage.models import Announcement, AnnouncementDelivery, utcnow
from bot.storage.repo import as_utc

if TYPE_CHECKING:
    from bot.app import Loket

logger = logging.getLogger(__name__)
HEALTH_PATH = "/healthz"
METRICS_PATH = "/metrics"
# The broadcast send rate is averaged over this window (a scrape every 15-60 s sees it move).
RATE_WINDOW = dt.timedelta(seconds=60)
_ACTIVE = ("scheduled", "sending")


class LoketMetrics:
    """The metric families Loket exports (names follow Prometheus conventions)."""

    def __init__(
        self,
        database: AsyncEngine | None = None,
        *,
        clock: Callable[[], dt.datetime] = utcnow,
    ) -> None:
        self.registry = Registry()
        self._clock = clock
        self.updates = self.registry.counter(
            "loket_updates_total",
            "Telegram updates handled, by kind and outcome (ok, error, dropped).",
            ("kind", "outcome"),
        )
        self.update_seconds = self.registry.histogram(
            "loket_update_handling_seconds",
            "Time to handle one update, from its turn to its last reply.",
            ("kind",),
        )
        self.opd_calls = self.registry.counter(
            "loket_opd_calls_total",
            "Calls to the agencies' systems, by OPD and outcome (ok or the failure reason).",
            ("opd", "outcome"),
        )
        self.opd_seconds = self.registry.histogram(
            "loket_opd_call_seconds", "Duration of one agency call, retries included.", ("opd",)
        )
        self._database = (
            database.execution_options(**{READ_ONLY: True}) if database is not None else None
        )
        if self._database is not None:
            self.registry.gauge(
                "loket_broadcast_queue_depth",
                "Announcement messages waiting to be sent (pending or being sent).",
                self._queue_depth,
            )
            self.registry.gauge(
                "loket_broadcast_send_rate",
                "Announcement messages sent per second over the last minute (all workers).",
                self._send_rate,
            )

    def record_update(self, kind: str, outcome: str, seconds: float) -> None:
        self.updates.inc(kind=kind, outcome=outcome)
        self.update_seconds.observe(seconds, kind=kind)

    def record_opd_call(self, opd: str, outcome: str, seconds: float) -> None:
        self.opd_calls.inc(opd=opd, outcome=outcome)
        self.opd_seconds.observe(seconds, opd=opd)

    async def _queue_depth(self) -> Iterable[tuple[dict[str, str], float]]:
        assert self._database is not None
        async with self._database.connect() as connection:
            depth = await connection.scalar(
                select(func.count())
                .select_from(AnnouncementDelivery)
                .join(Announcement, Announcement.id == AnnouncementDelivery.announcement_id)
                .where(
                    Announcement.status.in_(_ACTIVE),
                    AnnouncementDelivery.status.in_(("pending", "sending")),
                )
            )
        return [({}, float(depth or 0))]

    async def _send_rate(self) -> Iterable[tuple[dict[str, str], float]]:
        assert self._database is not None
        since = as_utc(self._clock() - RATE_WINDOW)
        async with self._database.connect() as connection:
            sent = await connection.scalar(
                select(func.count())
                .select_from(AnnouncementDelivery)
                .join(Announcement, Announcement.id == AnnouncementDelivery.announcement_id)
                .where(
                    # Only announcements that may have sent lately: the (announcement, status)
                    # index does the rest, however many old deliveries there are.
                    or_(Announcement.status.in_(_ACTIVE), Announcement.finished_at >= since),
                    AnnouncementDelivery.status == "sent",
                    AnnouncementDelivery.sent_at >= since,
                )
            )
        return [({}, float(sent or 0) / RATE_WINDOW.total_seconds())]


class Observability:
    """Metrics, the health check and the update observer of one running Loket."""

    def __init__(self, metrics: LoketMetrics, health: HealthCheck) -> None:
        self.metrics = metrics
        self.health = health
        self.updates = UpdateObserver(metrics.record_update)

    @classmethod
    def for_loket(cls, loket: Loket) -> Observability:
        """Builds it for ``loket`` and hooks its agency clients' calls into the metrics."""
        metrics = LoketMetrics(loket.database, clock=loket.clock)
        # Issue 15: handoff rate, ticket counts and response/close times per OPD.
        from bot.handoff.analytics import register_metrics

        register_metrics(metrics.registry, loket)
        https = _opd_https(loket.clients)
        for http in https.values():
            http.observe(metrics.record_opd_call)
        health = HealthCheck(
            loket.database,
            {name: opd.base_url for name, opd in loket.integrations.opds.items()},
            breakers={name: http.breaker for name, http in https.items()},
            # The probe carries the token: a refused one (401/403) is unhealthy (issue 12).
            tokens={name: opd.token for name, opd in loket.integrations.opds.items()},
        )
        return cls(metrics, health)

    async def healthz(self, _request: web.Request) -> web.Response:
        healthy, body = await self.health.check()
        if not healthy:
            logger.warning("health check failed: %s", json.dumps(body["checks"]))
        return web.json_response(body, status=200 if healthy else 503)

    async def metrics_text(self, _request: web.Request) -> web.Response:
        body = await self.metrics.registry.render()
        return web.Response(body=body.encode(), headers={"Content-Type": CONTENT_TYPE})

    def add_routes(self, app: web.Application) -> None:
        app.router.add_get(HEALTH_PATH, self.healthz)
        app.router.add_get(METRICS_PATH, self.metrics_text)


def _opd_https(clients: Any) -> Mapping[str, Any]:
    """The shared HTTP helper (``integrations.http.OpdHttp``) of each configured OPD."""
    found = {}
    for name in ("disdukcapil", "disnakertrans", "dinkes", "bapenda"):
        client = getattr(clients, name, None)
        if client is not None:
            found[name] = client.http
    return found
