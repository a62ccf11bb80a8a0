"""Wiring for ``loket run`` on PostgreSQL: the worker registry, the shared broadcast rate and
(in webhook mode) the inbox. On SQLite nothing changes: one process, in-memory ordering."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncEngine

from bot.broadcast.runtime import TelegramBroadcasts
from bot.telegram.webhook import WebhookReceiver
from bot.workers.follow import SharedStateFollower
from bot.workers.inbox import Inbox
from bot.workers.rate import SharedRate
from bot.workers.registry import WorkerRegistry

DEFAULT_INBOX_LOCKS = 20


@dataclass
class Workers:
    registry: WorkerRegistry
    inbox: Inbox | None


def shared_database(engine: AsyncEngine) -> bool:
    """Several workers are possible only on a database they can share (PostgreSQL)."""
    return engine.dialect.name == "postgresql"


@contextlib.asynccontextmanager
async def running_workers(
    engine: AsyncEngine,
    broadcasts: TelegramBroadcasts,
    rate: float,
    receiver: WebhookReceiver | None,
    *,
    env: Mapping[str, str] | None = None,
) -> AsyncIterator[Workers | None]:
    """Registers this worker, shares the broadcast queue and rate with the others, follows
    flow versions published and drafts typed through other workers and, with a webhook
    ``receiver``, routes its updates through the inbox. None on SQLite.

    From ``env``: ``LOKET_INBOX_LOCKS`` (default 20), how many citizens one worker handles at
    once through the inbox, each holding a connection of its own for their lock (see
    docs/deployment.md on max_connections); ``LOKET_WEBHOOK_INBOX=0`` only for a single
    webhook worker on PostgreSQL, which then keeps the in-memory order of one process (and
    the benchmark's comparison): several workers need the inbox."""
    env = env or {}
    inbox = env.get("LOKET_WEBHOOK_INBOX", "1").strip() != "0"
    lock_pool = int(env.get("LOKET_INBOX_LOCKS", "").strip() or DEFAULT_INBOX_LOCKS)
    if not shared_database(engine):
        yield None
        return
    follower = SharedStateFollower(broadcasts.loket, broadcasts.composer)
    async with WorkerRegistry(engine).running() as registry, follower.running():
        broadcasts.service.workers = registry
        broadcasts.pacer.shared = SharedRate(engine, rate)
        if receiver is None or not inbox:
            yield Workers(registry, None)
            return
        shared_inbox = Inbox(engine, receiver.process, lock_pool=lock_pool)
        receiver.inbox = shared_inbox
        async with shared_inbox.running():
            yield Workers(registry, shared_inbox)
