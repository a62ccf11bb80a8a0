"""One-time sign-in links and browser sessions for the console.

Why links from the bot instead of passwords: staff already prove who they are by writing
from their Telegram account, and nobody has to remember (or leak) one more password. A link
works once and only for minutes; a session lives in an HttpOnly, SameSite=Strict cookie and
expires. Only SHA-256 digests of the link token and of the cookie are stored, so a copy of the
database signs nobody in. Every form carries the session's CSRF token (``Session.csrf``).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy import delete, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.staff.roles import RoleSet, roles_of
from bot.storage.models import ConsoleLoginToken, ConsoleSession, utcnow
from bot.storage.repo import as_utc

LINK_LIFETIME = dt.timedelta(minutes=10)
SESSION_LIFETIME = dt.timedelta(hours=8)


def digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


@dataclass(frozen=True, slots=True)
class Session:
    """A signed-in person: internal user id, roles (read at sign-in time and on each
    request), the CSRF token their forms must carry, and the cookie's digest."""

    user_id: int
    roles: RoleSet
    csrf: str
    key: str


class ConsoleAuth:
    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        *,
        clock: Callable[[], dt.datetime] = utcnow,
        link_lifetime: dt.timedelta = LINK_LIFETIME,
        session_lifetime: dt.timedelta = SESSION_LIFETIME,
    ) -> None:
        self.sessions = sessions
        self.clock = clock
        self.link_lifetime = link_lifetime
        self.session_lifetime = session_lifetime

    async def issue_link_token(self, user_id: int) -> str:
        """A fresh single-use token for ``user_id``; the caller builds the link from it."""
        token = secrets.token_urlsafe(32)
        now = self.clock()
        async with self.sessions() as session, session.begin():
            # Old unused links of anyone are cleared as we go; nothing else needs them.
            await session.execute(
                delete(ConsoleLoginToken).where(ConsoleLoginToken.expires_at < now)
            )
            session.add(
                ConsoleLoginToken(
                    token_hash=digest(token),
                    user_id=user_id,
                    created_at=now,
                    expires_at=now + self.link_lifetime,
                )
            )
        return token

    async def redeem(self, token: str) -> tuple[str, Session] | None:
        """Uses a link token (once) and opens a session: (cookie value, session), or None.

        The single use is one conditional UPDATE, so two browsers racing with the same link
        cannot both win. The roles are checked again: a revoked staff member's link is dead.
        """
        now = self.clock()
        async with self.sessions() as session, session.begin():
            claimed = await session.execute(
                update(ConsoleLoginToken)
                .where(
                    ConsoleLoginToken.token_hash == digest(token),
                    ConsoleLoginToken.used_at.is_(None),
                    ConsoleLoginToken.expires_at > now,
                )
                .values(used_at=now)
                .returning(ConsoleLoginToken.user_id)
            )
            user_id = claimed.scalar_one_or_none()
            if user_id is None:
                return None
            roles = await roles_of(session, user_id)
            if roles.is_citizen:
                return None
            cookie, csrf = secrets.token_urlsafe(32), secrets.token_urlsafe(32)
            session.add(
                ConsoleSession(
                    session_hash=digest(cookie),
                    user_id=user_id,
                    csrf=csrf,
                    created_at=now,
                    expires_at=now + self.session_lifetime,
                )
            )
        return cookie, Session(user_id, roles, csrf, digest(cookie))

    async def session_of(self, cookie: str | None) -> Session | None:
        """The live session of a cookie with the person's current roles; None if expired,
        unknown, or the person no longer has any role."""
        if not cookie:
            return None
        async with self.sessions() as session:
            row = await session.get(ConsoleSession, digest(cookie))
            if row is None or as_utc(row.expires_at) <= self.clock():
                return None
            roles = await roles_of(session, row.user_id)
            if roles.is_citizen:
                return None
            return Session(row.user_id, roles, row.csrf, row.session_hash)

    async def end(self, key: str) -> None:
        async with self.sessions() as session, session.begin():
            await session.execute(delete(ConsoleSession).where(ConsoleSession.session_hash == key))
