"""The 24-hour window, against the stand-in, which enforces it as Meta does: a free-text
message to a citizen who has not written for 24 hours is accepted (200) and then reported
``failed`` with 131047 by status webhook. Loket sends a status notification inside the
window as an ordinary message, outside it as the approved template, and falls back to the
template when Meta answers 131047: the notification is never silently lost."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import func, select

from bot.notify.delivery import DeliveryResult, render_notification
from bot.storage.models import BroadcastInactive, WhatsAppOutbound
from bot.whatsapp import limits
from bot.whatsapp.channel import CHANNEL
from bot.whatsapp.templates import DEFAULT_TEMPLATES, NOTIFICATION
from tests.whatsapp.support import WaCitizen, WaDesk

NUMBER = "9404-2026-000101"


def notification(desk: WaDesk):  # type: ignore[no-untyped-def]
    return render_notification(
        desk.loket.translator,
        "id",
        opd="disdukcapil",
        number=NUMBER,
        status="ready_for_pickup",
        note=None,
        final=False,
    )


async def notify(desk: WaDesk, citizen: WaCitizen) -> DeliveryResult:
    result = await desk.service.channel(CHANNEL, citizen.address, notification(desk))
    await desk.settle()
    return result


async def outbound(desk: WaDesk) -> list[WhatsAppOutbound]:
    async with desk.loket.sessions() as session:
        # the stand-in numbers its wamids in order
        rows = await session.scalars(
            select(WhatsAppOutbound).order_by(WhatsAppOutbound.message_id)
        )
        return list(rows)


async def test_inside_the_window_a_notification_is_an_ordinary_message(
    desk: WaDesk, warga: WaCitizen
) -> None:
    await warga.send("halo")
    desk.clock.advance(hours=23)
    assert await notify(desk, warga) is DeliveryResult.DELIVERED
    last = warga.last()
    assert last.kind == "button" and NUMBER in last.text
    assert [title for title, _ in last.options] == ["Berhenti memantau"]
    [row] = await outbound(desk)
    assert (row.kind, row.template, row.status) == (NOTIFICATION, None, "delivered")


async def test_outside_the_window_it_goes_as_the_approved_template(
    desk: WaDesk, warga: WaCitizen
) -> None:
    await warga.send("halo")
    desk.clock.advance(hours=24, minutes=1)
    before = len(desk.api.calls)
    assert await notify(desk, warga) is DeliveryResult.DELIVERED
    # one call, the template: no free-text attempt that Meta would refuse
    assert len(desk.api.calls) == before + 1
    last = warga.last()
    assert last.kind == "template"
    template = last.body["template"]
    assert template["name"] == DEFAULT_TEMPLATES[NOTIFICATION].name
    assert template["language"]["code"] == "id"
    assert NUMBER in last.text and "\n" not in last.text
    [row] = await outbound(desk)
    assert (row.template, row.status) == (DEFAULT_TEMPLATES[NOTIFICATION].name, "delivered")


async def test_131047_falls_back_to_the_template(desk: WaDesk, warga: WaCitizen) -> None:
    """Loket believes the window open (the citizen wrote 2 hours ago by its clock) but Meta
    counts it closed: the free text is answered 200, then failed 131047 by webhook, and the
    template goes instead."""
    await warga.send("halo")
    desk.clock.advance(hours=2)
    desk.api.last_inbound[warga.address] = desk.clock() - dt.timedelta(hours=25)
    assert await notify(desk, warga) is DeliveryResult.DELIVERED
    failed, fallback = await outbound(desk)
    assert (failed.status, failed.error_code, failed.fallback) == (
        "failed",
        limits.WINDOW_CLOSED,
        None,
    )
    assert fallback.template == DEFAULT_TEMPLATES[NOTIFICATION].name
    assert fallback.status == "delivered"
    last = warga.last()
    assert last.kind == "template" and NUMBER in last.text
    # the failed free text never reached the citizen; only the template did
    assert [s.kind for s in warga.inbox() if NUMBER in s.text] == ["template"]


async def test_a_citizen_never_seen_gets_nothing_and_the_caller_is_told(desk: WaDesk) -> None:
    stranger = desk.citizen("6281234567999")
    assert await notify(desk, stranger) is DeliveryResult.BLOCKED
    assert stranger.inbox() == []


async def test_undeliverable_131026_is_reported_blocked(desk: WaDesk, warga: WaCitizen) -> None:
    """A number that cannot receive (131026) answers 200 then ``failed`` by webhook: the row
    says so, with the code."""
    await warga.send("halo")
    desk.api.unreachable.add(warga.address)
    assert await notify(desk, warga) is DeliveryResult.DELIVERED  # accepted by the API
    [row] = await outbound(desk)
    assert (row.status, row.error_code) == ("failed", limits.UNDELIVERABLE)
    async with desk.loket.sessions() as session:  # like a Telegram 403
        assert await session.scalar(select(func.count()).select_from(BroadcastInactive)) == 1
