"""The retention period (bot/retention.py) on a real database, with an injected clock: what
passes RETENTION_DAYS goes, what a citizen still needs stays, and the job runs daily."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from bot.app import Loket
from bot.cli import main as cli_main
from bot.engine.state import ConversationState
from bot.retention import RetentionJob, apply_retention
from bot.storage import repo
from bot.storage.models import (
    CitizenRequest,
    Conversation,
    Event,
    Role,
    Subscription,
    UnmatchedQuestion,
    User,
)
from tests.support.app import START, FakeClock, running_loket

NIK = "9109014107950001"
DAY = dt.timedelta(days=1)


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
async def loket(database_url: str, clock: FakeClock) -> AsyncIterator[Loket]:
    async with running_loket(database_url, clock=clock, sandbox=False) as app:
        yield app


async def _citizen(
    loket: Loket,
    name: str,
    *,
    at: dt.datetime,
    subscribed: bool = False,
    staff: bool = False,
    state: ConversationState | None = None,
) -> int:
    """A citizen last seen ``at``, with an event, a question and a complaint of that day."""
    async with loket.sessions() as session, session.begin():
        user = User(channel="telegram", external_id=name, created_at=at, last_seen_at=at)
        session.add(user)
        await session.flush()
        session.add(Event(user_id=user.id, at=at, kind="step", step="start"))
        session.add(UnmatchedQuestion(user_id=user.id, at=at, locale="id", text="apa ini"))
        session.add(
            CitizenRequest(
                reference=f"ADU-{name}", user_id=user.id, kind="complaint", created_at=at
            )
        )
        state = state or ConversationState(expires_at=at + dt.timedelta(minutes=30))
        session.add(
            Conversation(
                user_id=user.id, state=state.to_json(), expires_at=state.expires_at, updated_at=at
            )
        )
        if subscribed:
            session.add(Subscription(user_id=user.id, district="mimika-baru", topics="kesehatan"))
        if staff:
            session.add(Role(user_id=user.id, role="admin"))
        return user.id


async def _counts(loket: Loket, user_id: int) -> dict[str, int]:
    async with loket.sessions() as session:
        return await repo.count_rows_for_user(session, user_id)


async def _state(loket: Loket, user_id: int) -> ConversationState | None:
    async with loket.sessions() as session:
        return await repo.load_state(session, user_id)


async def test_records_past_the_period_go_and_what_is_needed_stays(
    loket: Loket, clock: FakeClock
) -> None:
    old = START
    now = START + 100 * DAY
    recent = now - 5 * DAY
    gone = await _citizen(loket, "gone", at=old)
    subscribed = await _citizen(loket, "subscribed", at=old, subscribed=True)
    staff = await _citizen(loket, "staff", at=old, staff=True)
    # Recent, waiting for a NIK answer, expired an hour ago: the typed values are purged.
    waiting = ConversationState(
        step="disdukcapil.ktp_status.ask_nik",
        context={"nik": NIK},
        offered=["n:menu"],
        expires_at=now - dt.timedelta(hours=1),
        intent="disdukcapil.ktp_status",
    )
    expired = await _citizen(loket, "expired", at=recent, state=waiting)
    # Recent and still within the 30 minutes: nothing of it is touched.
    live_state = ConversationState(
        step="disdukcapil.ktp_status.ask_nik",
        context={"nik": NIK},
        expires_at=now + dt.timedelta(minutes=10),
    )
    live = await _citizen(loket, "live", at=recent, state=live_state)

    report = await apply_retention(loket.sessions, now=now, days=90)

    assert report.to_json() == {
        "events": 3,  # of gone, subscribed and staff: 100 days old
        "unmatched_questions": 3,
        "citizen_requests": 3,
        "conversations": 3,
        "contexts_purged": 1,  # expired's
        "users_erased": 1,  # gone: nothing kept on their behalf
        "tickets": 0,  # none here: tests/handoff/test_tickets.py
        "bookings": 0,  # tests/booking/test_data_protection.py
    }
    assert (await _counts(loket, gone))["users"] == 0
    for kept in (subscribed, staff):
        counts = await _counts(loket, kept)
        assert counts["users"] == 1
        assert counts["events"] == counts["unmatched_questions"] == 0
        assert counts["citizen_requests"] == counts["conversations"] == 0
    assert (await _counts(loket, subscribed))["subscriptions"] == 1
    assert (await _counts(loket, staff))["roles"] == 1
    for young in (expired, live):
        counts = await _counts(loket, young)
        assert counts["events"] == counts["unmatched_questions"] == 1
        assert counts["citizen_requests"] == counts["conversations"] == 1
    purged = await _state(loket, expired)
    assert purged is not None
    assert purged.context == {} and purged.offered == []
    # The step stays, so the citizen coming back is told the conversation ended.
    assert purged.step == waiting.step and purged.intent == waiting.intent
    assert await _state(loket, live) == live_state

    again = await apply_retention(loket.sessions, now=now, days=90)
    assert again.total == 0  # idempotent: several workers may run it


async def test_the_period_is_configurable(loket: Loket) -> None:
    user = await _citizen(loket, "tenth-day", at=START, subscribed=True)
    assert (await apply_retention(loket.sessions, now=START + 9 * DAY, days=10)).events == 0
    assert (await apply_retention(loket.sessions, now=START + 11 * DAY, days=10)).events == 1
    assert (await _counts(loket, user))["events"] == 0
    with pytest.raises(ValueError, match="RETENTION_DAYS"):
        await apply_retention(loket.sessions, now=START, days=0)


class ManualSleep:
    """The job's sleep: each call waits until the test lets it go (no real waiting)."""

    def __init__(self) -> None:
        self.calls: asyncio.Queue[tuple[float, asyncio.Future[None]]] = asyncio.Queue()

    async def __call__(self, seconds: float) -> None:
        done: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        await self.calls.put((seconds, done))
        await done

    async def next(self) -> tuple[float, asyncio.Future[None]]:
        return await asyncio.wait_for(self.calls.get(), 10)


async def test_the_job_runs_at_start_and_then_daily(loket: Loket, clock: FakeClock) -> None:
    user = await _citizen(loket, "daily", at=START, subscribed=True)
    sleep = ManualSleep()
    job = RetentionJob(loket.sessions, 90, clock=clock, sleep=sleep)
    async with job.running():
        seconds, first = await sleep.next()  # the run at start is done
        assert seconds == DAY.total_seconds() and job.runs == 1
        assert (await _counts(loket, user))["events"] == 1  # 0 days old
        clock.advance(days=91)
        first.set_result(None)
        _, second = await sleep.next()
        assert job.runs == 2
        assert (await _counts(loket, user))["events"] == 0
    assert second.cancelled()  # the job stopped with the block


async def test_loket_retention_run_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'cli.sqlite3'}"
    long_ago = dt.datetime.now(dt.UTC) - 400 * DAY
    async with running_loket(url, sandbox=False) as app:
        await _citizen(app, "cli", at=long_ago)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("DATABASE_URL", url)
    monkeypatch.setenv("RETENTION_DAYS", "365")
    assert await asyncio.to_thread(cli_main, ["retention", "run"]) == 0
    printed: dict[str, Any] = json.loads(capsys.readouterr().out)
    assert printed["retention_days"] == 365 and printed["users_erased"] == 1
    async with running_loket(url, sandbox=False) as app, app.sessions() as session:
        assert await session.scalar(select(func.count()).select_from(User)) == 0
