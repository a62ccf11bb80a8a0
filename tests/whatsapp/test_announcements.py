"""Announcements reach WhatsApp subscribers through the durable broadcast queue, against the
stand-in over HTTP: inside the 24-hour window as text, outside it as the approved template;
130429 pauses the broadcast, 131056 holds back one citizen, 131026 marks the citizen inactive
like a Telegram 403. The queue is Telegram's: one announcement, one set of rows, each
channel's sender sending its own citizens' rows at its own pace, one report."""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
from collections.abc import AsyncIterator
from dataclasses import dataclass, field

import pytest
from sqlalchemy import select

from bot.botapi import ManualClock
from bot.broadcast import store
from bot.broadcast.pacer import Pacer
from bot.broadcast.sender import BroadcastSender, Media, Outcome, Progress, Report
from bot.broadcast.service import BroadcastService
from bot.staff import audience
from bot.storage.models import (
    AnnouncementDelivery,
    BroadcastInactive,
    Subscription,
    User,
    WhatsAppOutbound,
)
from bot.whatsapp import limits
from bot.whatsapp.broadcast import (
    PAIR_INTERVAL,
    WhatsAppBroadcasts,
    WhatsAppSend,
    whatsapp_pacer,
)
from bot.whatsapp.standin import StandInLimits, _Bucket
from bot.whatsapp.templates import ANNOUNCEMENT, DEFAULT_TEMPLATES
from tests.whatsapp.support import WaDesk, wa_desk

TEXT = "<b>Perekaman KTP-el</b> di Distrik Kuala Kencana pada Sabtu, 12 Desember 2026.\nGratis."
INSIDE, OUTSIDE, GONE = "6281234567101", "6281234567102", "6281234567103"


@dataclass
class Author:
    """The author's side: the report, once."""

    reports: list[Report] = field(default_factory=list)
    done: asyncio.Event = field(default_factory=asyncio.Event)

    async def progress(self, _announcement_id: int, _progress: Progress) -> None:
        return None

    async def finished(self, _announcement_id: int, report: Report) -> None:
        self.reports.append(report)
        self.done.set()


class Telegram:
    """Telegram's sender, recording: the other channel of the shared queue."""

    def __init__(self) -> None:
        self.sent: list[str] = []

    async def __call__(self, chat_id: str, _text: str, _media: Media | None = None) -> Outcome:
        self.sent.append(chat_id)
        return Outcome.sent()


async def subscribe(desk: WaDesk, channel: str, external_id: str, seen_hours_ago: float) -> None:
    seen = desk.clock() - dt.timedelta(hours=seen_hours_ago)
    async with desk.loket.sessions() as session, session.begin():
        user = User(channel=channel, external_id=external_id, last_seen_at=seen)
        session.add(user)
        await session.flush()
        session.add(Subscription(user_id=user.id, district="9401010", topics="disdukcapil"))
    if channel == "whatsapp":  # what Meta knows of the window: the citizen's last message
        desk.api.last_inbound[external_id] = seen


async def announce(desk: WaDesk) -> str:
    async with desk.loket.sessions() as session, session.begin():
        announcement = await store.create_announcement(
            session, opd="disdukcapil", text=TEXT, segment={"opd": "disdukcapil"}
        )
        return announcement.reference


@contextlib.asynccontextmanager
async def broadcasting(
    desk: WaDesk,
    author: Author,
    *,
    pacer: Pacer | None = None,
    telegram: Telegram | None = None,
    **sender_options: object,
) -> AsyncIterator[WhatsAppBroadcasts]:
    whatsapp = WhatsAppBroadcasts(
        desk.loket,
        desk.service.channel,
        notifier=author,
        pacer=pacer,
        wallclock=desk.clock,
        **sender_options,
    )
    async with contextlib.AsyncExitStack() as stack:
        await stack.enter_async_context(whatsapp.running())
        if telegram is not None:
            service = BroadcastService(
                desk.loket.database,
                desk.loket.sessions,
                telegram,
                channel="telegram",
                pacer=Pacer(1000),
                notifier=author,
                wallclock=desk.clock,
                shared_with=("whatsapp",),
            )
            service.share_queue(whatsapp.service)
            await stack.enter_async_context(service.running())
        yield whatsapp


async def deliveries(desk: WaDesk) -> dict[str, str]:
    async with desk.loket.sessions() as session:
        rows = await session.execute(
            select(User.external_id, AnnouncementDelivery.status).join(
                User, User.id == AnnouncementDelivery.user_id
            )
        )
        return {external_id: status for external_id, status in rows}


