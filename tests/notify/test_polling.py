"""Polling for OPDs that cannot push: a change in the agency's system is noticed once."""

from __future__ import annotations

import asyncio

from bot.storage.models import StatusNotification
from tests.notify.conftest import AK1_IN_PROCESS, IN_PROCESS, World, count, follow, follows

NO_PUSH = {"DISDUKCAPIL_HOOK_SECRET": ""}  # Disdukcapil cannot push either: both are polled
WAIT = 5.0


async def test_only_opds_that_cannot_push_are_polled(world: World) -> None:
    async with world.running() as (_loket, notifications, _hook):
        assert notifications.poller.intervals == {"disnakertrans": 300.0}
        assert notifications.hook.opds == {"disdukcapil"}
    async with world.running(**NO_PUSH, DISNAKERTRANS_POLL_INTERVAL="60") as (
        _l,
        notifications,
        _h,
    ):
        assert notifications.poller.intervals == {"disdukcapil": 300.0, "disnakertrans": 60.0}
        assert notifications.hook.opds == frozenset()


async def test_polling_notices_a_status_change_once(world: World) -> None:
    async with world.running(**NO_PUSH) as (loket, notifications, _hook):
        await follow(loket, IN_PROCESS)
        await follow(loket, IN_PROCESS)
        assert await notifications.poller.poll_once("disdukcapil") == 0  # nothing changed yet
        await world.set_status(
            "disdukcapil",
            IN_PROCESS,
            status="ready_for_pickup",
            note="Bawa KK asli.",
            updated_at="2026-12-02T10:00:00+09:00",
        )
        assert await notifications.poller.poll_once("disdukcapil") == 2  # two followers
        assert await notifications.poller.poll_once("disdukcapil") == 0  # seen: not again
        assert await notifications.delivery.deliver_pending() == 2
        assert all(
            "Siap diambil" in text and "Bawa KK asli." in text for text in world.deliver.texts
        )


async def test_polling_an_ak1_card_without_a_change_time(world: World) -> None:
    async with world.running() as (loket, notifications, _hook):
        await follow(loket, AK1_IN_PROCESS)
        world.clock.advance(minutes=5)
        assert await notifications.poller.poll_once("disnakertrans") == 0
        await world.set_status(
            "disnakertrans", AK1_IN_PROCESS, status="active", valid_until="2028-12-01"
        )
        world.clock.advance(minutes=5)
        assert await notifications.poller.poll_once("disnakertrans") == 1
        world.clock.advance(minutes=5)
        assert await notifications.poller.poll_once("disnakertrans") == 0  # the follow ended
        await notifications.delivery.deliver_pending()
        (text,) = world.deliver.texts
        assert text.startswith(
            f"Kabar kartu kuning (AK/I) {AK1_IN_PROCESS}: status berubah menjadi Aktif."
        )
        assert "status akhir" in text
        assert not (await follows(loket))[0].active


async def test_an_agency_that_is_down_is_asked_again_later(world: World) -> None:
    async with world.running(**NO_PUSH) as (loket, notifications, _hook):
        await follow(loket, IN_PROCESS)
        await world.set_status("disdukcapil", IN_PROCESS, status="completed", note=None)
        root = world.agencies["DISDUKCAPIL_API_URL"].rsplit("/", 1)[0]
        async with world.http.post(
            f"{root}/_admin/faults", json={"fault": "503", "opds": ["disdukcapil"]}
        ):
            pass
        assert await notifications.poller.poll_once("disdukcapil") == 0
        assert await count(loket, StatusNotification) == 0
        async with world.http.post(f"{root}/_admin/faults", json={"fault": ""}):
            pass
        assert await notifications.poller.poll_once("disdukcapil") == 1


async def test_the_running_poller_and_delivery_loop_tell_the_citizen(world: World) -> None:
    """End to end with the background tasks: the interval is configuration (50 ms here);
    the test waits for the message itself, not for time to pass."""
    async with world.running(**NO_PUSH, DISDUKCAPIL_POLL_INTERVAL="0.05") as (
        loket,
        notifications,
        _h,
    ):
        await follow(loket, IN_PROCESS)
        async with notifications.running():
            await world.set_status(
                "disdukcapil", IN_PROCESS, status="rejected", note="Berkas kurang."
            )
            await asyncio.wait_for(world.deliver.called.wait(), WAIT)
        (text,) = world.deliver.texts
        assert "Ditolak" in text and "Alasan: Berkas kurang." in text
