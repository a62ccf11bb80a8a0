"""/peran through python-telegram-bot and the local Bot API: grants, revocations, the audit
log, and citizens who cannot tell the command exists."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select

from bot.staff.roles import ADMIN, STAFF, Grant
from bot.storage import repo
from bot.storage.models import AuditLog, Role
from bot.telegram.channel import CHANNEL
from tests.staff.conftest import ADMIN_ID, STAFF_ID
from tests.telegram.support import Citizen, Desk


async def audit_rows(desk: Desk) -> list[AuditLog]:
    assert desk.loket is not None
    async with desk.loket.sessions() as session:
        return list(await session.scalars(select(AuditLog).order_by(AuditLog.id)))


async def internal_id(desk: Desk, telegram_id: int) -> int:
    assert desk.loket is not None
    async with desk.loket.sessions() as session:
        user = await repo.find_user(session, CHANNEL, str(telegram_id))
        assert user is not None
        return user.id


async def roles(desk: Desk, telegram_id: int) -> set[Grant]:
    assert desk.loket is not None and desk.loket.staff is not None
    return set((await desk.loket.staff.roles_of(telegram_id)).grants)


async def test_seeded_admin_grants_and_revokes_a_staff_role(
    desk: Desk, admin: Citizen, petugas: Citizen
) -> None:
    assert await roles(desk, ADMIN_ID) == {Grant(ADMIN)}
    (seed,) = await audit_rows(desk)
    assert (seed.action, seed.actor_user_id) == ("role.seed", None)
    assert seed.target == f"user:{await internal_id(desk, ADMIN_ID)}"

    reply = await admin.send("/peran")
    assert "admin: 9001 (ADMIN_TELEGRAM_IDS)" in reply.text

    before = dt.datetime.now(dt.UTC)
    reply = await admin.send(f"/peran beri {STAFF_ID} staf dinkes")
    assert reply.text == f"Peran staf dinkes diberikan kepada {STAFF_ID}. Tercatat di log audit."
    assert await roles(desk, STAFF_ID) == {Grant(STAFF, "dinkes")}
    assert desk.loket is not None and desk.loket.staff is not None
    assert await desk.loket.staff.is_staff(STAFF_ID, "dinkes")
    assert not await desk.loket.staff.is_staff(STAFF_ID, "bapenda")
    assert not await desk.loket.staff.is_admin(STAFF_ID)

    grant = (await audit_rows(desk))[-1]
    admin_uid, staff_uid = await internal_id(desk, ADMIN_ID), await internal_id(desk, STAFF_ID)
    assert grant.action == "role.grant"
    assert grant.actor_user_id == admin_uid
    assert grant.target == f"user:{staff_uid}"
    assert grant.detail == {"role": "staff", "opd": "dinkes"}
    at = repo.as_utc(grant.at)
    assert at is not None and before - dt.timedelta(seconds=1) <= at <= dt.datetime.now(dt.UTC)
    # Only internal ids: no Telegram id in the audit log.
    assert str(STAFF_ID) not in repr((grant.target, grant.detail))

    reply = await admin.send(f"/peran beri {STAFF_ID} staf dinkes")
    assert reply.text == f"{STAFF_ID} sudah memiliki peran staf dinkes."
    reply = await admin.send("/peran")
    assert f"staf dinkes: {STAFF_ID}" in reply.text
    assert len(await audit_rows(desk)) == 2  # a grant that changed nothing is not audited

    reply = await admin.send(f"/peran cabut {STAFF_ID} staf dinkes")
    assert reply.text == f"Peran staf dinkes dicabut dari {STAFF_ID}. Tercatat di log audit."
    assert await roles(desk, STAFF_ID) == set()
    revoke = (await audit_rows(desk))[-1]
    assert (revoke.action, revoke.actor_user_id, revoke.target) == (
        "role.revoke",
        admin_uid,
        f"user:{staff_uid}",
    )
    reply = await admin.send(f"/peran cabut {STAFF_ID} staf dinkes")
    assert reply.text == f"{STAFF_ID} tidak memiliki peran staf dinkes."
    assert len(await audit_rows(desk)) == 3


async def test_a_malformed_command_shows_the_usage_to_admins(admin: Citizen) -> None:
    reply = await admin.send("/peran beri 9002 staf kantor_pos")
    assert "OPD yang dikenal: bapenda, dinkes, disdukcapil, disnakertrans." in reply.text
    assert "/peran cabut <telegram_id> admin" in reply.text


async def test_a_citizen_gets_the_unknown_command_answer(desk: Desk, warga: Citizen) -> None:
    unknown = await warga.send("/xyz")
    assert "belum mengerti" in unknown.text
    audited = len(await audit_rows(desk))
    for text in ("/peran", f"/peran beri {warga.user_id} admin", "/PERAN@loket_mimika_bot"):
        reply = await warga.send(text)
        assert reply.text == unknown.text
        assert [m.buttons for m in reply.messages] == [m.buttons for m in unknown.messages]
    assert await roles(desk, warga.user_id) == set()
    assert len(await audit_rows(desk)) == audited


async def test_staff_cannot_use_peran_either(desk: Desk, admin: Citizen, petugas: Citizen) -> None:
    await admin.send(f"/peran beri {STAFF_ID} staf bapenda")
    unknown = await petugas.send("/xyz")
    audited = len(await audit_rows(desk))
    reply = await petugas.send(f"/peran beri {STAFF_ID} admin")
    assert reply.text == unknown.text
    assert await roles(desk, STAFF_ID) == {Grant(STAFF, "bapenda")}
    assert len(await audit_rows(desk)) == audited


async def test_erasure_keeps_the_audit_log_without_the_person(
    desk: Desk, admin: Citizen, petugas: Citizen
) -> None:
    await admin.send(f"/peran beri {STAFF_ID} staf disdukcapil")
    staff_uid = await internal_id(desk, STAFF_ID)
    await petugas.send("/hapusdata")
    await petugas.click("Ya, hapus")
    assert await desk.rows_of(STAFF_ID) is None
    assert desk.loket is not None
    async with desk.loket.sessions() as session:
        counts = await repo.count_rows_for_user(session, staff_uid)
        assert (await session.scalars(select(Role).where(Role.user_id == staff_uid))).all() == []
    assert counts == dict.fromkeys(counts, 0)
    grant = (await audit_rows(desk))[-1]
    assert (grant.action, grant.target) == ("role.grant", "user:-")
    assert grant.actor_user_id == await internal_id(desk, ADMIN_ID)