async def test_inside_and_outside_the_window_and_telegram_alongside(desk: WaDesk) -> None:
    await subscribe(desk, "whatsapp", INSIDE, seen_hours_ago=1)
    await subscribe(desk, "whatsapp", OUTSIDE, seen_hours_ago=30)
    await subscribe(desk, "telegram", "700001", seen_hours_ago=30)
    author, telegram = Author(), Telegram()
    async with broadcasting(desk, author, telegram=telegram) as whatsapp:
        reference = await announce(desk)
        whatsapp.service.wake()
        await asyncio.wait_for(author.done.wait(), 20)
    await desk.settle()
    [report] = author.reports  # one report, whichever channel finished last
    assert (report.status, report.total, report.sent) == ("done", 3, 3)
    assert telegram.sent == ["700001"]
    assert await deliveries(desk) == {INSIDE: "sent", OUTSIDE: "sent", "700001": "sent"}

    [inside] = desk.api.to(INSIDE)
    assert inside.kind == "text"
    assert inside.text.startswith("*Perekaman KTP-el*")  # WhatsApp's bold, not HTML
    assert f"_Kode pengumuman: {reference}." in inside.text

    [outside] = desk.api.to(OUTSIDE)
    assert outside.kind == "template"
    assert outside.body["template"]["name"] == DEFAULT_TEMPLATES[ANNOUNCEMENT].name
    assert "Perekaman KTP-el" in outside.text and reference in outside.text
    assert "<b>" not in outside.text and "\n" not in outside.text

    async with desk.loket.sessions() as session:
        rows = (await session.scalars(select(WhatsAppOutbound))).all()
    assert {(r.kind, r.reference, r.status) for r in rows} == {
        (ANNOUNCEMENT, reference, "delivered")
    }


async def test_131047_after_acceptance_sends_the_template(desk: WaDesk) -> None:
    """Loket counts the window open, Meta closed: the text fails by webhook, the template
    follows; the citizen is not left without the announcement."""
    await subscribe(desk, "whatsapp", INSIDE, seen_hours_ago=1)
    desk.api.last_inbound[INSIDE] = desk.clock() - dt.timedelta(hours=25)
    author = Author()
    async with broadcasting(desk, author) as whatsapp:
        reference = await announce(desk)
        whatsapp.service.wake()
        await asyncio.wait_for(author.done.wait(), 20)
    await desk.settle()
    [received] = desk.api.to(INSIDE)
    assert received.kind == "template" and reference in received.text
    async with desk.loket.sessions() as session:
        rows = (
            await session.scalars(select(WhatsAppOutbound).order_by(WhatsAppOutbound.message_id))
        ).all()
    assert [(r.template, r.status, r.error_code) for r in rows] == [
        (None, "failed", limits.WINDOW_CLOSED),
        (DEFAULT_TEMPLATES[ANNOUNCEMENT].name, "delivered", None),
    ]


async def test_131026_marks_the_citizen_inactive_like_a_403(desk: WaDesk) -> None:
    await subscribe(desk, "whatsapp", INSIDE, seen_hours_ago=1)
    await subscribe(desk, "whatsapp", GONE, seen_hours_ago=1)
    desk.api.unreachable.add(GONE)
    author = Author()
    async with broadcasting(desk, author) as whatsapp:
        await announce(desk)
        whatsapp.service.wake()
        await asyncio.wait_for(author.done.wait(), 20)
    await desk.settle()  # the failed status webhook
    assert await deliveries(desk) == {INSIDE: "sent", GONE: "blocked"}
    async with desk.loket.sessions() as session:
        inactive = (await session.scalars(select(BroadcastInactive.user_id))).all()
        gone = await session.scalar(select(User.id).where(User.external_id == GONE))
    assert inactive == [gone]
    # the next announcement is not queued for them at all
    author = Author()
    async with broadcasting(desk, author) as whatsapp:
        await announce(desk)
        whatsapp.service.wake()
        await asyncio.wait_for(author.done.wait(), 20)
    assert author.reports[0].total == 1


@dataclass
class ManualTime:
    """One monotonic clock for the stand-in's buckets, the pacer and the sender; sleeping
    advances it (nothing waits in real time), the wall clock follows it."""

    start: dt.datetime
    clock: ManualClock = field(default_factory=ManualClock)

    async def sleep(self, seconds: float) -> None:
        self.clock.advance(seconds)
        await asyncio.sleep(0)

    def wallclock(self) -> dt.datetime:
        return self.start + dt.timedelta(seconds=self.clock() - 1000.0)


@pytest.fixture
async def throttled(database_url: str) -> AsyncIterator[tuple[WaDesk, ManualTime]]:
    clock = ManualClock()
    async with wa_desk(
        database_url,
        rate=StandInLimits(per_second=1.0, pair_interval=PAIR_INTERVAL, pair_burst=45),
        monotonic=clock,
    ) as desk:
        yield desk, ManualTime(desk.clock(), clock)
        desk.api.refusals.clear()  # the throttling answers are the point of these tests


