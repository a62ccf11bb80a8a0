"""The outbox and the delivery loop: once per change, across restarts, blocked citizens,
retries, stopping a follow and erasing one's data."""

from __future__ import annotations

import asyncio
import datetime as dt

from bot.notify.changes import Change
from bot.notify.delivery import STOP_PAYLOAD, DeliveryResult
from bot.storage import repo
from bot.storage.models import StatusNotification
from tests.notify.conftest import (
    IN_PROCESS,
    RECEIVED,
    World,
    count,
    follow,
    follows,
    outbox,
    push_body,
)
from tests.support.conversation import Conversation

WAIT = 5.0  # generous upper bound for an event that happens at once; never a sleep


async def test_a_restart_between_change_and_delivery_still_delivers_once(world: World) -> None:
    async with world.running() as (loket, notifications, hook):
        await follow(loket)
        assert (await hook.push(push_body()))[0] == 204
        # The process stops before the delivery loop ever ran: nothing was sent.
        assert world.deliver.calls == []
    async with world.running() as (loket, notifications, _hook):
        async with notifications.running():  # a fresh start sweeps what was left
            await asyncio.wait_for(world.deliver.called.wait(), WAIT)
        assert len(world.deliver.calls) == 1
        await notifications.delivery.deliver_pending()
    async with world.running() as (loket, notifications, hook):  # and once more: nothing new
        await notifications.delivery.deliver_pending()
        assert (await hook.push(push_body()))[0] == 204  # the OPD repeats the push after it
        await notifications.delivery.deliver_pending()
        assert len(world.deliver.calls) == 1
        (row,) = await outbox(loket)
        assert row.state == "sent"


async def test_the_running_loop_is_woken_by_a_push(world: World) -> None:
    async with world.running() as (loket, notifications, hook), notifications.running():
        await follow(loket)
        passes = notifications.delivery.passes
        await hook.push(push_body())
        await asyncio.wait_for(world.deliver.called.wait(), WAIT)
        assert notifications.delivery.passes > passes
        assert len(world.deliver.calls) == 1


async def test_a_citizen_who_blocked_the_bot_stops_following(world: World) -> None:
    async with world.running() as (loket, notifications, hook):
        blocked = await follow(loket)
        await follow(loket, IN_PROCESS, user=blocked.user)
        other = await follow(loket, IN_PROCESS)
        await hook.push(push_body())
        await hook.push(push_body(IN_PROCESS, "ready_for_pickup"))
        world.deliver.results.append(DeliveryResult.BLOCKED)
        assert await notifications.delivery.deliver_pending() == 1
        assert [user for _c, user, _m in world.deliver.calls] == [blocked.user, other.user]
        assert sorted(row.state for row in await outbox(loket)) == ["blocked", "blocked", "sent"]
        assert [(row.user_id, row.active) for row in await follows(loket)] == [
            (1, False),
            (1, False),
            (2, True),
        ]


async def test_a_temporary_failure_is_retried_later(world: World) -> None:
    async with world.running() as (loket, notifications, hook):
        await follow(loket)
        world.deliver.results.extend([DeliveryResult.RETRY, DeliveryResult.RETRY])
        await hook.push(push_body())
        assert await notifications.delivery.deliver_pending() == 0
        (row,) = await outbox(loket)
        assert (row.state, row.attempts) == ("pending", 1)
        await notifications.delivery.deliver_pending()  # not due yet: not tried again
        assert len(world.deliver.calls) == 1
        world.clock.advance(seconds=5)
        assert await notifications.delivery.deliver_pending() == 0  # second failure
        world.clock.advance(seconds=9)
        await notifications.delivery.deliver_pending()
        assert len(world.deliver.calls) == 2  # backing off: 10 s after the second failure
        world.clock.advance(seconds=1)
        assert await notifications.delivery.deliver_pending() == 1
        (row,) = await outbox(loket)
        assert (row.state, row.attempts) == ("sent", 2)


async def test_a_message_the_channel_cannot_send_is_given_up(world: World) -> None:
    async with world.running() as (loket, notifications, hook):
        await follow(loket)
        world.deliver.results.append(DeliveryResult.FAILED)
        await hook.push(push_body())
        await notifications.delivery.deliver_pending()
        await notifications.delivery.deliver_pending()
        assert len(world.deliver.calls) == 1
        assert [row.state for row in await outbox(loket)] == ["failed"]
        assert (await follows(loket))[0].active  # the next change is still told


async def test_stopping_from_the_notification_ends_the_messages(world: World) -> None:
    async with world.running() as (loket, notifications, hook):
        chat = await follow(loket)
        await hook.push(push_body(status="in_process"))
        # Hours later (the conversation has expired) the message arrives and the citizen
        # presses its button.
        world.clock.advance(hours=5)
        await notifications.delivery.deliver_pending()
        ((_c, _u, message),) = world.deliver.calls
        assert [b.payload for b in message.flat_buttons] == [STOP_PAYLOAD]
        await chat.press(STOP_PAYLOAD)
        assert f"Permohonan {RECEIVED}: Sedang diproses" in chat.last_text
        await chat.click(f"Berhenti memantau {RECEIVED}")
        assert f"kami berhenti memantau {RECEIVED}" in chat.last_text
        await hook.push(
            push_body(status="ready_for_pickup", updated_at="2026-12-05T09:00:00+09:00")
        )
        await notifications.delivery.deliver_pending()
        assert len(world.deliver.calls) == 1
        assert not (await follows(loket))[0].active


