"""The front desk: one citizen event in, replies out, the outcome stored before replying.

Channels call ``FrontDesk.handle``. It loads the citizen's state, runs the engine, then applies
the engine's effects and stores the new state in one transaction before returning, so a crash
or restart right after a reply never loses or repeats a step. Events of one citizen are
handled one at a time.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import weakref
from collections.abc import Callable

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.engine.engine import Engine, Turn
from bot.engine.messages import Inbound, Outbound
from bot.engine.state import ConversationState
from bot.i18n import normalise_locale
from bot.privacy import mask_identifiers
from bot.storage import repo

logger = logging.getLogger(__name__)
Clock = Callable[[], dt.datetime]

def system_clock() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


class FrontDesk:
    """Owns the per-citizen order of events and the transaction around each one."""

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        engine: Callable[[], Engine],
        *,
        clock: Clock = system_clock,
    ) -> None:
        self._sessions = sessions
        self._engine = engine  # a callable: the published flow set may change at run time
        self._clock = clock
        self._locks: weakref.WeakValueDictionary[tuple[str, str], asyncio.Lock] = (
            weakref.WeakValueDictionary()
        )

    def _lock(self, key: tuple[str, str]) -> asyncio.Lock:
        lock = self._locks.get(key)
        if lock is None:
            lock = asyncio.Lock()
            self._locks[key] = lock
        return lock

    async def handle(
        self, channel: str, external_id: str, event: Inbound
    ) -> list[Outbound]:
        lock = self._lock((channel, external_id))
        async with lock:
            return await self._handle(channel, external_id, event)

    async def _handle(self, channel: str, external_id: str, event: Inbound) -> list[Outbound]:
        """Read, think, write: two short transactions around the engine, none during it.

        The engine may wait seconds for an agency's system; holding a transaction (on SQLite,
        the database's single write lock) meanwhile would make every other citizen wait for
        that agency too. The citizen's lock keeps their own events in order in between.
        """
        engine = self._engine()
        now = self._clock()
        async with self._sessions() as session, session.begin():
            user, _created = await repo.get_or_create_user(
                session, channel, external_id, normalise_locale(event.language_hint)
            )
            user_id, locale = user.id, user.locale
            state = await repo.load_state(session, user_id) or ConversationState(locale=locale)
        state.locale = locale
        turn = await engine.handle(state, event, now=now, user_id=str(user_id))
        async with self._sessions() as session, session.begin():
            erased = await self._apply(session, user_id, turn, engine)
            if not erased:
                await repo.touch_user(session, user_id, locale=turn.state.locale, at=now)
                await repo.save_state(session, user_id, turn.state)
                await repo.append_events(
                    session, user_id, turn.transitions,
                    flow_version=turn.state.flow_version, intent=turn.state.intent, at=now,
                )
        return turn.messages

    async def _apply(self, session: AsyncSession, user_id: int, turn: Turn, engine: Engine) -> bool:
        """Applies the turn's effects; True when the citizen's data was erased."""
        for effect in turn.effects:
            data = effect.data
            if effect.kind == "record_unmatched":
                await repo.record_unmatched(session, user_id, mask_identifiers(str(data["text"])), str(data["locale"]))
            elif effect.kind == "record_request":
                await repo.record_request(
                    session, user_id, reference=str(data["reference"]), kind=str(data["kind"]),
                    opd=data.get("opd"), intent=data.get("intent"),
                    message=mask_identifiers(str(data.get("message", ""))),
                )
            elif effect.kind == "save_subscription":
                await repo.save_subscription(session, user_id, str(data["district"]), list(data["topics"]))
            elif effect.kind == "set_locale":
                pass  # stored with the user below
            elif effect.kind == "erase_user_data":
                await repo.erase_user(session, user_id)
                logger.info("erased the data of user %s on request", user_id)
                return True
            else:
                logger.error("unknown effect %s", effect.kind)
        return False

    async def notify(self, channel: str, external_id: str, message: Outbound) -> bool:
        """Prepares a message the citizen did not ask for (a status notification) before it
        is sent: its buttons become valid answers, next to those of the last reply.

        An expired conversation is closed first, silently, so pressing the button later is
        not refused as stale. Returns False when the citizen is no longer known (erased).
        """
        payloads = [button.payload for button in message.flat_buttons]
        lock = self._lock((channel, external_id))
        async with lock, self._sessions() as session, session.begin():
            user = await repo.find_user(session, channel, external_id)
            if user is None:
                return False
            if not payloads:
                return True
            now = self._clock()
            state = await repo.load_state(session, user.id)
            state = state or ConversationState(locale=user.locale)
            expired = state.expires_at is not None and now >= state.expires_at
            if expired and (state.step or state.context):
                state.reset()
            state.offered = [*state.offered, *(p for p in payloads if p not in state.offered)]
            await repo.save_state(session, user.id, state)
        return True
