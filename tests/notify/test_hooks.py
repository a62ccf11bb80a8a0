"""POST /hooks/{opd} over real HTTP: signatures, the contract, duplicates and order."""

from __future__ import annotations

import datetime as dt
import json
import logging

import pytest

from bot.notify.delivery import DeliveryResult
from bot.notify.hooks import MAX_BODY
from bot.storage import repo
from bot.storage.models import StatusNotification
from integrations.push import sign
from tests.notify.conftest import (
    IN_PROCESS,
    RECEIVED,
    SECRET,
    World,
    count,
    follow,
    follows,
    outbox,
    push_body,
)


async def test_a_bad_or_missing_signature_is_refused_and_changes_nothing(world: World) -> None:
    async with world.running() as (loket, notifications, hook):
        await follow(loket)
        body = json.dumps(push_body()).encode()
        attempts = [
            await hook.push(body, secret=None),  # no signature at all
            await hook.push(body, signature="0" * 64),  # a wrong one
            await hook.push(body, secret="another-secret"),  # signed with the wrong secret
            await hook.push(body, signature=sign(SECRET, body + b" ")),  # for another body
            await hook.push(body, signature=sign(SECRET, body).upper() + "00"),  # malformed
        ]
        for status, error in attempts:
            assert status == 401
            assert error["error"]["code"] == "bad_signature"
        assert notifications.hook.refused == len(attempts)
        (row,) = await follows(loket)  # as the citizen saw it (sandbox: 20 Nov, 09:15 WIT)
        assert (row.last_status, repo.as_utc(row.last_updated_at), row.active) == (
            "received",
            dt.datetime(2026, 11, 20, 0, 15, tzinfo=dt.UTC),
            True,
        )
        assert await count(loket, StatusNotification) == 0
        await notifications.delivery.deliver_pending()
        assert world.deliver.calls == []


async def test_an_opd_without_a_secret_or_without_a_hook_is_refused(world: World) -> None:
    async with world.running() as (loket, _notifications, hook):
        status, error = await hook.push(
            push_body("AK1-2026-000201", "active"), opd="disnakertrans"
        )
        assert (status, error["error"]["code"]) == (
            401,
            "bad_signature",
        )  # no DISNAKERTRANS secret
        status, error = await hook.push(push_body(), opd="bapenda")
        assert (status, error["error"]["code"]) == (404, "unknown_opd")
        assert await count(loket, StatusNotification) == 0


@pytest.mark.parametrize(
    "body",
    [
        b"{not json",
        b"[]",
        json.dumps(
            {"number": RECEIVED, "status": "lost", "updated_at": "2026-12-02T09:00:00+09:00"}
        ).encode(),
        json.dumps(
            {"number": "ab", "status": "completed", "updated_at": "2026-12-02T09:00:00+09:00"}
        ).encode(),
        json.dumps({"number": RECEIVED, "status": "completed"}).encode(),
    ],
    ids=["malformed", "not-an-object", "unknown-status", "bad-number", "no-updated_at"],
)
async def test_a_signed_body_that_breaks_the_contract_gets_400(world: World, body: bytes) -> None:
    async with world.running() as (loket, _notifications, hook):
        await follow(loket)
        status, error = await hook.push(body)
        assert status == 400
        assert error["error"]["code"] == "invalid_push"
        assert await count(loket, StatusNotification) == 0
        assert (await follows(loket))[0].last_status == "received"


async def test_a_body_over_the_limit_gets_413(world: World) -> None:
    async with world.running() as (loket, _notifications, hook):
        body = json.dumps(push_body(note="x" * MAX_BODY)).encode()
        status, error = await hook.push(body)
        assert (status, error["error"]["code"]) == (413, "too_large")
        assert await count(loket, StatusNotification) == 0


async def test_a_valid_push_notifies_the_follower_once(world: World) -> None:
    async with world.running() as (loket, notifications, hook):
        chat = await follow(loket)
        assert "Kami akan memberi tahu Anda" in chat.last_text
        status, body = await hook.push(push_body(note="Bawa bukti permohonan."))
        assert (status, body) == (204, None)
        (row,) = await outbox(loket)
        assert (row.status, row.state, row.sent_at) == ("ready_for_pickup", "pending", None)
        assert await notifications.delivery.deliver_pending() == 1
        assert await notifications.delivery.deliver_pending() == 0
        ((channel, user, message),) = world.deliver.calls
        assert (channel, user) == ("test", chat.user)
        assert message.text.startswith(
            f"Kabar permohonan {RECEIVED}: status berubah menjadi Siap diambil."
        )
        assert "Catatan: Bawa bukti permohonan." in message.text
        assert [b.label for b in message.flat_buttons] == ["Berhenti memantau"]
        (row,) = await outbox(loket)
        assert row.state == "sent" and row.sent_at is not None
        (followed,) = await follows(loket)
        assert (followed.last_status, followed.active) == ("ready_for_pickup", True)


