"""/hapusdata from someone with an official role, through python-telegram-bot and the local
Bot API (issue 12, item 6): the confirmation says plainly what happens to the role, a staff
role goes with the data (an admin grants it again), and an admin named in ADMIN_TELEGRAM_IDS
stays an admin, without a restart, because the configuration names them."""

from __future__ import annotations

from sqlalchemy import select

from bot.staff.roles import ADMIN, Grant
from bot.storage import repo
from bot.storage.models import AuditLog
from bot.telegram.channel import CHANNEL
from tests.staff.conftest import ADMIN_ID, STAFF_ID
from tests.telegram.support import Citizen, Desk


async def roles(desk: Desk, telegram_id: int) -> set[Grant]:
    assert desk.loket is not None and desk.loket.staff is not None
    return set((await desk.loket.staff.roles_of(telegram_id)).grants)


async def internal_id(desk: Desk, telegram_id: int) -> int | None:
    assert desk.loket is not None
    async with desk.loket.sessions() as session:
        user = await repo.find_user(session, CHANNEL, str(telegram_id))
        return None if user is None else user.id


async def test_a_configured_admin_is_told_and_stays_admin(desk: Desk, admin: Citizen) -> None:
    old_id = await internal_id(desk, ADMIN_ID)
    assert old_id is not None
    await admin.send("/start")  # some data of theirs: a conversation, events
    reply = await admin.send("/hapusdata")
    assert "Yang akan dihapus" in reply.text
    assert "ADMIN_TELEGRAM_IDS" in reply.text
    assert "hak admin Anda tetap" in reply.text
    assert reply.choice_buttons == ["Ya, hapus", "Tidak"]
    reply = await admin.click("Ya, hapus")
    assert "sudah dihapus" in reply.text
    assert desk.loket is not None
    async with desk.loket.sessions() as session:
        counts = await repo.count_rows_for_user(session, old_id)
    assert counts == dict.fromkeys(counts, 0)  # their data is gone
    # ... and they are still an admin, at once: no restart, and nothing for them to do.
    assert await roles(desk, ADMIN_ID) == {Grant(ADMIN)}
    reply = await admin.send("/peran")
    assert "admin: 9001 (ADMIN_TELEGRAM_IDS)" in reply.text
    new_id = await internal_id(desk, ADMIN_ID)
    assert new_id is not None  # SQLite may give the erased id again: the audit cut it
    async with desk.loket.sessions() as session:
        audit = list(await session.scalars(select(AuditLog).order_by(AuditLog.id)))
    # Audited like the seeding at start: role.seed, no actor, the new internal id only.
    assert [(a.action, a.actor_user_id, a.target) for a in audit] == [
        ("role.seed", None, "user:-"),
        ("role.seed", None, f"user:{new_id}"),
    ]


async def test_a_staff_member_is_told_the_role_goes_with_the_data(
    desk: Desk, admin: Citizen, petugas: Citizen
) -> None:
    await admin.send(f"/peran beri {STAFF_ID} staf dinkes")
    reply = await petugas.send("/hapusdata")
    assert "Peran staf Dinkes Anda di Loket ikut dihapus" in reply.text
    assert "minta admin memberikannya lagi" in reply.text
    assert "ADMIN_TELEGRAM_IDS" not in reply.text
    await petugas.click("Ya, hapus")
    assert await roles(desk, STAFF_ID) == set()
    unknown = await petugas.send("/xyz")
    reply = await petugas.send("/umumkan")
    assert reply.text == unknown.text  # a citizen now, like any other


async def test_an_admin_granted_by_another_admin_is_told_too(
    desk: Desk, admin: Citizen, petugas: Citizen
) -> None:
    await admin.send(f"/peran beri {STAFF_ID} admin")
    reply = await petugas.send("/hapusdata")
    assert "Peran admin Anda di Loket ikut dihapus" in reply.text
    assert "minta admin memberikannya lagi" in reply.text
    await petugas.click("Ya, hapus")
    assert await roles(desk, STAFF_ID) == set()  # not named by the configuration


async def test_a_citizen_reads_nothing_about_roles(desk: Desk, warga: Citizen) -> None:
    reply = await warga.send("/hapusdata")
    assert "Yang akan dihapus" in reply.text
    assert "peran" not in reply.text.lower() and "admin" not in reply.text.lower()


async def test_in_english_too(desk: Desk, admin: Citizen) -> None:
    await admin.send("/bahasa")
    await admin.click("English")
    reply = await admin.send("/hapusdata")
    assert "ADMIN_TELEGRAM_IDS" in reply.text and "keep your admin rights" in reply.text
