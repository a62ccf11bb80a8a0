"""Roles: citizen (the default, no row), staff of one or more OPDs, admin.

Every grant and revocation is written to ``audit_log`` in the same transaction as the change:
who (the actor's internal user id), what (``role.grant`` / ``role.revoke`` / ``role.seed``),
on whom (``user:<internal id>``), when. No Telegram id or name is ever written to the audit log.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.storage import repo
from bot.storage.models import AuditLog, Role, User
from bot.storage.repo import session_now

ADMIN = "admin"
STAFF = "staff"
ROLES = (STAFF, ADMIN)
# What an admin types for a role (Indonesian first; the stored names are English).
ROLE_WORDS = {"staf": STAFF, "staff": STAFF, "petugas": STAFF, "admin": ADMIN}
TELEGRAM = "telegram"
# The OPDs staff can belong to (the agencies of regions/mimika.yaml that serve citizens).
STAFF_OPDS = ("disdukcapil", "disnakertrans", "dinkes", "bapenda")


@dataclass(frozen=True, slots=True)
class Grant:
    role: str
    opd: str | None = None

    def label(self) -> str:
        return f"staf {self.opd}" if self.role == STAFF else ADMIN


@dataclass(frozen=True, slots=True)
class RoleSet:
    """The roles of one user; empty for a citizen."""

    grants: frozenset[Grant] = frozenset()

    @property
    def is_admin(self) -> bool:
        return Grant(ADMIN) in self.grants

    def is_staff(self, opd: str | None = None) -> bool:
        """Staff of ``opd`` (of any OPD when None). Admins are not staff of an OPD by rank:
        an announcement is an act of an OPD, so an admin needs the staff role for it too."""
        return any(g.role == STAFF and (opd is None or g.opd == opd) for g in self.grants)

    @property
    def opds(self) -> list[str]:
        return sorted(g.opd for g in self.grants if g.role == STAFF and g.opd)

    @property
    def is_citizen(self) -> bool:
        return not self.grants


@dataclass(frozen=True, slots=True)
class RoleCommand:
    """A parsed ``/peran`` argument: ``list``, or ``beri``/``cabut`` a grant to a user."""

    action: str  # list | grant | revoke
    telegram_id: int | None = None
    grant: Grant | None = None


class RoleCommandError(ValueError):
    """The argument of /peran is malformed; the message is the usage to show (to admins)."""


USAGE = (
    "Pemakaian:\n"
    "/peran - daftar peran\n"
    "/peran beri <telegram_id> staf <opd>\n"
    "/peran beri <telegram_id> admin\n"
    "/peran cabut <telegram_id> staf <opd>\n"
    "/peran cabut <telegram_id> admin"
)


def parse_role_command(argument: str, opds: Iterable[str]) -> RoleCommand:
    """``""`` -> list; ``beri 123 staf dinkes`` -> grant; ``cabut 123 admin`` -> revoke."""
    words = argument.lower().split()
    if not words or words == ["daftar"]:
        return RoleCommand("list")
    known = set(opds)
    verb = {"beri": "grant", "tambah": "grant", "cabut": "revoke", "hapus": "revoke"}.get(words[0])
    if verb is None or len(words) < 3:
        raise RoleCommandError(USAGE)
    if not words[1].isdecimal():
        raise RoleCommandError("telegram_id harus berupa angka.\n\n" + USAGE)
    role = ROLE_WORDS.get(words[2])
    if role is None:
        raise RoleCommandError(f"Peran tidak dikenal: {words[2]}.\n\n" + USAGE)
    if role == ADMIN:
        if len(words) != 3:
            raise RoleCommandError(USAGE)
        return RoleCommand(verb, int(words[1]), Grant(ADMIN))
    if len(words) != 4 or words[3] not in known:
        raise RoleCommandError("OPD yang dikenal: " + ", ".join(sorted(known)) + ".\n\n" + USAGE)
    return RoleCommand(verb, int(words[1]), Grant(STAFF, words[3]))


# -- storage -----------------------------------------------------------------------------------


async def roles_of(session: AsyncSession, user_id: int) -> RoleSet:
    rows = await session.execute(select(Role.role, Role.opd).where(Role.user_id == user_id))
    return RoleSet(frozenset(Grant(role, opd) for role, opd in rows))


async def audit(
    session: AsyncSession,
    actor_user_id: int | None,
    action: str,
    target: str | None,
    detail: dict[str, object],
    *,
    at: dt.datetime | None = None,
) -> None:
    """Appends one audit row (call inside the transaction of the act itself)."""
    session.add(
        AuditLog(
            actor_user_id=actor_user_id,
            action=action,
            target=target,
            detail=dict(detail),
            at=at or session_now(session),
        )
    )


async def _find(session: AsyncSession, user_id: int, grant: Grant) -> Role | None:
    opd = Role.opd.is_(None) if grant.opd is None else Role.opd == grant.opd
    return await session.scalar(
        select(Role).where(Role.user_id == user_id, Role.role == grant.role, opd)
    )


async def grant_role(
    session: AsyncSession, actor_user_id: int | None, user_id: int, grant: Grant, *, action: str
) -> bool:
    """Gives ``grant`` to ``user_id`` and audits it; False (nothing written) if held already."""
    if await _find(session, user_id, grant) is not None:
        return False
    session.add(Role(user_id=user_id, role=grant.role, opd=grant.opd, granted_by=actor_user_id))
    await audit(
        session,
        actor_user_id,
        action,
        repo.audit_target(user_id),
        {"role": grant.role, "opd": grant.opd},
    )
    await session.flush()
    return True


async def revoke_role(
    session: AsyncSession,
    actor_user_id: int | None,
    user_id: int,
    grant: Grant,
    *,
    detail: dict[str, object] | None = None,
) -> bool:
    """Takes ``grant`` from ``user_id`` and audits it; False (nothing written) if not held."""
    row = await _find(session, user_id, grant)
    if row is None:
        return False
    await session.execute(delete(Role).where(Role.id == row.id))
    await audit(
        session,
        actor_user_id,
        "role.revoke",
        repo.audit_target(user_id),
        {"role": grant.role, "opd": grant.opd, **(detail or {})},
    )
    return True


@dataclass(frozen=True, slots=True)
class ErasureEffect:
    """What /hapusdata does to one person's official roles, for the confirmation they read
    before erasing (issue 12): ``lost`` goes with their data and must be granted again by an
    admin; ``kept_admin`` is true for an admin named in ADMIN_TELEGRAM_IDS, who stays one."""

    lost: tuple[Grant, ...] = ()
    kept_admin: bool = False

    @property
    def is_citizen(self) -> bool:
        return not self.lost and not self.kept_admin


async def erasure_effect(session: AsyncSession, user_id: int) -> ErasureEffect:
    """The roles ``user_id`` loses by erasing their data. The admin role seeded from the
    configuration (``granted_by`` NULL: seed_admins keeps exactly the listed ids so at every
    start) is not lost: the configuration still names them and the role comes back at once."""
    rows = await session.execute(
        select(Role.role, Role.opd, Role.granted_by).where(Role.user_id == user_id)
    )
    lost: list[Grant] = []
    kept_admin = False
    for role, opd, granted_by in rows:
        if role == ADMIN and granted_by is None:
            kept_admin = True
        else:
            lost.append(Grant(role, opd))
    if kept_admin:  # a configured admin granted admin by someone else too: still one role
        lost = [g for g in lost if g.role != ADMIN]
    return ErasureEffect(tuple(sorted(lost, key=lambda g: (g.role, g.opd or ""))), kept_admin)


@dataclass(frozen=True, slots=True)
class Holder:
    telegram_id: str
    grant: Grant
    granted_at: dt.datetime
    seeded: bool


async def list_roles(session: AsyncSession) -> list[Holder]:
    rows = await session.execute(
        select(User.external_id, Role.role, Role.opd, Role.granted_at, Role.granted_by)
        .join(User, User.id == Role.user_id)
        .where(User.channel == TELEGRAM)
        .order_by(Role.role, Role.opd, User.external_id)
    )
    return [
        Holder(ext, Grant(role, opd), at, granted_by is None)
        for ext, role, opd, at, granted_by in rows
    ]


class StaffDesk:
    """Role checks and role changes for one channel's users (Telegram), on their own
    transactions: staff commands never go through the citizens' front desk."""

    def __init__(self, sessions: async_sessionmaker[AsyncSession], opds: Sequence[str]) -> None:
        self.sessions = sessions
        self.opds = tuple(opds)
        # The Telegram ids of ADMIN_TELEGRAM_IDS (seed_admins). An admin named there who
        # erases their data (/hapusdata) loses the stored role with the rest; the next role
        # check gives it back (audited role.seed), so the configuration, not a restart,
        # decides who is an admin (issue 12).
        self.configured_admins: frozenset[str] = frozenset()

    async def _regain(self, telegram_id: int | str) -> None:
        """Re-seeds the admin role of a configured admin who no longer holds it."""
        if str(telegram_id) not in self.configured_admins:
            return
        async with self.sessions() as session:
            user = await repo.find_user(session, TELEGRAM, str(telegram_id))
            if user is not None and (await roles_of(session, user.id)).is_admin:
                return
        async with self.sessions() as session, session.begin():
            user, _ = await repo.get_or_create_user(session, TELEGRAM, str(telegram_id), "id")
            await grant_role(session, None, user.id, Grant(ADMIN), action="role.seed")

    async def roles_of(self, telegram_id: int | str) -> RoleSet:
        await self._regain(telegram_id)
        async with self.sessions() as session:
            user = await repo.find_user(session, TELEGRAM, str(telegram_id))
            return RoleSet() if user is None else await roles_of(session, user.id)

    async def actor(self, telegram_id: int | str) -> tuple[int, RoleSet] | None:
        """The internal user id and roles of someone with a role; None for a citizen."""
        await self._regain(telegram_id)
        async with self.sessions() as session:
            user = await repo.find_user(session, TELEGRAM, str(telegram_id))
            if user is None:
                return None
            roles = await roles_of(session, user.id)
            return None if roles.is_citizen else (user.id, roles)

    async def is_admin(self, telegram_id: int | str) -> bool:
        return (await self.roles_of(telegram_id)).is_admin

    async def is_staff(self, telegram_id: int | str, opd: str | None = None) -> bool:
        return (await self.roles_of(telegram_id)).is_staff(opd)

    async def change(self, actor_telegram_id: int, command: RoleCommand) -> bool:
        """Applies a grant/revoke by an admin (checked again inside the transaction).
        Returns whether anything changed. Raises PermissionError for a non-admin."""
        assert command.grant is not None and command.telegram_id is not None
        async with self.sessions() as session, session.begin():
            actor = await repo.find_user(session, TELEGRAM, str(actor_telegram_id))
            if actor is None or not (await roles_of(session, actor.id)).is_admin:
                raise PermissionError("not an admin")
            if command.action == "grant":
                target, _ = await repo.get_or_create_user(
                    session, TELEGRAM, str(command.telegram_id), "id"
                )
                return await grant_role(
                    session, actor.id, target.id, command.grant, action="role.grant"
                )
            found = await repo.find_user(session, TELEGRAM, str(command.telegram_id))
            if found is None:
                return False
            return await revoke_role(session, actor.id, found.id, command.grant)

    async def list_roles(self) -> list[Holder]:
        for telegram_id in sorted(self.configured_admins):
            await self._regain(telegram_id)
        async with self.sessions() as session:
            return await list_roles(session)

    async def seed_admins(self, telegram_ids: Iterable[int]) -> None:
        """Makes every id of ADMIN_TELEGRAM_IDS an admin (audited as ``role.seed``, actor
        NULL) and takes the seeded admin role from ids no longer listed."""
        wanted = {str(i) for i in telegram_ids}
        self.configured_admins = frozenset(wanted)
        async with self.sessions() as session, session.begin():
            for telegram_id in sorted(wanted):
                user, _ = await repo.get_or_create_user(session, TELEGRAM, telegram_id, "id")
                await grant_role(session, None, user.id, Grant(ADMIN), action="role.seed")
            seeded = await session.execute(
                select(Role.user_id, User.external_id)
                .join(User, User.id == Role.user_id)
                .where(Role.role == ADMIN, Role.granted_by.is_(None), User.channel == TELEGRAM)
            )
            for user_id, external_id in list(seeded):
                if external_id not in wanted:
                    await revoke_role(
                        session, None, user_id, Grant(ADMIN), detail={"source": "env"}
                    )
