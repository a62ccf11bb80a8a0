"""Two worker processes on one PostgreSQL database race 200 citizens for 20 seats: exactly 20
bookings and 180 refusals, whatever the interleaving (the session row lock across processes,
the unique constraints behind it). SQLite serves one process per file, as docs/deployment.md
says, so this variant is PostgreSQL's."""

from __future__ import annotations

import asyncio
import json
import os
import sys
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.storage.db import sessions
from bot.storage.models import Booking
from tests.booking.conftest import add_citizens

ROOT = Path(__file__).resolve().parents[2]


async def _start(url: str, users: list[int]) -> asyncio.subprocess.Process:
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "tests.booking.race_worker",
        url,
        ",".join(map(str, users)),
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    assert process.stdout is not None
    assert (await asyncio.wait_for(process.stdout.readline(), 60)).strip() == b"ready"
    return process


async def test_two_processes_race_for_the_last_seats(
    engine: AsyncEngine, database_url: str
) -> None:
    if not database_url.startswith("postgresql"):
        pytest.skip("several worker processes need PostgreSQL (docs/deployment.md)")
    users = await add_citizens(engine, 200)
    workers = [await _start(database_url, users[0::2]), await _start(database_url, users[1::2])]
    for worker in workers:  # both are connected and waiting: go
        assert worker.stdin is not None
        worker.stdin.write(b"go\n")
        await worker.stdin.drain()
    outputs = [await asyncio.wait_for(w.communicate(), 120) for w in workers]
    assert [w.returncode for w in workers] == [0, 0]
    counts = [json.loads(out.decode().strip().splitlines()[-1]) for out, _err in outputs]
    assert sum(c.get("booked", 0) for c in counts) == 20
    assert sum(c.get("full", 0) for c in counts) == 180
    async with sessions(engine)() as session:
        assert await session.scalar(select(func.count()).select_from(Booking)) == 20
        numbers = sorted((await session.scalars(select(Booking.number))).all())
    assert numbers == list(range(1, 21))