async def test_the_same_push_twice_notifies_once(world: World) -> None:
    async with world.running() as (loket, notifications, hook):
        await follow(loket)
        assert (await hook.push(push_body()))[0] == 204
        await notifications.delivery.deliver_pending()
        assert (await hook.push(push_body()))[0] == 204  # the OPD retries: same body
        await notifications.delivery.deliver_pending()
        assert len(world.deliver.calls) == 1
        assert await count(loket, StatusNotification) == 1


async def test_every_follower_is_told_once(world: World) -> None:
    async with world.running() as (loket, notifications, hook):
        await follow(loket)
        await follow(loket)
        await follow(loket, IN_PROCESS)  # another application: not told
        await hook.push(push_body())
        await hook.push(push_body())
        assert await notifications.delivery.deliver_pending() == 2
        assert len({user for _c, user, _m in world.deliver.calls}) == 2


async def test_an_unknown_application_is_ignored(world: World) -> None:
    async with world.running() as (loket, notifications, hook):
        await follow(loket)
        status, _ = await hook.push(push_body("9404-2026-999999"))
        assert status == 204
        assert await count(loket, StatusNotification) == 0
        assert notifications.hook.accepted == 1


async def test_an_older_push_arriving_late_is_ignored(world: World) -> None:
    async with world.running() as (loket, notifications, hook):
        await follow(loket)
        await hook.push(
            push_body(status="ready_for_pickup", updated_at="2026-12-03T09:00:00+09:00")
        )
        # Sent earlier by the OPD, delivered later (a retry): the citizen must not be told
        # the application went back to "in process".
        await hook.push(push_body(status="in_process", updated_at="2026-12-02T09:00:00+09:00"))
        # The same status with a newer time (a corrected note) is not a change either.
        await hook.push(
            push_body(status="ready_for_pickup", updated_at="2026-12-03T10:00:00+09:00")
        )
        await notifications.delivery.deliver_pending()
        assert len(world.deliver.calls) == 1
        assert "Siap diambil" in world.deliver.texts[0]
        (row,) = await follows(loket)
        assert row.last_status == "ready_for_pickup"


async def test_a_push_older_than_what_the_citizen_saw_is_ignored(world: World) -> None:
    """The follow remembers the OPD's time of the status shown (sandbox: 20 Nov 2026)."""
    async with world.running() as (loket, notifications, hook):
        await follow(loket)
        await hook.push(push_body(status="in_process", updated_at="2026-11-19T09:00:00+09:00"))
        await notifications.delivery.deliver_pending()
        assert world.deliver.calls == []


async def test_a_final_status_is_told_once_and_ends_the_follow(world: World) -> None:
    async with world.running() as (loket, notifications, hook):
        await follow(loket)
        await hook.push(push_body(status="rejected", note="Berkas tidak lengkap."))
        await hook.push(push_body(status="in_process", updated_at="2026-12-04T09:00:00+09:00"))
        await notifications.delivery.deliver_pending()
        (text,) = world.deliver.texts
        assert "status berubah menjadi Ditolak" in text
        assert "Alasan: Berkas tidak lengkap." in text
        assert "status akhir" in text
        assert world.deliver.calls[0][2].buttons == ()
        (row,) = await follows(loket)
        assert row.active is False


async def test_logs_never_show_a_whole_number(
    world: World, caplog: pytest.LogCaptureFixture
) -> None:
    """Application numbers, and a NIK an OPD might wrongly send as one, are masked."""
    nik = "9401010101900001"
    async with world.running() as (loket, notifications, hook):
        await follow(loket)
        # Everything Loket itself logs, at every level (libraries' debug output, such as the
        # database driver echoing SQL parameters, is off in production: LOG_LEVEL=WARNING).
        with (
            caplog.at_level(logging.DEBUG, logger="bot"),
            caplog.at_level(logging.DEBUG, logger="integrations"),
        ):
            await hook.push(push_body())
            await hook.push(push_body(nik))
            await hook.push(
                json.dumps({"number": nik, "status": "lost", "updated_at": "x"}).encode()
            )
            world.deliver.results.append(DeliveryResult.RETRY)
            await notifications.delivery.deliver_pending()
        logged = caplog.text
        assert "94**-****-****01" in logged  # masked, yet an operator can follow it
        for whole in (RECEIVED, nik, RECEIVED.replace("-", "")):
            assert whole not in logged