async def send_on_manual_time(desk: WaDesk, time: ManualTime, rate: float) -> Report:
    """One announcement through the broadcast sender and WhatsApp's Send, on the manual
    clock (the service's loop is covered above; here only time matters)."""
    async with desk.loket.sessions() as session, session.begin():
        announcement = await store.create_announcement(
            session, opd="disdukcapil", text=TEXT, segment={"opd": "disdukcapil"}
        )
        recipients = await audience.recipients(
            session, "whatsapp", audience.Segment("disdukcapil")
        )
    await store.enqueue(desk.loket.database, announcement.id, recipients)
    pacer = whatsapp_pacer(rate, clock=time.clock, sleep=time.sleep)
    sender = BroadcastSender(
        desk.loket.database,
        WhatsAppSend(desk.service.channel, pacer),
        pacer=pacer,
        clock=time.clock,
        sleep=time.sleep,
        wallclock=time.wallclock,
    )
    report = await sender.run(announcement.id)
    await desk.settle()
    return report


async def test_130429_pauses_the_broadcast_and_every_message_still_goes(
    throttled: tuple[WaDesk, ManualTime],
) -> None:
    """The pacer allows 80/s; the number is limited to 1/s here: Meta's 130429 answers pause
    the broadcast, and no citizen is dropped."""
    desk, time = throttled
    for i in range(3):
        await subscribe(desk, "whatsapp", f"62812345672{i:02d}", seen_hours_ago=1)
    report = await send_on_manual_time(desk, time, rate=80.0)
    assert (report.status, report.sent, report.failed, report.blocked) == ("done", 3, 0, 0)
    assert report.rate_limited >= 1
    codes = [r["code"] for r in desk.api.refusals]
    assert codes and set(codes) == {limits.RATE_LIMIT_HIT}


async def test_131056_holds_back_one_citizen_only(throttled: tuple[WaDesk, ManualTime]) -> None:
    """A citizen who just received many messages (their pair budget spent): Meta answers
    131056; that citizen's row waits at least 6 s, the others go on, and theirs goes after."""
    desk, time = throttled
    busy, calm = "6281234567301", "6281234567302"
    await subscribe(desk, "whatsapp", busy, seen_hours_ago=1)
    await subscribe(desk, "whatsapp", calm, seen_hours_ago=1)
    desk.api._pairs[busy] = _Bucket(1 / PAIR_INTERVAL, 45, 0.0, time.clock())
    desk.api._number = _Bucket(1000.0, 1000.0, 1000.0, time.clock())  # no 130429 here
    report = await send_on_manual_time(desk, time, rate=80.0)
    assert (report.status, report.sent, report.failed, report.rate_limited) == ("done", 2, 0, 0)
    assert [r["code"] for r in desk.api.refusals] == [limits.PAIR_RATE_LIMIT]
    assert [s.to for s in desk.api.sent] == [calm, busy]
    assert time.clock() - 1000.0 >= PAIR_INTERVAL  # the busy citizen waited their interval


async def test_the_hoax_check_on_pasted_whatsapp_text(desk: WaDesk) -> None:
    """The hoax check is a front-desk interceptor, so it runs for WhatsApp too: the text as
    WhatsApp showed it (bold markers, the template's wording) is recognised as genuine; the
    same text with the date changed is not."""
    await subscribe(desk, "whatsapp", INSIDE, seen_hours_ago=1)
    await subscribe(desk, "whatsapp", OUTSIDE, seen_hours_ago=30)
    author = Author()
    async with broadcasting(desk, author) as whatsapp:
        reference = await announce(desk)
        whatsapp.service.wake()
        await asyncio.wait_for(author.done.wait(), 20)
    await desk.settle()
    [as_text] = desk.api.to(INSIDE)
    [as_template] = desk.api.to(OUTSIDE)

    citizen = desk.citizen(INSIDE)
    [answer] = await citizen.send(as_text.text, forwarded=True)
    assert f"Pengumuman {reference} ASLI" in answer.text, answer.text
    [answer] = await citizen.send(as_text.text)  # copied and pasted, not forwarded
    assert f"Pengumuman {reference} ASLI" in answer.text, answer.text

    # what the citizen sees of the template: its registered text around the parameter
    seen = DEFAULT_TEMPLATES[ANNOUNCEMENT].text.replace("{{1}}", as_template.text)
    other = desk.citizen(OUTSIDE)
    [answer] = await other.send(seen)
    assert f"Pengumuman {reference} ASLI" in answer.text, answer.text

    altered = as_text.text.replace("12 Desember", "19 Desember")
    [answer] = await citizen.send(altered, forwarded=True)
    assert "BERBEDA" in answer.text and "19" in answer.text, answer.text