async def test_a_notification_button_does_not_break_the_current_conversation(world: World) -> None:
    async with world.running() as (loket, notifications, hook):
        chat = await follow(loket)
        await chat.send("menu")
        await chat.click("Kependudukan (Disdukcapil)")  # waiting for a choice
        await hook.push(push_body())
        await notifications.delivery.deliver_pending()
        await chat.click("KTP-el baru")  # the menu's buttons still work
        assert chat.last_text.startswith("KTP-el baru"), chat.last_text
        await chat.click("Syarat")  # and so do the answer's own
        assert "Berusia 17 tahun" in chat.last_text


async def test_stop_one_of_several_by_typing(world: World) -> None:
    async with world.running() as (loket, notifications, hook):
        chat = await follow(loket)
        await follow(loket, IN_PROCESS, user=chat.user)
        await chat.send("berhenti pantau")
        await chat.click("Permohonan yang saya pantau")
        assert "1. Permohonan 9404-2026-000101" in chat.last_text
        assert "2. Permohonan 9404-2026-000102" in chat.last_text
        await chat.click(f"Berhenti memantau {IN_PROCESS}")
        assert f"kami berhenti memantau {IN_PROCESS}" in chat.last_text
        await hook.push(push_body(IN_PROCESS, "completed"))
        await hook.push(push_body(RECEIVED, "in_process"))
        await notifications.delivery.deliver_pending()
        assert [RECEIVED in text for text in world.deliver.texts] == [True]


async def test_following_again_is_not_a_second_follow(world: World) -> None:
    async with world.running() as (loket, notifications, hook):
        chat = await follow(loket)
        again = await follow(loket, user=chat.user)
        assert "Anda sudah memantau" in again.last_text
        assert len(await follows(loket)) == 1
        await hook.push(push_body())
        await notifications.delivery.deliver_pending()
        assert len(world.deliver.calls) == 1


async def test_hapusdata_erases_follows_and_queued_messages(world: World) -> None:
    async with world.running() as (loket, notifications, hook):
        chat = await follow(loket)
        other = await follow(loket)
        await hook.push(push_body())  # queued for both, not yet sent
        user_id = (await chat.user_row()).id
        async with loket.sessions() as session:
            before = await repo.count_rows_for_user(session, user_id)
        assert before["followed_applications"] == 1 and before["notifications"] == 1
        await chat.command("hapusdata")
        assert "permohonan yang Anda pantau" in chat.last_text
        await chat.click("Ya, hapus")
        async with loket.sessions() as session:
            after = await repo.count_rows_for_user(session, user_id)
        assert set(after.values()) == {0}
        await notifications.delivery.deliver_pending()
        assert [user for _c, user, _m in world.deliver.calls] == [other.user]


async def test_messages_are_in_the_citizens_language(world: World) -> None:
    async with world.running() as (loket, notifications, hook):
        await follow(loket, locale="en")
        await hook.push(push_body())
        await notifications.delivery.deliver_pending()
        ((_c, _u, message),) = world.deliver.calls
        expected = loket.translator.gettext("en", "Siap diambil")
        assert expected in message.text
        assert loket.translator.gettext("en", "Berhenti memantau") == message.flat_buttons[0].label


async def test_a_recorded_change_without_followers_tells_nobody(world: World) -> None:
    async with world.running() as (loket, notifications, _hook):
        told = await notifications.recorder.record(
            Change("disdukcapil", RECEIVED, "completed", dt.datetime(2026, 12, 2, tzinfo=dt.UTC))
        )
        assert told == 0
        assert await count(loket, StatusNotification) == 0


async def test_a_citizen_follows_at_most_five(world: World) -> None:
    await world.set_status("disdukcapil", "9404-2026-000103", status="in_process", note=None)
    async with world.running() as (loket, _notifications, _hook):
        user = Conversation(loket, channel="test").user
        numbers = [
            "9404-2026-000101",
            "9404-2026-000102",
            "9404-2026-000103",
            "9404-2026-000104",
            "7301-2026-000481",
        ]
        for number in numbers:
            await follow(loket, number, user=user)
        chat = await follow(loket, "AK1-2026-000201", user=user)
        assert "batas" in chat.last_text
        assert len(await follows(loket)) == 5
        chat = await follow(loket, "9404-2026-000101", user=user)  # one already followed: fine
        assert "Anda sudah memantau" in chat.last_text
        await chat.send("berhenti pantau")
        await chat.click("Permohonan yang saya pantau")
        assert chat.buttons[:6] == [f"Berhenti memantau {n}" for n in numbers] + [
            "Berhenti memantau semua"
        ]
        await chat.click("Berhenti memantau semua")
        assert "berhenti memantau 5 permohonan" in chat.last_text
        assert not any(row.active for row in await follows(loket))


async def test_stopped_follows_and_old_messages_are_deleted_after_a_week(world: World) -> None:
    async with world.running() as (loket, notifications, hook):
        chat = await follow(loket)  # stays followed
        stopped = await follow(loket, IN_PROCESS)
        await stopped.send("berhenti pantau")
        await stopped.click("Permohonan yang saya pantau")
        await stopped.click(f"Berhenti memantau {IN_PROCESS}")
        await hook.push(push_body(status="in_process"))
        await notifications.delivery.deliver_pending()
        assert await notifications.delivery.purge() == 0  # all of it is recent
        world.clock.advance(days=8)
        assert await notifications.delivery.purge() == 2  # the sent message, the stopped follow
        (row,) = await follows(loket)
        assert (row.number, row.active) == (RECEIVED, True)
        assert await count(loket, StatusNotification) == 0
        assert (await chat.user_row()) is not None
